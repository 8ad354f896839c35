"""The notice-period read budget: a leaver paging through lists instead of exporting.

Staff in their notice period cannot export, but a rep who pages `/api/v1/customers/?page=N`
or the message list walks off with the same rows. Every read they make is already an access
event (flagged, with `row_count`); after each one the rows of the last hour are summed:

- over SCRM_NOTICE_READS_ALERT_PER_HOUR a security alert is raised (one per hour);
- over SCRM_NOTICE_READS_BLOCK_PER_HOUR a `ReadBlock` opens: every list read (API lists,
  chat search, timelines, admin changelists) is refused with `reads_blocked` until a security
  officer releases it (`release_read_block`). Single records (a detail, a reveal) stay open:
  the leaver still works their customers.

The budget counts every allowed read the person makes (lists, searches, timelines, details),
so switching from paging to walking detail pages does not reset it. The hour restarts at a
release, so the rows read before it do not block again at once. Only staff in notice are
counted and checked: for everyone else the guard costs nothing (no query).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from scrm.audit.models import AccessEvent, ReadBlock, SecurityAlert
from scrm.masking.detectors import mask_text
from scrm.product_language import product_text
from scrm.staff import roles
from scrm.staff.types import Actor

ALERT_KIND = "notice_bulk_reads"
BLOCK_KIND = "notice_reads_blocked"
NOTICE = "notice"


class ReadsBlocked(PermissionDenied):
    """Raised by `refuse_blocked_reads`; the API answers 403 `reads_blocked`."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Your list reads are blocked: you read more records in an hour than your notice "
                "period allows. A security officer has been alerted and can release the block."
            )
        )


def _window_start(staff_id: int) -> datetime:
    """The last hour, or since the latest release if that is nearer."""
    hour_ago = timezone.now() - timedelta(hours=1)
    released: datetime | None = ReadBlock.objects.filter(staff_id=staff_id).aggregate(
        at=Max("released_at")
    )["at"]
    return max(hour_ago, released) if released else hour_ago


def rows_read(staff_id: int, since: datetime) -> int:
    """Rows this person's flagged, allowed reads showed since `since` (index actor, -at)."""
    total: int | None = AccessEvent.objects.filter(
        actor_id=staff_id, flagged=True, allowed=True, at__gte=since
    ).aggregate(rows=Sum("row_count"))["rows"]
    return total or 0


def _alert(staff: Actor, kind: str, severity: str, message: str) -> SecurityAlert:
    # raise_alert's fields, written here: scrm.audit.services imports this module.
    return SecurityAlert.objects.create(
        kind=kind,
        severity=severity,
        actor=staff,
        message=message,
        model=staff._meta.label_lower,
        object_id=staff.pk,
    )


def watch_notice_reads(event: AccessEvent) -> None:
    """After a flagged read: alert (once an hour) and block when the budget is spent."""
    if event.actor_id is None:  # an anonymous attempt is never flagged: no budget to count
        return
    alert_at = settings.SCRM_NOTICE_READS_ALERT_PER_HOUR
    block_at = settings.SCRM_NOTICE_READS_BLOCK_PER_HOUR
    since = _window_start(event.actor_id)
    rows = rows_read(event.actor_id, since)
    if rows <= min(alert_at, block_at):
        return
    staff = event.actor
    if staff is None:  # known from actor_id above; says so to the type checker
        return
    with transaction.atomic():
        # Serialises the person's concurrent reads so two requests raise one alert, one block.
        get_user_model().objects.select_for_update().filter(pk=staff.pk).first()
        if (
            rows > alert_at
            and not SecurityAlert.objects.filter(
                kind=ALERT_KIND, actor_id=staff.pk, created_at__gte=since
            ).exists()
        ):
            _alert(
                staff,
                ALERT_KIND,
                SecurityAlert.Severity.MEDIUM,
                product_text(
                    gettext_noop(
                        "%(name)s (notice period) read %(rows)s records in the last hour "
                        "through lists (alert threshold %(limit)s)."
                    ),
                    name=staff.display_name,
                    rows=rows,
                    limit=alert_at,
                ),
            )
        if (
            rows > block_at
            and not ReadBlock.objects.filter(staff_id=staff.pk, released_at__isnull=True).exists()
        ):
            ReadBlock.objects.create(staff=staff, rows=rows)
            _alert(
                staff,
                BLOCK_KIND,
                SecurityAlert.Severity.HIGH,
                product_text(
                    gettext_noop(
                        "%(name)s (notice period) read %(rows)s records in the last hour "
                        "(block threshold %(limit)s): list reads are blocked until a security "
                        "officer releases them."
                    ),
                    name=staff.display_name,
                    rows=rows,
                    limit=block_at,
                ),
            )


def may_release_read_blocks(user: Actor) -> bool:
    """Security officers only: not administrators (separation of duties), no superuser bypass."""
    return bool(user.is_active and roles.SECURITY_OFFICER in user.role_names)


@transaction.atomic
def release_read_block(*, actor: Actor, staff: Actor, reason: str) -> ReadBlock:
    """A security officer lets a blocked leaver read lists again; the hour restarts now.

    Raises PermissionDenied unless the actor is an active security officer other than the
    blocked person; ValidationError without a reason or when nothing is blocked.
    """
    if not may_release_read_blocks(actor):
        raise PermissionDenied(_("Only a security officer may release a read block."))
    if actor.pk == staff.pk:
        raise PermissionDenied(_("Nobody may release their own read block."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the block is released.")})
    block = (
        ReadBlock.objects.select_for_update().filter(staff=staff, released_at__isnull=True).first()
    )
    if block is None:
        raise ValidationError(
            {
                "staff": _("The list reads of %(username)s are not blocked.")
                % {"username": staff.username}
            }
        )
    block.released_at, block.released_by = timezone.now(), actor
    block.release_reason = mask_text(reason)
    block.save(update_fields=["released_at", "released_by", "release_reason"])
    return block

"""Revealing one raw value: a deliberate, reasoned, rate-limited and audited act."""

import math
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from scrm.access.scope import REVEAL, can
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.audit.services import raise_alert, record_access
from scrm.masking.policy import SENSITIVE_FIELDS, field_label, reveal_permission
from scrm.product_language import product_text
from scrm.staff.types import Actor, Viewer
from scrm.types import Text


class RevealLimitExceeded(Exception):
    """The actor used up their reveals for the hour; a security alert was raised.
    `retry_after`: seconds until the oldest reveal of the hour leaves the window."""

    def __init__(self, retry_after: int = 3600) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def can_reveal(user: Viewer, obj: Model, field: str) -> bool:
    if field not in SENSITIVE_FIELDS or not user.has_perm(reveal_permission(field)):
        return False
    if getattr(user, "employment_status", "active") != "active":
        return False  # staff in their notice period keep working but may not reveal
    return can(user, REVEAL, obj)


def _reveals_in_last_hour(user: Actor) -> QuerySet[AccessEvent]:
    since = timezone.now() - timedelta(hours=1)
    return AccessEvent.objects.filter(
        actor=user, action=AccessAction.REVEAL, allowed=True, at__gte=since
    )


def reveals_in_last_hour(user: Actor) -> int:
    return _reveals_in_last_hour(user).count()


def seconds_until_window_frees(events: QuerySet[AccessEvent]) -> int:
    """Seconds until the oldest of these events (of the last hour) leaves the hour: when the
    budget has room again. At least 1."""
    oldest = events.order_by("at").values_list("at", flat=True).first()
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + timedelta(hours=1) - timezone.now()).total_seconds()))


def _alert_once_an_hour(actor: Actor, obj: Model, field: str) -> None:
    # Repeated attempts past the limit are all in the access events; one alert is enough.
    if SecurityAlert.objects.filter(
        kind="reveal_rate_limit", actor=actor, created_at__gte=timezone.now() - timedelta(hours=1)
    ).exists():
        return
    raise_alert(
        kind="reveal_rate_limit",
        severity=SecurityAlert.Severity.HIGH,
        actor=actor,
        obj=obj,
        message=product_text(
            gettext_noop("%(name)s exceeded %(limit)s reveals per hour (field %(field)s)."),
            name=actor.display_name,
            limit=settings.SCRM_REVEAL_LIMIT_PER_HOUR,
            field=field_label(field),
        ),
    )


def reveal_field(
    *,
    actor: Actor,
    obj: Model,
    field: str,
    reason: str,
    channel: str,
    request: HttpRequest | None = None,
) -> str:
    """Return the raw value of `field` on `obj` and record the reveal with its reason.

    Raises ValidationError (unknown field, no reason), PermissionDenied (no right: recorded as
    a denied attempt) or RevealLimitExceeded (recorded, and a security alert is raised).
    """
    reason = (reason or "").strip()
    errors: dict[str, Text] = {}
    if field not in SENSITIVE_FIELDS:
        errors["field"] = _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(SENSITIVE_FIELDS)
        }
    if not reason:
        errors["reason"] = _("Say why you need to see this value.")
    if errors:
        raise ValidationError(errors)
    audit = partial(
        record_access,
        actor=actor,
        model=type(obj),
        object_ids=[obj.pk],
        channel=channel,
        request=request,
        fields=[field],
        reason=reason[:1000],
    )
    if not can_reveal(actor, obj, field):
        audit(action=AccessAction.DENIED, allowed=False, query={"attempt": "reveal"})
        raise PermissionDenied(_("You may not reveal this field."))
    with transaction.atomic():
        # Serialise concurrent reveals of one user so the hourly limit cannot be raced past.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        over_limit = reveals_in_last_hour(actor) >= settings.SCRM_REVEAL_LIMIT_PER_HOUR
        if over_limit:
            audit(
                action=AccessAction.DENIED,
                allowed=False,
                query={"attempt": "reveal", "limit": 1},
            )
            _alert_once_an_hour(actor, obj, field)
        else:
            audit(action=AccessAction.REVEAL)
    # Raised after the block so the denial and the alert are committed, not rolled back.
    if over_limit:
        raise RevealLimitExceeded(seconds_until_window_frees(_reveals_in_last_hour(actor)))
    value: str = getattr(obj, field)  # a SENSITIVE_FIELDS name: a text field of the subject
    return value

from collections.abc import Sequence

from django.db.models import Model
from django.http import HttpRequest

from scrm.audit.models import AccessAction, AccessEvent, Channel, ReadBlock, SecurityAlert
from scrm.audit.read_budget import NOTICE, ReadsBlocked, watch_notice_reads
from scrm.client_ip import client_ip
from scrm.masking.detectors import mask_text
from scrm.masking.policy import mask_query
from scrm.staff.models import Staff
from scrm.staff.types import Actor, Viewer


def _client(request: HttpRequest | None) -> tuple[str | None, str, str]:
    if request is None:
        return None, "", ""
    meta = request.META
    return (
        client_ip(request),
        meta.get("HTTP_USER_AGENT", "")[:300],
        request.path[:300],
    )


def _model_label(model: type[Model] | str) -> str:
    return model if isinstance(model, str) else model._meta.label_lower


def record_access(
    *,
    actor: Viewer | None,
    action: AccessAction | str,
    model: type[Model] | str,
    object_ids: Sequence[int] = (),
    channel: Channel | str,
    request: HttpRequest | None = None,
    fields: Sequence[str] = (),
    query: dict[str, object] | None = None,
    reason: str = "",
    allowed: bool = True,
    row_count: int | None = None,
) -> AccessEvent:
    """Write one access event for one read (a list is one event with every id it showed).

    Query parameters are stored through the masking policy, so a `?mobile=` never lands raw;
    the free-text reason goes through the content detectors (people paste numbers into it).
    `row_count` (default: the number of ids) feeds the notice-period read budget.
    """
    ip, user_agent, path = _client(request)
    user = actor if isinstance(actor, Staff) and actor.is_authenticated else None
    event = AccessEvent.objects.create(
        actor=user,
        action=action,
        model=_model_label(model),
        object_ids=[int(pk) for pk in object_ids],
        channel=channel,
        fields=list(fields),
        query=mask_query(query or {}, viewer=user),
        reason=mask_text(reason),
        allowed=allowed,
        flagged=bool(user and user.employment_status == "notice"),
        row_count=len(object_ids) if row_count is None else row_count,
        ip=ip,
        user_agent=user_agent,
        path=path,
    )
    if event.flagged and event.allowed:
        watch_notice_reads(event)
    return event


def raise_alert(
    *,
    kind: str,
    message: str,
    actor: Actor | None = None,
    severity: str = SecurityAlert.Severity.MEDIUM,
    obj: Model | None = None,
) -> SecurityAlert:
    return SecurityAlert.objects.create(
        kind=kind,
        message=message,
        actor=actor,
        severity=severity,
        model=obj._meta.label_lower if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
    )


def refuse_blocked_reads(
    *,
    user: Viewer,
    model: type[Model] | str,
    channel: str,
    request: HttpRequest | None = None,
) -> None:
    """Before a list read: raise ReadsBlocked (recorded as a denied attempt) if the user's list
    reads are blocked. No query for anyone not in their notice period."""
    if not isinstance(user, Staff) or user.employment_status != NOTICE:  # anonymous: no notice
        return
    if not ReadBlock.objects.filter(staff_id=user.pk, released_at__isnull=True).exists():
        return
    record_access(
        actor=user,
        action=AccessAction.DENIED,
        model=model,
        channel=channel,
        request=request,
        allowed=False,
        query={"attempt": "list", "refused": "reads_blocked"},
    )
    raise ReadsBlocked()

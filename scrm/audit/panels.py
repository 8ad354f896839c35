"""The home panels of auditors and security officers: open alerts, today's reveals and exports,
reads flagged for review. Each links to the audit list filtered to what it counts.

Reading audit rows is recorded like any other read (scrm.audit.admin): a panel listing alerts
or events records one list event with their ids; a panel of counts records one without ids.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from scrm.audit.links import model_name
from scrm.audit.models import AccessAction, AccessEvent, Channel, SecurityAlert
from scrm.audit.services import record_access
from scrm.masking.detectors import mask_text
from scrm.staff import roles
from scrm.staff.types import Viewer

RECENT = 5
FLAGGED_DAYS = 7
AUDIT_ROLES = frozenset({roles.AUDITOR, roles.SECURITY_OFFICER})


def audits(user: Viewer) -> bool:
    return user.is_active and bool(AUDIT_ROLES & user.role_names)


def _record(request: HttpRequest, model: type[Model], ids: Sequence[int], panel: str) -> None:
    record_access(
        actor=request.user,
        action=AccessAction.LIST,
        model=model,
        object_ids=ids,
        channel=Channel.ADMIN,
        request=request,
        query={"view": "home", "panel": panel},
    )


def _today_start() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _events_url(**params: str | int) -> str:
    return f"{reverse('admin:audit_accessevent_changelist')}?{urlencode(params)}"


def _today_params() -> dict[str, int]:
    # The access-event list's date drill-down (date_hierarchy on `at`, local time).
    today = timezone.localdate()
    return {"at__year": today.year, "at__month": today.month, "at__day": today.day}


def open_alerts_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not audits(user) or not user.has_perm("audit.view_securityalert"):
        return None
    open_alerts = SecurityAlert.objects.filter(acknowledged_at__isnull=True)
    latest = list(open_alerts.select_related("actor").order_by("-created_at", "-id")[:RECENT])
    _record(request, SecurityAlert, [a.pk for a in latest], "open_alerts")
    url = reverse("admin:audit_securityalert_changelist")
    return {
        "count": open_alerts.count(),
        "rows": [
            {
                "at": alert.created_at,
                "severity": alert.get_severity_display(),
                "kind": alert.kind_label,
                "actor": alert.actor.display_name if alert.actor else "-",
                "message": mask_text(alert.message)[:80],
                "url": reverse("admin:audit_securityalert_change", args=[alert.pk]),
            }
            for alert in latest
        ],
        "list_url": f"{url}?{urlencode({'acknowledged_at__isempty': 1})}",
    }


def reveals_exports_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not audits(user) or not user.has_perm("audit.view_accessevent"):
        return None
    # Counted before this panel's own event is written, so it never counts itself.
    today = AccessEvent.objects.filter(at__gte=_today_start())
    reveals = today.filter(action=AccessAction.REVEAL).count()
    exports = today.filter(action=AccessAction.EXPORT).count()
    _record(request, AccessEvent, [], "reveals_exports")
    return {
        "reveals": reveals,
        "exports": exports,
        "reveals_url": _events_url(action__exact=AccessAction.REVEAL, **_today_params()),
        "exports_url": _events_url(action__exact=AccessAction.EXPORT, **_today_params()),
    }


def flagged_reads_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not audits(user) or not user.has_perm("audit.view_accessevent"):
        return None
    since = timezone.now() - timedelta(days=FLAGGED_DAYS)
    flagged = AccessEvent.objects.filter(flagged=True, at__gte=since)
    latest = list(flagged.select_related("actor").order_by("-at", "-id")[:RECENT])
    count = flagged.count()
    _record(request, AccessEvent, [e.pk for e in latest], "flagged_reads")
    return {
        "count": count,
        "days": FLAGGED_DAYS,
        "rows": [
            {
                "at": event.at,
                "actor": event.actor.display_name if event.actor else "-",
                "action": event.get_action_display(),
                "model": model_name(event.model),
                "rows": event.row_count,
                "url": reverse("admin:audit_accessevent_change", args=[event.pk]),
            }
            for event in latest
        ],
        "list_url": _events_url(flagged__exact=1),
    }

"""The offboarding panels of the admin home (scrm.dashboard): what waits for this viewer."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse

from offboarding.models import OffboardingCase
from scrm.staff import roles
from scrm.staff.models import Notification

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

CASES = "admin:offboarding_offboardingcase_changelist"
UNREAD_SHOWN = 8


def awaiting_approval(user: "Viewer") -> QuerySet:
    """Drafts this user may approve (services.may_approve as a query): the approver recorded on
    the case, or a sales manager above the leaver or that approver; never creator or leaver."""
    if not (user.is_authenticated and user.is_active):
        return OffboardingCase.objects.none()
    q = Q(approver_id=user.pk)
    if roles.SALES_MANAGER in user.role_names and user.department is not None:
        tree = user.department.descendant_ids()
        q |= Q(leaver__department_id__in=tree) | Q(approver__department_id__in=tree)
    return (
        OffboardingCase.objects.filter(q, status=OffboardingCase.Status.DRAFT)
        .exclude(created_by_id=user.pk)
        .exclude(leaver_id=user.pk)
    )


def _runs_cases(user: "Viewer") -> bool:
    return user.has_perm("offboarding.run_offboardingcase")


def approvals_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.has_perm("offboarding.view_offboardingcase") or _runs_cases(user):
        return None  # HR opens cases and never approves them
    count = awaiting_approval(user).count()
    return {"count": count, "url": reverse(CASES) + "?awaiting=me"}


def cases_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not _runs_cases(request.user):
        return None
    counts = dict(
        OffboardingCase.objects.visible_to(request.user)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    base = reverse(CASES)
    rows = [
        {"label": label, "count": counts.get(value, 0), "url": f"{base}?status__exact={value}"}
        for value, label in OffboardingCase.Status.choices
    ]
    return {"rows": rows, "url": base, "add_url": reverse("admin:offboarding_offboardingcase_add")}


def notice_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Staff in their notice period, with the status of their latest case (or none yet)."""
    if not _runs_cases(request.user):
        return None
    Staff = get_user_model()
    people = list(Staff.objects.filter(employment_status="notice").order_by("notice_date")[:50])
    latest: dict[int, OffboardingCase] = {}
    cases = OffboardingCase.objects.visible_to(request.user).filter(leaver__in=people)
    for case in cases.order_by("created_at"):
        latest[case.leaver_id] = case
    rows = []
    for person in people:
        case = latest.get(person.pk)
        rows.append(
            {
                "name": person.display_name,
                "notice_date": person.notice_date,
                "case": case,
                "url": reverse("admin:offboarding_offboardingcase_change", args=[case.pk])
                if case
                else reverse("admin:offboarding_offboardingcase_add") + f"?leaver={person.pk}",
            }
        )
    return {"rows": rows}


def notifications_panel(request: HttpRequest) -> dict[str, Any] | None:
    unread = Notification.objects.filter(recipient_id=request.user.pk, read_at__isnull=True)
    count = unread.count()
    if not count:
        return None
    shown = [
        {
            "title": note.title,
            "body": note.body,
            "created_at": note.created_at,
            "url": reverse("admin:staff_notification_open", args=[note.pk]),
        }
        for note in unread.order_by("-created_at")[:UNREAD_SHOWN]
    ]
    return {
        "count": count,
        "items": shown,
        "all_url": reverse("admin:staff_notification_changelist"),
    }

"""Sales figures for the dashboard page and the home panels, always over the viewer's scope.

Every figure starts from `Customer.objects.visible_to(viewer, LIST)` (scrm.access, the one
door): a rep's home never counts another rep's customers, a lead's never another team's. Each
panel that shows customer rows records one list access event with the ids it showed, as a
changelist page does; a panel of totals records a list event without ids, as the dashboard page
does.
"""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncWeek
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from customers.models import Customer, FollowUp, Transaction
from scrm.access.scope import LIST
from scrm.audit.models import AccessAction, Channel
from scrm.audit.read_budget import ReadsBlocked
from scrm.audit.services import record_access, refuse_blocked_reads
from scrm.masking.detectors import mask_text
from scrm.masking.policy import customer_label
from scrm.staff import roles

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

WEEKS = 12
RECENT = 5


def yuan(amount: Decimal | int | float | None) -> str:
    """An amount of money as shown to people: ¥ with thousands separators (¥12,345.00)."""
    return f"¥{Decimal(amount or 0):,.2f}"


def dashboard_figures(user: "Viewer", weeks: int = WEEKS) -> dict:
    visible = Customer.objects.visible_to(user, LIST)
    since = timezone.now() - timedelta(weeks=weeks)
    per_owner = (
        visible.values("owner__username").annotate(n=Count("id")).order_by("-n", "owner__username")
    )
    per_team = visible.values("owner__team__name").annotate(n=Count("id")).order_by("-n")
    per_week = (
        visible.filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    weekly = [{"week": row["week"].date(), "n": row["n"]} for row in per_week]
    peak = max((row["n"] for row in weekly), default=0) or 1
    for row in weekly:
        row["percent"] = round(100 * row["n"] / peak)
    return {
        "total": visible.count(),
        "per_owner": [
            {"label": r["owner__username"] or _("(unassigned)"), "n": r["n"]} for r in per_owner
        ],
        "per_team": [
            {"label": r["owner__team__name"] or _("(no team)"), "n": r["n"]} for r in per_team
        ],
        "per_week": weekly,
    }


# --- who gets which panel ------------------------------------------------------------------


def is_rep(user: "Viewer") -> bool:
    return user.is_active and roles.SALES_REP in user.role_names


def leads_sales(user: "Viewer") -> bool:
    """Team leads and sales managers: the panels over a team's or a department's book."""
    return user.is_active and bool({roles.TEAM_LEAD, roles.SALES_MANAGER} & user.role_names)


def record_panel(request: HttpRequest, model, ids, panel: str) -> None:
    record_access(
        actor=request.user,
        action=AccessAction.LIST,
        model=model,
        object_ids=ids,
        channel=Channel.ADMIN,
        request=request,
        query={"view": "home", "panel": panel},
    )


def reads_blocked(request: HttpRequest, model) -> bool:
    """A leaver whose list reads are blocked gets no list panels (the refusal is recorded)."""
    try:
        refuse_blocked_reads(user=request.user, model=model, channel=Channel.ADMIN, request=request)
    except ReadsBlocked:
        return True
    return False


def _local_day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def changelist_url(name: str) -> str:
    return reverse(f"admin:{name}_changelist")


# --- a rep's panels ------------------------------------------------------------------------


def my_customers_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not is_rep(user) or reads_blocked(request, Customer):
        return None
    mine = Customer.objects.visible_to(user, LIST).filter(owner_id=user.pk)
    recent = list(mine.order_by("-created_at", "-id")[:RECENT])
    record_panel(request, Customer, [c.pk for c in recent], "my_customers")
    return {
        "count": mine.count(),
        "rows": [
            {
                "label": customer_label(user, c),
                "stage": c.get_stage_display(),
                "created_at": c.created_at,
                "url": reverse("admin:customers_customer_change", args=[c.pk]),
            }
            for c in recent
        ],
        "list_url": f"{changelist_url('customers_customer')}?owner__id__exact={user.pk}",
    }


def _open_follow_ups(user: "Viewer", visible):
    return FollowUp.objects.filter(customer__in=visible, done=False, due_at__isnull=False)


def follow_ups_panel(request: HttpRequest) -> dict[str, Any] | None:
    """A rep's follow-ups due today and those already overdue, oldest first."""
    user = request.user
    if not is_rep(user) or reads_blocked(request, Customer):
        return None
    now = timezone.now()
    start, end = _local_day_start(now), _local_day_start(now) + timedelta(days=1)
    visible = Customer.objects.visible_to(user, LIST).filter(owner_id=user.pk)
    open_ = _open_follow_ups(user, visible).select_related("customer")
    today = list(open_.filter(due_at__gte=start, due_at__lt=end).order_by("due_at")[:RECENT])
    overdue = open_.filter(due_at__lt=start)
    overdue_rows = list(overdue.order_by("due_at")[:RECENT])
    shown = {f.customer_id for f in (*today, *overdue_rows)}
    record_panel(request, Customer, sorted(shown), "follow_ups")

    def row(follow_up: FollowUp) -> dict:
        return {
            "label": customer_label(user, follow_up.customer),
            "due_at": follow_up.due_at,
            "note": mask_text(follow_up.note)[:60],
            "url": reverse("admin:customers_customer_change", args=[follow_up.customer_id]),
        }

    return {
        "today_count": open_.filter(due_at__gte=start, due_at__lt=end).count(),
        "overdue_count": overdue.count(),
        "today": [row(f) for f in today],
        "overdue": [row(f) for f in overdue_rows],
    }


# --- a team lead's and a sales manager's panels ----------------------------------------------


def pipeline_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Customers and transaction totals per stage, over the viewer's team or department."""
    user = request.user
    if not leads_sales(user) or reads_blocked(request, Customer):
        return None
    visible = Customer.objects.visible_to(user, LIST)
    counts = dict(visible.order_by().values_list("stage").annotate(n=Count("id")))
    amounts = dict(
        Transaction.objects.filter(customer__in=visible)
        .order_by()
        .values_list("customer__stage")
        .annotate(total=Sum("amount"))
    )
    record_panel(request, Customer, [], "pipeline")
    stages = [
        {
            "label": str(label),
            "count": counts.get(value, 0),
            "amount": yuan(amounts.get(value)),
            "url": f"{changelist_url('customers_customer')}?stage__exact={value}",
        }
        for value, label in Customer.Stage.choices
    ]
    chart = {
        "labels": [s["label"] for s in stages],
        "datasets": [
            {
                "label": _("Customers"),
                "data": [s["count"] for s in stages],
                "backgroundColor": "var(--color-primary-600)",
            }
        ],
    }
    return {
        "stages": stages,
        "total_count": sum(counts.values()),
        "total_amount": yuan(sum(amounts.values(), Decimal(0))),
        "chart": json.dumps(chart, ensure_ascii=False),
        "options": json.dumps(_axes(_("Stage"), _("Number of customers")), ensure_ascii=False),
    }


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, this week's last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def weekly_new_customers(user: "Viewer", weeks: int = WEEKS) -> list[dict]:
    """New customers in the viewer's scope per local calendar week; a week with none is 0."""
    starts = week_starts(timezone.localdate(), weeks)
    since = timezone.make_aware(datetime.combine(starts[0], datetime.min.time()))
    found = (
        Customer.objects.visible_to(user, LIST)
        .filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .order_by()
        .values_list("week")
        .annotate(n=Count("id"))
    )
    per_week = {
        timezone.localtime(week).date() if isinstance(week, datetime) else week: n
        for week, n in found
    }
    return [{"week": start, "n": per_week.get(start, 0)} for start in starts]


def _axes(x_title: str, y_title: str) -> dict:
    """Chart.js options with both axes titled; counts are whole numbers."""
    ticks = {"color": "#9ca3af"}
    return {
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": False}},
        "scales": {
            "x": {"title": {"display": True, "text": x_title}, "ticks": ticks},
            "y": {
                "beginAtZero": True,
                "title": {"display": True, "text": y_title},
                "ticks": {**ticks, "precision": 0},
            },
        },
    }


def weekly_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not leads_sales(user) or reads_blocked(request, Customer):
        return None
    weekly = weekly_new_customers(user)
    record_panel(request, Customer, [], "weekly_new_customers")
    chart = {
        "labels": [formats.date_format(row["week"], "MONTH_DAY_FORMAT") for row in weekly],
        "datasets": [
            {
                "label": _("New customers"),
                "data": [row["n"] for row in weekly],
                "backgroundColor": "var(--color-primary-400)",
            }
        ],
    }
    return {
        "weeks": weekly,
        "total": sum(row["n"] for row in weekly),
        "chart": json.dumps(chart, ensure_ascii=False),
        "options": json.dumps(_axes(_("Week"), _("Number of customers")), ensure_ascii=False),
    }


def team_overdue_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Follow-ups past due across the viewer's team or department, oldest first."""
    user = request.user
    if not leads_sales(user) or reads_blocked(request, Customer):
        return None
    visible = Customer.objects.visible_to(user, LIST)
    overdue = _open_follow_ups(user, visible).filter(due_at__lt=timezone.now())
    rows = list(overdue.select_related("customer", "staff").order_by("due_at")[:RECENT])
    record_panel(request, Customer, sorted({f.customer_id for f in rows}), "team_overdue")
    return {
        "count": overdue.count(),
        "rows": [
            {
                "label": customer_label(user, f.customer),
                "staff": f.staff.display_name,
                "due_at": f.due_at,
                "url": reverse("admin:customers_customer_change", args=[f.customer_id]),
            }
            for f in rows
        ],
    }

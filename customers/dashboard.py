"""Figures for the sales dashboard, always computed over the viewer's visible customers."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from customers.models import Customer
from scrm.access.scope import LIST


def dashboard_figures(user, weeks: int = 12) -> dict:
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
            {"label": r["owner__username"] or "(unassigned)", "n": r["n"]} for r in per_owner
        ],
        "per_team": [
            {"label": r["owner__team__name"] or "(no team)", "n": r["n"]} for r in per_team
        ],
        "per_week": weekly,
    }

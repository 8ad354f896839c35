"""The notice period: from the case's notice date the leaver keeps working but may not export or
reveal (scrm.audit.read_budget watches what they read). Started by the case's verbs when the
date has come, and daily by a beat task for the rest (offboarding.tasks)."""

from django.utils import timezone

from offboarding.models import OffboardingCase

Status = OffboardingCase.Status


def start_due_notice_periods() -> int:
    """Daily: leavers of approved or scheduled cases whose notice date has come enter notice."""
    started = 0
    due = OffboardingCase.objects.filter(
        status__in=(Status.APPROVED, Status.SCHEDULED),
        notice_date__lte=timezone.localdate(),
        leaver__employment_status="active",
    ).select_related("leaver")
    for case in due:
        start_notice(case)
        started += 1
    return started


def start_notice(case: OffboardingCase) -> None:
    # From the notice date the leaver keeps working but may not export or reveal.
    leaver = case.leaver
    if case.notice_date <= timezone.localdate() and leaver.employment_status == "active":
        leaver.employment_status = "notice"
        leaver.notice_date = case.notice_date
        leaver.save(update_fields=["employment_status", "notice_date"])

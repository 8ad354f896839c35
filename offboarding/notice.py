"""The notice period: from the case's notice date the leaver keeps working but may not export or
reveal (scrm.audit.read_budget watches what they read). Started by the case's verbs when the
date has come, and daily by a beat task for the rest (offboarding.tasks)."""

from django.db import transaction
from django.utils import timezone

from offboarding.events import notice_started_event
from offboarding.models import OffboardingCase
from scrm.staff.types import Actor

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
        started += start_notice(case)
    return started


@transaction.atomic
def start_notice(case: OffboardingCase, *, actor: Actor | None = None) -> bool:
    """From the notice date the leaver keeps working but may not export or reveal. Called
    inside the verb's transaction (or alone by the daily task, `actor` None); the leaver's
    change and the case's `notice_started` event commit together. True if it started now."""
    leaver = case.leaver
    if case.notice_date > timezone.localdate() or leaver.employment_status != "active":
        return False
    leaver.employment_status = "notice"
    leaver.notice_date = case.notice_date
    leaver.save(update_fields=["employment_status", "notice_date"])
    notice_started_event(case=case, actor=actor, before="active", after="notice")
    return True

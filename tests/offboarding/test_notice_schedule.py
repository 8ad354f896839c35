"""The daily beat task that starts notice periods of approved and scheduled cases."""

from datetime import timedelta

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from offboarding.models import OffboardingCase
from offboarding.tasks import start_notice_periods
from tests.factories import StaffFactory


def a_case(org, leaver, status: str, notice_in_days: int) -> OffboardingCase:
    today = timezone.localdate()
    return OffboardingCase.objects.create(
        leaver=leaver,
        reason="resigned",
        notice_date=today + timedelta(days=notice_in_days),
        effective_at=timezone.now() + timedelta(days=30),
        status=status,
        created_by=org.hr,
    )


def test_due_leavers_enter_notice_and_others_do_not(org):
    due = StaffFactory(team=org.team1)
    later = StaffFactory(team=org.team1)
    draft = StaffFactory(team=org.team1)
    a_case(org, due, "scheduled", 0)
    a_case(org, later, "approved", 3)
    a_case(org, draft, "draft", -1)

    assert start_notice_periods() == 1

    for staff in (due, later, draft):
        staff.refresh_from_db()
    assert [due.employment_status, later.employment_status, draft.employment_status] == [
        "notice",
        "active",
        "active",
    ]
    assert start_notice_periods() == 0  # idempotent


def test_the_task_is_a_visible_beat_row(db):
    task = PeriodicTask.objects.get(task="offboarding.tasks.start_notice_periods")

    assert task.enabled and task.crontab is not None


def test_notice_date_is_compared_with_the_local_last_working_day(org, settings):
    from offboarding.services import create_case
    from tests.offboarding.cases import supervised_by_lead

    # 23:30 UTC is already the next day in Shanghai: a notice given "today" (local) is valid.
    settings.TIME_ZONE = "Asia/Shanghai"
    effective = timezone.now().replace(hour=23, minute=30, second=0, microsecond=0)
    local_day = timezone.localtime(effective).date()

    case = create_case(
        actor=org.hr,
        leaver=supervised_by_lead(org, org.rep),
        reason="resigned",
        notice_date=local_day,
        effective_at=effective,
        successors=[org.rep_b],
    )

    assert case.notice_date == local_day

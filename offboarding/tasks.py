from celery import shared_task

from offboarding.notice import start_due_notice_periods
from offboarding.runner import run_case


@shared_task(name="offboarding.tasks.run_offboarding_case")
def run_offboarding_case(case_id: int) -> str:
    """Started by the case's clocked beat task at the effective time, or by "run now"."""
    return run_case(case_id).status


@shared_task(name="offboarding.tasks.start_notice_periods")
def start_notice_periods() -> int:
    return start_due_notice_periods()

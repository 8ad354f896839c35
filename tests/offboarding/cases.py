"""Opening, approving and running cases through the services, as HR and the supervisor do."""

from datetime import timedelta

from django.utils import timezone

from offboarding.models import OffboardingCase
from offboarding.runner import run_case
from offboarding.services import approve_case, create_case

CASES_URL = "/api/v1/offboarding/cases/"
TRANSFERS_URL = "/api/v1/offboarding/transfers/"


def supervised_by_lead(org, person):
    """Give a team1 member the lead as supervisor: a case needs one to approve it."""
    person.supervisor = org.lead
    person.save(update_fields=["supervisor"])
    return person


def open_case(
    org,
    leaver,
    *,
    successors=None,
    plan=OffboardingCase.Plan.SINGLE,
    overrides=None,
    notice_date=None,
    effective_at=None,
) -> OffboardingCase:
    """A draft case opened by HR through the service (default: one successor, `org.rep`)."""
    if successors is None:
        successors = [org.rep] if plan == OffboardingCase.Plan.SINGLE else []
    return create_case(
        actor=org.hr,
        leaver=leaver,
        reason="Resigned",
        notice_date=notice_date or timezone.localdate(),
        effective_at=effective_at or timezone.now() + timedelta(days=7),
        plan=plan,
        successors=successors,
        overrides=overrides,
    )


def approved_case(org, leaver, **kwargs) -> OffboardingCase:
    """Opened by HR, approved by the supervisor the case recorded (never by its creator)."""
    case = open_case(org, leaver, **kwargs)
    return approve_case(actor=case.approver, case=case)


def run_to_completion(org, leaver, **kwargs) -> OffboardingCase:
    case = run_case(approved_case(org, leaver, **kwargs).pk)
    assert case.status == OffboardingCase.Status.COMPLETED, case.error
    return case

"""Who gets which customer: validating successors and resolving a case's successor plan."""

from collections import Counter
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from offboarding.models import CaseStep, OffboardingCase
from scrm.access.scope import can_assign_to
from scrm.staff import roles
from scrm.staff.models import Staff
from scrm.types import Text

Plan = OffboardingCase.Plan


def successor_problem(candidate: Staff, leaver: Staff, approver: Staff | None) -> Text | None:
    """Why `candidate` cannot take over from `leaver`, or None if they can.

    Beyond being active and staying, a successor must be someone the case's approver (the
    leaver's supervisor when the case was opened) could hand customers to in service: the one
    rule of `can_assign_to`. So a book never leaves sales, and never lands outside the
    approver's team or department (an auditor, legal, a service account, HR).
    """
    if candidate.pk == leaver.pk:
        return _("The leaver cannot be their own successor.")
    if not candidate.is_active or candidate.employment_status != "active":
        return _("%(name)s is not an active staff member.") % {"name": candidate.username}
    if OffboardingCase.objects.filter(leaver=candidate, status__in=OffboardingCase.OPEN).exists():
        return _("%(name)s is leaving too (open offboarding case).") % {"name": candidate.username}
    if approver is None:
        return _("The case has no approver (the leaver's supervisor) to assign customers.")
    if not can_assign_to(approver, candidate):
        return _(
            "%(name)s is not a sales colleague %(approver)s (the approver) could assign "
            "customers to."
        ) % {"name": candidate.username, "approver": approver.username}
    return None


def validate_successors(
    successors: Iterable[Staff], leaver: Staff, approver: Staff | None, field: str = "successors"
) -> None:
    problems = [p for s in successors if (p := successor_problem(s, leaver, approver))]
    if problems:
        raise ValidationError({field: problems})


def plan_still_to_run(case: OffboardingCase) -> bool:
    """Whether customers are still to be assigned (the transfer step is not done)."""
    return not case.steps.filter(name=CaseStep.Name.TRANSFER, status=CaseStep.Status.DONE).exists()


def validate_plan(case: OffboardingCase) -> None:
    """Raise ValidationError (field errors) unless the plan and every override can be carried
    out now: checked at preview, approval, scheduling and before a run moves anything."""
    plan_successors(case)
    overrides = {o.successor_id: o.successor for o in case.overrides.select_related("successor")}
    validate_successors(overrides.values(), case.leaver, case.approver, "overrides")


def team_lead_for(leaver: Staff) -> Staff:
    """Where refused or unassignable customers go: the leaver's active team lead."""
    supervisor = leaver.supervisor
    if supervisor and supervisor.is_active and roles.TEAM_LEAD in supervisor.role_names:
        return supervisor
    if leaver.team_id:
        lead = (
            Staff.objects.filter(
                team_id=leaver.team_id, is_active=True, groups__name=roles.TEAM_LEAD
            )
            .exclude(pk=leaver.pk)
            .order_by("pk")
            .first()
        )
        if lead:
            return lead
    if supervisor and supervisor.is_active:
        return supervisor
    raise ValidationError({"leaver": f"{leaver.username} has no active team lead or supervisor."})


def team_candidates(leaver: Staff, approver: Staff | None) -> list[Staff]:
    if not leaver.team_id:
        raise ValidationError({"plan": _("The leaver has no team to share customers within.")})
    candidates = [
        s
        for s in Staff.objects.filter(
            team_id=leaver.team_id,
            is_active=True,
            employment_status="active",
            groups__name=roles.SALES_REP,
        )
        .exclude(pk=leaver.pk)
        .order_by("pk")
        .distinct()
        if successor_problem(s, leaver, approver) is None
    ]
    if not candidates:
        raise ValidationError({"plan": _("Nobody in the leaver's team can take over.")})
    return candidates


def plan_successors(case: OffboardingCase) -> list:
    if case.plan in (Plan.SINGLE, Plan.SPLIT):
        successors = list(case.successors.order_by("pk"))
        if not successors:
            raise ValidationError({"successors": _("Name at least one successor.")})
        if case.plan == Plan.SINGLE and len(successors) != 1:
            raise ValidationError({"successors": _("The single plan takes exactly one successor.")})
        validate_successors(successors, case.leaver, case.approver)
        return successors
    return team_candidates(case.leaver, case.approver)


def assign(case: OffboardingCase, customer_ids: list[int]) -> dict[int, Staff]:
    """customer id -> successor for these customers of the leaver.

    Deterministic for a given database state, so a resumed run assigns the remaining customers
    exactly as the first run would have (split and round-robin go by customer id).
    """
    successors = plan_successors(case)
    overrides = {
        o.customer_id: o.successor
        for o in case.overrides.filter(customer_id__in=customer_ids).select_related("successor")
    }
    for successor in {o.pk: o for o in overrides.values()}.values():
        validate_successors([successor], case.leaver, case.approver, "overrides")
    result: dict[int, Staff] = {}
    if case.plan == Plan.LEAST_LOADED:
        load = Counter(
            dict(
                Customer.objects.filter(owner__in=successors)
                .values_list("owner")
                .annotate(n=Count("pk"))
                .values_list("owner", "n")
            )
        )
        for customer_id in customer_ids:
            if customer_id in overrides:
                continue
            chosen = min(successors, key=lambda s: (load[s.pk], s.pk))
            load[chosen.pk] += 1
            result[customer_id] = chosen
    else:
        for customer_id in customer_ids:
            result[customer_id] = successors[customer_id % len(successors)]
    result.update(overrides)
    return result

"""Who reaches offboarding cases, and who counts as leaving (scrm.access.registry).

Cases have their own policy: HR and administrators see every case, a team lead their team's,
a sales manager their department tree's, anyone with the permission the cases of the people
they supervise (offboarding.models.case_rows). The staff of an open case are leavers for HR's
LEAVERS scope over customers, on top of the platform's notice and departed states.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scrm.access.registry import Policy, register_leaving, register_policy, register_rows
from scrm.access.scope import ACTIONS, ALL, DEPARTMENT, TEAM
from scrm.staff import roles

CASES = "offboarding cases"

# Whoever may read a case may read it for any action: what they may do with it is decided by
# the case's verbs (offboarding.services), not by a narrower scope.
CASE_POLICY = Policy(
    permissions=dict.fromkeys(ACTIONS, "offboarding.view_offboardingcase"),
    role_scopes={
        roles.HR: dict.fromkeys(ACTIONS, ALL),
        roles.ADMINISTRATOR: dict.fromkeys(ACTIONS, ALL),
        roles.TEAM_LEAD: dict.fromkeys(ACTIONS, TEAM),
        roles.SALES_MANAGER: dict.fromkeys(ACTIONS, DEPARTMENT),
    },
)


_CASE_READ = [
    "offboarding.view_offboardingcase",
    "offboarding.view_customertransfer",
    "offboarding.view_casestep",
]
# The permissions each role starts with (scrm.staff.roles.register_default_permissions).
DEFAULT_PERMISSIONS = {
    roles.TEAM_LEAD: _CASE_READ,
    roles.SALES_MANAGER: _CASE_READ,
    roles.HR: [
        *_CASE_READ,
        "offboarding.add_offboardingcase",
        "offboarding.change_offboardingcase",
        "offboarding.run_offboardingcase",
    ],
}


def open_case_leavers() -> Q:
    from offboarding.models import OffboardingCase

    open_cases = OffboardingCase.objects.filter(status__in=OffboardingCase.OPEN)
    return Q(pk__in=open_cases.values("leaver_id"))


def open_case_blocks_return(staff) -> str | None:
    """A departed leaver comes back only once their open case is cancelled (reactivate_staff)."""
    open_case = staff.offboarding_cases.filter(status__in=staff.offboarding_cases.model.OPEN)
    case = open_case.first()
    if case is None:
        return None
    return _("Offboarding case #%(pk)s is still open: cancel it first.") % {"pk": case.pk}


def register() -> None:
    from offboarding.models import OffboardingCase, case_rows
    from scrm.staff.services import register_return_check

    register_return_check(open_case_blocks_return)
    roles.register_default_permissions(DEFAULT_PERMISSIONS)

    register_policy(CASES, CASE_POLICY)
    register_rows(OffboardingCase, policy=CASES, rows=case_rows)
    register_leaving(open_case_leavers)

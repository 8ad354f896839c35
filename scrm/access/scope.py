"""What a staff member may see and do with customers: the one place that decides.

`scope_q(user, action)` returns a single Q over Customer rows. It is the OR of the user's role
scopes (own, team, department tree, everything) and their unexpired per-object grants (guardian
direct foreign-key rows), gated by the model permission the action needs. Everything stays a
condition the database can plan with an index: the small id sets it is made of (the owners a
team or department tree covers, the user's few shares) are loaded first, so the scope is
`owner_id IN (...) OR id IN (...)` on the customer row itself (see GRANT_IDS_INLINE).
"""

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from scrm.staff import roles

LIST, VIEW, CHANGE, REVEAL, SHARE, TRANSFER = (
    "list",
    "view",
    "change",
    "reveal",
    "share",
    "transfer",
)
ACTIONS = (LIST, VIEW, CHANGE, REVEAL, SHARE, TRANSFER)

# The model permission each action requires on top of the scope.
ACTION_PERMISSION = {
    LIST: "customers.view_customer",
    VIEW: "customers.view_customer",
    CHANGE: "customers.change_customer",
    REVEAL: "customers.view_customer",
    SHARE: "customers.share_customer",
    TRANSFER: "customers.transfer_customer",
}

OWN, TEAM, DEPARTMENT, ALL, LEAVERS = "own", "team", "department", "all", "leavers"

# role -> action -> scope kind. A role absent for an action sees nothing for it.
ROLE_SCOPES: dict[str, dict[str, str]] = {
    roles.SALES_REP: {LIST: OWN, VIEW: OWN, CHANGE: OWN, REVEAL: OWN, SHARE: OWN},
    roles.TEAM_LEAD: {a: TEAM for a in ACTIONS},
    roles.SALES_MANAGER: {a: DEPARTMENT for a in ACTIONS},
    roles.LEGAL: {LIST: ALL, VIEW: ALL, REVEAL: ALL},
    roles.AUDITOR: {LIST: ALL, VIEW: ALL},
    # HR sees masked lists of the customers of staff who are leaving, nothing else.
    roles.HR: {LIST: LEAVERS},
    roles.ADMINISTRATOR: {a: ALL for a in ACTIONS},
}

# Per-object grants: which shared permission codenames open which actions.
GRANT_CODENAMES = {
    LIST: ("view_customer", "change_customer"),
    VIEW: ("view_customer", "change_customer"),
    CHANGE: ("change_customer",),
}

NOTHING = Q(pk__in=[])

# The ids a scope is made of are loaded first: the owners it covers (a team, a department tree,
# the staff who are leaving: at most the staff list) and the user's own shares (few; past
# GRANT_IDS_INLINE the subquery is kept). The scope is then `owner_id IN (...) OR id IN (...)`,
# two conditions on the customer row itself, which PostgreSQL combines from two indexes or
# checks while walking the primary key for a page. A join or a subquery inside that OR can use
# no index: every COUNT(*) of a list walked the whole table (0.3-0.5 s at a million customers,
# see docs/benchmarks.md).
GRANT_IDS_INLINE = 1000


def _owners_q(*conditions: Q, **staff_filter) -> Q:
    from scrm.staff.models import Staff

    owners = (
        Staff.objects.filter(*conditions, **staff_filter).order_by().values_list("pk", flat=True)
    )
    return Q(owner_id__in=list(owners))


def _department_tree_owners_q(department_id: int) -> Q:
    """The staff of a department and of every department below it, in one recursive query
    (Department.descendant_ids walks the tree with a query per level)."""
    from scrm.staff.models import Department, Staff

    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE tree(id) AS ("
            f"SELECT id FROM {Department._meta.db_table} WHERE id = %s UNION "
            f"SELECT d.id FROM {Department._meta.db_table} d JOIN tree ON d.parent_id = tree.id) "
            f"SELECT s.id FROM {Staff._meta.db_table} s "
            f"WHERE s.department_id IN (SELECT id FROM tree)",
            [department_id],
        )
        return Q(owner_id__in=[row[0] for row in cursor.fetchall()])


def _kind_q(user, kind: str) -> Q:
    if kind == ALL:
        return Q()
    if kind == OWN:
        return Q(owner_id=user.pk)
    if kind == TEAM:
        return _owners_q(team_id=user.team_id) if user.team_id else NOTHING
    if kind == DEPARTMENT:
        if not user.department_id:
            return NOTHING
        return _department_tree_owners_q(user.department_id)
    if kind == LEAVERS:
        # Staff who are leaving: in notice, departed, or with an open offboarding case.
        from offboarding.models import OffboardingCase

        open_cases = OffboardingCase.objects.filter(status__in=OffboardingCase.OPEN)
        return _owners_q(
            Q(employment_status__in=["notice", "departed"])
            | Q(pk__in=open_cases.values("leaver_id"))
        )
    raise ValueError(f"unknown scope kind {kind!r}")


def _grants_q(user, action: str) -> Q:
    codenames = GRANT_CODENAMES.get(action)
    if not codenames:
        return NOTHING
    from customers.models import CustomerUserObjectPermission

    grants = (
        CustomerUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename__in=codenames
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by()
    )
    ids = list(grants.values_list("content_object_id", flat=True)[: GRANT_IDS_INLINE + 1])
    if len(ids) > GRANT_IDS_INLINE:
        return Q(pk__in=grants.values("content_object_id"))
    return Q(pk__in=ids)


def scope_q(user, action: str = VIEW) -> Q:
    """One Q selecting the customers `user` may `action`; nothing for anonymous/inactive users."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not (user and user.is_authenticated and user.is_active):
        return NOTHING
    if user.is_superuser:
        return Q()
    if not user.has_perm(ACTION_PERMISSION[action]):
        return NOTHING
    kinds = {ROLE_SCOPES[r][action] for r in user.role_names if action in ROLE_SCOPES.get(r, {})}
    if ALL in kinds:
        return Q()
    q = _grants_q(user, action)
    for kind in kinds:
        q |= _kind_q(user, kind)
    return q


def can(user, action: str, customer) -> bool:
    from customers.models import Customer

    return Customer.objects.filter(scope_q(user, action), pk=customer.pk).exists()


SALES_ROLES = frozenset({roles.SALES_REP, roles.TEAM_LEAD, roles.SALES_MANAGER})


def can_assign_to(user, staff) -> bool:
    """May `user` make `staff` the owner of customers? Only a sales colleague they manage."""
    if not staff.role_names & SALES_ROLES:
        return False
    if user.is_superuser or roles.ADMINISTRATOR in user.role_names:
        return True
    if (
        roles.SALES_MANAGER in user.role_names
        and user.department_id
        and staff.department_id in user.department.descendant_ids()
    ):
        return True
    return bool(
        roles.TEAM_LEAD in user.role_names and user.team_id and staff.team_id == user.team_id
    )

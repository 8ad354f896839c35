"""What a staff member may see and do with customers: the one place that decides.

`scope_q(user, action)` returns a single Q over Customer rows. It is the OR of the user's role
scopes (own, team, department tree, everything) and their unexpired per-object grants (guardian
direct foreign-key rows), gated by the model permission the action needs. Everything stays a
condition the database can plan with an index: the small id sets it is made of (the owners a
team or department tree covers, the user's few shares) are loaded first, so the scope is
`owner_id IN (...) OR id IN (...)` on the customer row itself (see GRANT_IDS_INLINE).
"""

import itertools
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.signals import request_started
from django.db import connection
from django.db.models import Q, QuerySet
from django.dispatch import receiver
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


@dataclass(frozen=True)
class Scope:
    """What `user` may `action`, as the ids it is made of (read when the scope is built).

    everything: every customer. Otherwise the customers owned by `owners`, plus the customers
    shared with the user: `shared` (ids, or a queryset of ids past GRANT_IDS_INLINE).
    """

    everything: bool = False
    owners: tuple[int, ...] = ()
    shared: tuple[int, ...] | QuerySet = ()

    def customer_q(self) -> Q:
        """The scope as one condition on Customer rows."""
        if self.everything:
            return Q()
        owned = Q(owner_id__in=self.owners) if self.owners else None
        shared = Q(pk__in=self.shared) if _present(self.shared) else None
        if owned is None or shared is None:
            return owned or shared or NOTHING
        # Not also `AND owner_id IN (owners + the shared customers' owners)`, although that lets
        # COUNT(*) run as an index-only scan (4 ms instead of 95 ms for a team lead): the
        # planner multiplies the two owner_id conditions, expects 1,300 rows instead of 26,700
        # and sorts them all for a page instead of walking the primary key (300 ms).
        return owned | shared


def _present(shared) -> bool:
    return bool(shared) if isinstance(shared, tuple) else True


def _staff_ids(*conditions: Q, **staff_filter) -> tuple[int, ...]:
    from scrm.staff.models import Staff

    found = (
        Staff.objects.filter(*conditions, **staff_filter).order_by().values_list("pk", flat=True)
    )
    return tuple(found)


def _department_tree_staff(department_id: int) -> tuple[int, ...]:
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
        return tuple(row[0] for row in cursor.fetchall())


def _kind_owners(user, kind: str) -> tuple[int, ...]:
    """The staff whose customers a (non-ALL) scope kind covers."""
    if kind == OWN:
        return (user.pk,)
    if kind == TEAM:
        return _staff_ids(team_id=user.team_id) if user.team_id else ()
    if kind == DEPARTMENT:
        return _department_tree_staff(user.department_id) if user.department_id else ()
    if kind == LEAVERS:
        # Staff who are leaving: in notice, departed, or with an open offboarding case.
        from offboarding.models import OffboardingCase

        open_cases = OffboardingCase.objects.filter(status__in=OffboardingCase.OPEN)
        return _staff_ids(
            Q(employment_status__in=["notice", "departed"])
            | Q(pk__in=open_cases.values("leaver_id"))
        )
    raise ValueError(f"unknown scope kind {kind!r}")


def _shares(user, action: str):
    """The customer ids shared with the user for this action (a subquery when very many)."""
    codenames = GRANT_CODENAMES.get(action)
    if not codenames:
        return ()
    from customers.models import CustomerUserObjectPermission

    grants = (
        CustomerUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename__in=codenames
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by()
    )
    ids = tuple(grants.values_list("content_object_id", flat=True)[: GRANT_IDS_INLINE + 1])
    if len(ids) > GRANT_IDS_INLINE:
        return grants.values("content_object_id")
    return ids


def _scope_kinds(user, action: str) -> set[str]:
    """The scope kinds `user` holds for `action` (ALL for superusers); none when inactive."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not (user and user.is_authenticated and user.is_active):
        return set()
    if user.is_superuser:
        return {ALL}
    if not user.has_perm(ACTION_PERMISSION[action]):
        return set()
    return {ROLE_SCOPES[r][action] for r in user.role_names if action in ROLE_SCOPES.get(r, {})}


def sees_everything(user, action: str = VIEW) -> bool:
    """Whether `user` may `action` every customer: known from the roles, no ids loaded."""
    return ALL in _scope_kinds(user, action)


def scope_for(user, action: str = VIEW) -> Scope:
    """The customers `user` may `action`; nothing for anonymous/inactive users."""
    kinds = _scope_kinds(user, action)
    if ALL in kinds:
        return Scope(everything=True)
    if not kinds:
        return Scope()
    owners = {owner for kind in kinds for owner in _kind_owners(user, kind)}
    return Scope(owners=tuple(sorted(owners)), shared=_shares(user, action))


BOOK_KINDS = frozenset({OWN, TEAM, DEPARTMENT})

# book_owners is asked once per rendered customer field: it is cached on the user object for
# the current request. A user object can outlive a request (tests authenticate the same object
# for many requests, a shell keeps it), so each request starts a new generation and a value
# cached in an earlier one is read again. A ContextVar, not a global: concurrent requests in
# other threads (or ASGI tasks) do not invalidate each other's caches.
_request_generation: ContextVar[int] = ContextVar("scrm_request_generation", default=0)
_generations = itertools.count(1)


@receiver(request_started, dispatch_uid="scrm.access.scope.new_request_generation")
def _new_request_generation(**kwargs) -> None:
    _request_generation.set(next(_generations))


def book_owners(user) -> frozenset[int]:
    """The staff whose customers are the user's book: the owners their own, team or
    department role scope covers for viewing (not shares, not an "everything" scope).

    The masking matrix shows names of these customers to sales roles (scrm.masking.policy).
    Cached on the user object for the current request (see _request_generation).
    """
    generation = _request_generation.get()
    cached = getattr(user, "_scrm_book_owners", None)
    if cached is not None and cached[0] == generation:
        return cached[1]
    kinds = _scope_kinds(user, VIEW) & BOOK_KINDS
    owners = frozenset(owner for kind in kinds for owner in _kind_owners(user, kind))
    if user is not None and user.is_authenticated:
        user._scrm_book_owners = (generation, owners)
    return owners


def scope_q(user, action: str = VIEW) -> Q:
    """One Q selecting the customers `user` may `action`; nothing for anonymous/inactive users."""
    return scope_for(user, action).customer_q()


def can(user, action: str, customer) -> bool:
    from customers.models import Customer

    return Customer.objects.filter(scope_q(user, action), pk=customer.pk).exists()


SALES_ROLES = frozenset({roles.SALES_REP, roles.TEAM_LEAD, roles.SALES_MANAGER})


def can_assign_to(user, staff) -> bool:
    """May `user` make `staff` the owner of customers? Only a sales colleague they manage.

    The one rule for every hand-over: the in-service transfer checks it for the actor, an
    offboarding case for its approver (offboarding.planning.successor_problem)."""
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

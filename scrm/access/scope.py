"""What a staff member may see and do: the one place that decides, for every kind of record.

`scope_for(user, action, policy=...)` reads the user's roles against a registered `Policy`
(scrm.access.registry; the customers app registers CUSTOMERS, offboarding its cases) and returns
a `Scope`: the OR of the user's role scopes (own, team, department tree, everything, leavers)
and their unexpired per-object grants, gated by the model permission the action needs.
Everything stays a condition the database can plan with an index: the small id sets it is made
of (the owners a team or department tree covers, the user's few shares) are loaded first, so
the scope is `owner_id IN (...) OR id IN (...)` on the record itself (see GRANT_IDS_INLINE).
The door, `Model.objects.visible_to(user, action)`, is scrm.access.querysets.
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, cast

from django.core.signals import request_started
from django.db.models import Model, Q, QuerySet
from django.dispatch import receiver

from scrm.access import registry
from scrm.staff import roles

if TYPE_CHECKING:
    from scrm.staff.types import Actor, Viewer

LIST, VIEW, CHANGE, REVEAL, SHARE, TRANSFER = (
    "list",
    "view",
    "change",
    "reveal",
    "share",
    "transfer",
)
ACTIONS = (LIST, VIEW, CHANGE, REVEAL, SHARE, TRANSFER)

OWN, TEAM, DEPARTMENT, ALL, LEAVERS = "own", "team", "department", "all", "leavers"

# The policy of customers, the records a sales book is made of (registered by customers.access):
# the default of scope_for, and what book_owners and the masking matrix's "in book" read.
CUSTOMERS = "customers"

NOTHING = Q(pk__in=[])

# The ids a scope is made of are loaded first: the owners it covers (a team, a department tree,
# the staff who are leaving: at most the staff list) and the user's own shares (few; past
# GRANT_IDS_INLINE the subquery is kept). The scope is then `owner_id IN (...) OR id IN (...)`,
# two conditions on the customer row itself, which PostgreSQL combines from two indexes or
# checks while walking the primary key for a page. A join or a subquery inside that OR can use
# no index: every COUNT(*) of a list walked the whole table (docs/benchmarks.md#scope-shape).
GRANT_IDS_INLINE = 1000


@dataclass(frozen=True)
class Scope:
    """What `user` may `action`, as the ids it is made of (read when the scope is built).

    everything: every record. Otherwise the records owned by `owners`, plus the records shared
    with the user: `shared` (ids, or a queryset of ids past GRANT_IDS_INLINE). `permitted`: the
    user holds the action's model permission (a policy may open more rows to them than the
    scope's, e.g. an offboarding case to the leaver's supervisor).
    """

    everything: bool = False
    owners: tuple[int, ...] = ()
    shared: tuple[int, ...] | QuerySet[Any, int] = ()
    permitted: bool = False

    def owned_q(self, owner: str = "owner_id") -> Q:
        """The scope as one condition on the rows of a model whose `owner` column names staff."""
        if self.everything:
            return Q()
        owned = Q(**{f"{owner}__in": self.owners}) if self.owners else None
        shared = Q(pk__in=self.shared) if _present(self.shared) else None
        if owned is None or shared is None:
            return owned or shared or NOTHING
        # Not also `AND owner_id IN (owners + the shared customers' owners)`, although that lets
        # COUNT(*) run as an index-only scan: the planner multiplies the two owner_id
        # conditions, underestimates the rows and sorts them all for a page instead of walking
        # the primary key (docs/benchmarks.md#scope-shape).
        return owned | shared


def _present(shared: tuple[int, ...] | QuerySet[Any, int]) -> bool:
    return bool(shared) if isinstance(shared, tuple) else True


def _staff_ids(*conditions: Q, **staff_filter: object) -> tuple[int, ...]:
    from scrm.staff.models import Staff

    found = (
        Staff.objects.filter(*conditions, **staff_filter).order_by().values_list("pk", flat=True)
    )
    return tuple(found)


def _kind_owners(user: Actor, kind: str) -> tuple[int, ...]:
    """The staff whose customers a (non-ALL) scope kind covers."""
    if kind == OWN:
        return (user.pk,)
    if kind == TEAM:
        return _staff_ids(team_id=user.team_id) if user.team_id else ()
    if kind == DEPARTMENT:
        if not user.department_id:
            return ()
        from scrm.staff.models import Department

        return Department.tree_staff_ids(user.department_id)
    if kind == LEAVERS:
        # Staff who are leaving: in notice or departed, or what an app adds (an open case).
        return _staff_ids(Q(employment_status__in=["notice", "departed"]) | registry.leaving_q())
    raise ValueError(f"unknown scope kind {kind!r}")


def _shares(
    user: Actor, action: str, policy: registry.Policy
) -> tuple[int, ...] | QuerySet[Any, int]:
    """The record ids shared with the user for this action (a subquery when very many)."""
    if policy.grants is None:
        return ()
    return policy.grants(user, action)


def _signed_in(user: Viewer | None) -> TypeGuard[Actor]:
    """A signed-in, active staff member (an anonymous user is neither)."""
    return bool(user and user.is_authenticated and user.is_active)


def _permitted(user: Viewer | None, action: str, policy: registry.Policy) -> bool:
    """Whether `user` holds the model permission `action` needs (superusers: always)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    permission = policy.permissions.get(action)
    return permission is not None and user.has_perm(permission)


def _scope_kinds(user: Viewer | None, action: str, policy: registry.Policy) -> set[str]:
    """The scope kinds `user` holds for `action` (ALL for superusers); none when inactive."""
    if not _signed_in(user) or not _permitted(user, action, policy):
        return set()
    if user.is_superuser:
        return {ALL}
    scopes = policy.role_scopes
    return {scopes[r][action] for r in user.role_names if action in scopes.get(r, {})}


def sees_everything(user: Viewer | None, action: str = VIEW, *, policy: str = CUSTOMERS) -> bool:
    """Whether `user` may `action` every record of `policy`: known from the roles, no ids."""
    return ALL in _scope_kinds(user, action, registry.policy(policy))


def scope_for(user: Viewer | None, action: str = VIEW, *, policy: str = CUSTOMERS) -> Scope:
    """The records of `policy` `user` may `action`; nothing for anonymous/inactive users."""
    rules = registry.policy(policy)
    kinds = _scope_kinds(user, action, rules)
    if ALL in kinds:
        return Scope(everything=True, permitted=True)
    if not kinds or not _signed_in(user):
        return Scope(permitted=_permitted(user, action, rules))
    owners = {owner for kind in kinds for owner in _kind_owners(user, kind)}
    shared = _shares(user, action, rules)
    return Scope(owners=tuple(sorted(owners)), shared=shared, permitted=True)


BOOK_KINDS = frozenset({OWN, TEAM, DEPARTMENT})

# book_owners is asked once per rendered customer field: it is cached on the user object for
# the current request. A user object can outlive a request (tests authenticate the same object
# for many requests, a shell keeps it), so each request starts a new generation and a value
# cached in an earlier one is read again. A ContextVar, not a global: concurrent requests in
# other threads (or ASGI tasks) do not invalidate each other's caches.
_request_generation: ContextVar[int] = ContextVar("scrm_request_generation", default=0)
_generations = itertools.count(1)


@receiver(request_started, dispatch_uid="scrm.access.scope.new_request_generation")
def _new_request_generation(**kwargs: object) -> None:
    _request_generation.set(next(_generations))


def book_owners(user: Viewer | None) -> frozenset[int]:
    """The staff whose customers are the user's book: the owners their own, team or
    department role scope covers for viewing (not shares, not an "everything" scope).

    The masking matrix shows names of these customers to sales roles (scrm.masking.policy).
    Cached on the user object for the current request (see _request_generation).
    """
    generation = _request_generation.get()
    cached = getattr(user, "_scrm_book_owners", None)
    if cached is not None and cached[0] == generation:
        owners: frozenset[int] = cached[1]
        return owners
    if not _signed_in(user):  # no roles, no book (_scope_kinds gives nothing either)
        return frozenset()
    kinds = _scope_kinds(user, VIEW, registry.policy(CUSTOMERS)) & BOOK_KINDS
    owners = frozenset(owner for kind in kinds for owner in _kind_owners(user, kind))
    # A cache on the object, not an attribute Staff declares (hence Any). Set as an attribute,
    # not through __dict__: request.user is a lazy proxy that forwards it to the staff object.
    cast(Any, user)._scrm_book_owners = (generation, owners)
    return owners


class Door(Protocol):
    """A model's manager as the door (scrm.access.querysets.ScopedQuerySet)."""

    def visible_to(self, user: Viewer, action: str) -> QuerySet[Any]: ...


def door(model: type[Model]) -> Door:
    """The door of a model known only as a model class (a registered subject, `type(obj)`)."""
    # Every model that reaches a user has a ScopedQuerySet manager (registry.register_rows);
    # Model's type knows only a plain Manager, and this module cannot import querysets (which
    # imports it). A model without the door fails at visible_to, as before: AttributeError.
    return cast(Door, model._default_manager)


def can(user: Viewer, action: str, obj: Model) -> bool:
    """Whether `user` may `action` this record, through the same door as every list."""
    return door(type(obj)).visible_to(user, action).filter(pk=obj.pk).exists()


SALES_ROLES = frozenset({roles.SALES_REP, roles.TEAM_LEAD, roles.SALES_MANAGER})


def can_assign_to(user: Actor, staff: Actor) -> bool:
    """May `user` make `staff` the owner of customers? Only a sales colleague they manage.

    The one rule for every hand-over: the in-service transfer checks it for the actor, an
    offboarding case for its approver (offboarding.planning.successor_problem)."""
    if not staff.role_names & SALES_ROLES:
        return False
    if user.is_superuser or roles.ADMINISTRATOR in user.role_names:
        return True
    if (
        roles.SALES_MANAGER in user.role_names
        and user.department is not None  # no query when department_id is None
        and staff.department_id in user.department.descendant_ids()
    ):
        return True
    return bool(
        roles.TEAM_LEAD in user.role_names and user.team_id and staff.team_id == user.team_id
    )

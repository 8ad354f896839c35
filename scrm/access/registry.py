"""What the domain apps tell the platform, so that the platform names no domain model.

The platform knows roles, staff, scope kinds and the door; the apps own their records. Each app
registers, from its AppConfig.ready():
- a `Policy` per kind of record (`register_policy`): the model permission each action needs, the
  scope kind each role holds for each action, and the per-object grants (shares) if any;
- how a scope reads on each model that reaches a user (`register_rows`), so that
  `Model.objects.visible_to(user, action)` (scrm.access.querysets) is one door for all of them;
- who counts as leaving for HR's LEAVERS scope (`register_leaving`), beyond the platform's own
  employment status (offboarding adds the leavers of open cases).

NetBox's `RestrictedQuerySet.restrict(user, action)` and its `register_model_actions` are the
model: the door is generic, the apps fill it in.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet

if TYPE_CHECKING:
    from scrm.access.scope import Scope
    from scrm.staff.types import Actor, Viewer

# fn(user, action) -> the ids of the records shared with the user for that action (a tuple),
# or a queryset of them when there are very many. Asked only for a signed-in, active user.
Grants = Callable[["Actor", str], "tuple[int, ...] | QuerySet[Any, int]"]
# fn(queryset, scope, user) -> the queryset narrowed to what the scope covers (filtered: the
# queryset's own class, see ScopedQuerySet.visible_to).
Rows = Callable[["QuerySet[Any]", "Scope", "Viewer"], "QuerySet[Any]"]


@dataclass(frozen=True)
class Policy:
    """Who may reach one kind of record, and for what."""

    # action -> "app_label.codename" the action needs on top of the scope
    permissions: Mapping[str, str]
    # role -> action -> scope kind (scrm.access.scope.OWN, TEAM, ...); absent: nothing
    role_scopes: Mapping[str, Mapping[str, str]]
    grants: Grants | None = None


@dataclass(frozen=True)
class Reach:
    """How the door reads on one model: under which policy, and as which rows."""

    policy: str
    rows: Rows
    # a model permission checked before the scope is built (none: the policy's own suffice)
    requires: str | None = None


@dataclass
class _Registry:
    policies: dict[str, Policy] = field(default_factory=dict)
    reach: dict[type[Model], Reach] = field(default_factory=dict)
    leaving: list[Callable[[], Q]] = field(default_factory=list)


_registry = _Registry()


def register_policy(name: str, policy: Policy) -> None:
    _registry.policies[name] = policy


def register_rows(
    model: type[Model], *, policy: str, rows: Rows, requires: str | None = None
) -> None:
    _registry.reach[model] = Reach(policy=policy, rows=rows, requires=requires)


def register_leaving(condition: Callable[[], Q]) -> None:
    """Add a condition on Staff rows that makes someone a leaver for HR's LEAVERS scope."""
    _registry.leaving.append(condition)


def policy(name: str) -> Policy:
    try:
        return _registry.policies[name]
    except KeyError:
        raise LookupError(f"no access policy {name!r} is registered") from None


def reach(model: type[Model]) -> Reach:
    """How `model` is reached; a model nobody registered reaches no one (fail closed)."""
    for cls in model.__mro__:
        if cls in _registry.reach:
            return _registry.reach[cls]
    raise LookupError(f"{model._meta.label} registers no rows with scrm.access.registry")


def leaving_q() -> Q:
    """The apps' conditions on Staff rows for "leaving", OR-ed (none: nobody)."""
    conditions = [condition() for condition in _registry.leaving]
    if not conditions:
        return Q(pk__in=[])
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined

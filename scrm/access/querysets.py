"""The one read door: `Model.objects.visible_to(user, action)` for every model that reaches a user.

A domain model's queryset subclasses `ScopedQuerySet`; its app registers how the scope reads on
its rows (scrm.access.registry.register_rows). The door builds the scope once, applies the rows
and keeps the scope on the queryset (`applied_scope`), so code that plans a query around it
(chat search) reads the scope the door used instead of building it again. The door names no
model, like NetBox's `RestrictedQuerySet`.
"""

from typing import TYPE_CHECKING, Self, TypeVar, cast

from django.db.models import Model, QuerySet

from scrm.access import registry
from scrm.access.scope import VIEW, Scope, scope_for

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

_M = TypeVar("_M", bound=Model)


class ScopedQuerySet(QuerySet[_M]):
    _applied_scope: Scope | None = None

    def visible_to(self, user: "Viewer", action: str = VIEW) -> Self:
        """The rows `user` may `action`, by the policy the model's app registered."""
        reach = registry.reach(self.model)
        if reach.requires is not None and not user.has_perm(reach.requires):
            nothing = self.none()
            nothing._applied_scope = Scope()
            return nothing
        scope = scope_for(user, action, policy=reach.policy)
        # The rows filter this queryset, which keeps its class (Rows is typed on QuerySet: the
        # apps' functions are written against their own querysets).
        narrowed = cast(Self, reach.rows(self, scope, user))
        narrowed._applied_scope = scope
        return narrowed

    @property
    def applied_scope(self) -> Scope:
        """The scope `visible_to` applied to this queryset (LookupError when it was not)."""
        if self._applied_scope is None:
            raise LookupError("this queryset did not come through visible_to()")
        return self._applied_scope

    def _clone(self) -> Self:
        # django-stubs leaves out QuerySet._clone (private), which every queryset method
        # copies through: the one place to carry the applied scope along.
        clone: Self = super()._clone()  # type: ignore[misc]
        clone._applied_scope = self._applied_scope
        return clone

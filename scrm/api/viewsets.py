"""The read door of the API: declared scopes, scoped querysets and access events.

Every API view of the project stands on `DeclaredScopeMixin` (the system check in
`scrm.access.door` fails `manage.py check` otherwise): each action it answers names its scope
action, or `Public(...)` / `WriteOnly(...)`; an undeclared action answers 403. Viewsets over
protected data add `RecordedReadsViewSetMixin` (every read recorded) and, for models with
`objects.visible_to(user, action)`, `ScopedViewSetMixin`.
"""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.metadata import SimpleMetadata

from scrm.access.declarations import Declared, Public, WriteOnly, kind_of
from scrm.access.scope import ACTIONS, CHANGE, LIST, VIEW
from scrm.api.ids import ID_REGEX
from scrm.audit.models import AccessAction, Channel
from scrm.audit.services import record_access, refuse_blocked_reads
from scrm.staff.mfa import require_second_factor

__all__ = ["Public", "WriteOnly"]  # re-exported: viewsets declare with them


class DescribeOnlyMetadata(SimpleMetadata):
    """OPTIONS names the endpoint and its formats, nothing more: DRF's default also runs the
    PUT check, which fetches the object outside any declared action."""

    def determine_actions(self, request, view):
        return {}


class DeclaredScopeMixin:
    """Fail closed: every action (a viewset's action, an APIView's method handler) is declared
    in `scope_actions`; anything else is refused with 403 before it runs."""

    scope_actions: dict[str, Declared] = {}
    # Actions a privileged user (scrm.staff.mfa.is_privileged) may take only with a second
    # factor in this sign-in: otherwise 403 `mfa_required`.
    second_factor_actions: frozenset[str] = frozenset()
    # Any: DRF's stubs declare an instance (str | BaseMetadata), DRF instantiates a class.
    metadata_class: Any = DescribeOnlyMetadata
    # Path ids: 1 to 18 digits, so "abc" and a number beyond 64 bits match no URL (404).
    lookup_value_regex = ID_REGEX

    if TYPE_CHECKING:  # provided by the APIView this mixes into
        request: Any  # a DRF Request (APIView), an HttpRequest to the View underneath

    def declared_action_name(self) -> str | None:
        if isinstance(self, viewsets.ViewSetMixin):
            return getattr(self, "action", None)
        method = self.request.method.lower()
        method = "get" if method == "head" else method
        # A method the view has no handler for (TRACE, PUT on a POST-only view): 405 follows.
        return method if hasattr(self, method) else None

    def initial(self, request, *args, **kwargs):
        action = self.declared_action_name()
        # None: a method this URL does not map (405 follows); metadata: OPTIONS (describes only).
        if (
            action not in (None, "metadata", "options")
            and kind_of(self.scope_actions.get(action)) is None
        ):
            raise PermissionDenied(
                _("This action declares no scope, so it is refused until it does.")
            )
        super().initial(request, *args, **kwargs)
        if action in self.second_factor_actions:
            require_second_factor(request)

    def scope_action(self) -> Declared:
        return self.scope_actions[self.declared_action_name() or ""]

    def filter_queryset(self, queryset):
        # List filters narrow lists (and list-wide actions: an export) only: on a detail route
        # (GET /customers/5/?stage=won, a PATCH, a detail action) they would turn a visible
        # record into a 404 recorded as a denied attempt.
        if isinstance(self, viewsets.ViewSetMixin) and getattr(self, "detail", False):
            return queryset
        return super().filter_queryset(queryset)


class RecordedReadsViewSetMixin(DeclaredScopeMixin):
    """Viewsets over protected data: every read leaves its access event.

    - a list records one access event with the ids of the page it returned;
    - a retrieve records a view, and so does the answer of an update (`PATCH {}` returns the
      whole record: it is a read);
    - an id outside the queryset answers 404 (existence is not confirmed) and is recorded as a
      denied attempt.
    """

    scope_actions = {
        "list": LIST,
        "retrieve": VIEW,
        "update": CHANGE,
        "partial_update": CHANGE,
    }

    if TYPE_CHECKING:  # provided by the GenericAPIView this mixes into
        queryset: Any

        def get_queryset(self) -> QuerySet[Any]: ...

    def record(self, action: str, object_ids, **extra):
        # The model, not get_queryset(): that would build the visibility scope a second time.
        model = self.queryset.model if self.queryset is not None else self.get_queryset().model
        return record_access(
            actor=self.request.user,
            action=action,
            model=model,
            object_ids=object_ids,
            channel=Channel.API,
            request=self.request,
            **extra,
        )

    def get_object(self):
        try:
            return super().get_object()
        except (Http404, NotFound):  # DRF's get_object raises Django's Http404, not NotFound
            lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            ids = [int(lookup)] if str(lookup).isdigit() else []
            self.record(AccessAction.DENIED, ids, allowed=False, query={"attempt": self.action})
            if ids and self.visible_but_closed(ids[0]):
                raise PermissionDenied(_("You may not do this with this record.")) from None
            raise

    def visible_but_closed(self, pk: int) -> bool:
        """Whether the caller sees this record but may not do this action with it."""
        return False

    def list(self, request, *args, **kwargs):
        refuse_blocked_reads(
            user=request.user, model=self.queryset.model, channel=Channel.API, request=request
        )
        response = super().list(request, *args, **kwargs)
        shown = [row["id"] for row in response.data.get("results", response.data)]
        self.record(AccessAction.LIST, shown, query=request.query_params.dict())
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        self.record(AccessAction.VIEW, [response.data["id"]])
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # The answer of PUT / PATCH is the whole record. Not an `update` override: that would
        # give read-only viewsets a PUT route.
        if (
            getattr(self, "action", None) in ("update", "partial_update")
            and 200 <= response.status_code < 300
            and isinstance(getattr(response, "data", None), dict)
            and "id" in response.data
        ):
            self.record(AccessAction.VIEW, [response.data["id"]], query={"view": self.action})
        return super().finalize_response(request, response, *args, **kwargs)


class ScopedViewSetMixin(RecordedReadsViewSetMixin):
    """Viewsets over a model with `objects.visible_to(user, action)`: every queryset starts from
    the visibility scope of the declared action (a Public or WriteOnly action reads nothing)."""

    def get_queryset(self):
        action = self.scope_action()
        queryset = super().get_queryset()
        if action not in ACTIONS:
            return queryset.none()
        return queryset.visible_to(self.request.user, action)

    def visible_but_closed(self, pk: int) -> bool:
        # Visible but not open to this action (e.g. legal editing): say so, existence is known.
        action = self.scope_action()
        return (
            action in ACTIONS
            and action != VIEW
            and self.queryset.visible_to(self.request.user, VIEW).filter(pk=pk).exists()
        )


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

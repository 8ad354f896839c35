"""The read door of the API: scoped querysets and access events, so a new viewset gets both."""

from django.http import Http404
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, PermissionDenied

from scrm.access.scope import CHANGE, LIST, VIEW
from scrm.audit.models import AccessAction, Channel
from scrm.audit.read_budget import refuse_blocked_reads
from scrm.audit.services import record_access


class ScopedViewSetMixin:
    """Viewsets over a model with `objects.visible_to(user, action)`.

    - every queryset starts from the visibility scope for the current action;
    - a list records one access event with the ids of the page it returned;
    - a retrieve records a view; an id outside the scope answers 404 (existence is not
      confirmed) and is recorded as a denied attempt.
    """

    scope_actions = {
        "list": LIST,
        "retrieve": VIEW,
        "update": CHANGE,
        "partial_update": CHANGE,
    }
    scope_default_action = VIEW

    def scope_action(self) -> str:
        return self.scope_actions.get(self.action, self.scope_default_action)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user, self.scope_action())

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
            # Visible but not open to this action (e.g. legal editing): say so, existence is known.
            if (
                self.scope_action() != VIEW
                and ids
                and self.queryset.visible_to(self.request.user, VIEW).filter(pk=ids[0]).exists()
            ):
                raise PermissionDenied("You may not do this with this record.") from None
            raise

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


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

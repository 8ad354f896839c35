from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action

from scrm.access.scope import LIST
from scrm.api.permissions import model_permission
from scrm.api.viewsets import RecordedReadsViewSetMixin
from scrm.audit.export import COLUMNS, csv_rows
from scrm.audit.filters import AccessEventFilter
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert


class AccessEventSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = AccessEvent
        # The same columns as the CSV export, plus the actor's username.
        fields = [*COLUMNS[:3], "actor_username", *COLUMNS[3:]]


class SecurityAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityAlert
        fields = [
            "id",
            "created_at",
            "kind",
            "severity",
            "actor",
            "message",
            "model",
            "object_id",
            "acknowledged_at",
        ]


class AccessEventViewSet(RecordedReadsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Who read what, when and how. Read-only: no interface edits or deletes an audit row.
    Reading the trail is itself recorded: who read who read what."""

    queryset = AccessEvent.objects.select_related("actor")
    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilter
    permission_classes = [model_permission("audit.view_accessevent")]
    scope_actions = {**RecordedReadsViewSetMixin.scope_actions, "export": LIST}

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        # The rows as they stand now: the export's own event is not part of it.
        newest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        events = self.filter_queryset(self.get_queryset()).filter(pk__lte=newest)
        self.record(
            AccessAction.EXPORT,
            [],
            query={**request.query_params.dict(), "row_count": events.count()},
        )
        events = events.iterator(chunk_size=2000)
        response = StreamingHttpResponse(csv_rows(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="access-events.csv"'
        return response


class SecurityAlertViewSet(RecordedReadsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SecurityAlert.objects.all()
    serializer_class = SecurityAlertSerializer
    filterset_fields = ["kind", "severity", "actor"]
    permission_classes = [model_permission("audit.view_securityalert")]

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action

from scrm.api.permissions import model_permission
from scrm.audit.export import COLUMNS, csv_rows
from scrm.audit.filters import AccessEventFilter
from scrm.audit.models import AccessEvent, SecurityAlert
from scrm.masking.detectors import mask_text


class AccessEventSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(source="actor.username", default=None)
    # Stored through the detectors; again on the way out for rows stored before they improved.
    reason = serializers.SerializerMethodField()

    class Meta:
        model = AccessEvent
        # The same columns as the CSV export, plus the actor's username.
        fields = [*COLUMNS[:3], "actor_username", *COLUMNS[3:]]

    def get_reason(self, event: AccessEvent) -> str:
        return mask_text(event.reason)


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


class AccessEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Who read what, when and how. Read-only: no interface edits or deletes an audit row."""

    queryset = AccessEvent.objects.select_related("actor")
    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilter
    permission_classes = [model_permission("audit.view_accessevent")]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        events = self.filter_queryset(self.get_queryset()).iterator(chunk_size=2000)
        response = StreamingHttpResponse(csv_rows(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="access-events.csv"'
        return response


class SecurityAlertViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SecurityAlert.objects.all()
    serializer_class = SecurityAlertSerializer
    filterset_fields = ["kind", "severity", "actor"]
    permission_classes = [model_permission("audit.view_securityalert")]

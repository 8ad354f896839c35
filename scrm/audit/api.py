from auditlog.models import LogEntry
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from scrm.access.scope import LIST
from scrm.api.permissions import model_permission
from scrm.api.schema import FIRST_ROW_ID, links
from scrm.api.strict import StrictSerializer
from scrm.api.viewsets import RecordedReadsViewSetMixin, WriteOnly
from scrm.audit.changelog import changes_for, visible_log_entries
from scrm.audit.export import COLUMNS, csv_rows
from scrm.audit.filters import AccessEventFilter, ChangeLogFilter, logged_models
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.audit.read_budget import may_release_read_blocks, release_read_block
from scrm.masking.detectors import mask_text


class AccessEventSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(
        source="actor.username",
        default=None,
        allow_null=True,
        help_text="Username of the actor; null when no staff member acted (the system).",
    )
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


class AccessEventViewSet(RecordedReadsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Who read what, when and how. Read-only: no interface edits or deletes an audit row.
    Reading the trail is itself recorded: who read who read what."""

    queryset = AccessEvent.objects.select_related("actor")
    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilter
    permission_classes = [model_permission("audit.view_accessevent")]
    second_factor_actions = frozenset({"list", "retrieve", "export"})
    scope_actions = {**RecordedReadsViewSetMixin.scope_actions, "export": LIST}
    filtered_actions = ("export",)  # takes the list's filters (scrm.api.schema)
    response_links = {"audit_events_list": links("audit_events_retrieve", id=FIRST_ROW_ID)}

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


class ReleaseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class ReleasedSerializer(serializers.Serializer):
    staff = serializers.IntegerField(help_text="Id of the staff member whose reads are released.")
    released_at = serializers.DateTimeField(help_text="When the block was released.")
    block = serializers.IntegerField(help_text="Id of the read block released.")


class SecurityAlertViewSet(RecordedReadsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SecurityAlert.objects.all()
    serializer_class = SecurityAlertSerializer
    filterset_fields = ["kind", "severity", "actor"]
    permission_classes = [model_permission("audit.view_securityalert")]
    response_links = {
        "alerts_list": links("alerts_retrieve", "alerts_release_reads_create", id=FIRST_ROW_ID)
    }
    second_factor_actions = frozenset({"list", "retrieve", "release_reads"})
    scope_actions = {
        **RecordedReadsViewSetMixin.scope_actions,
        "release_reads": WriteOnly("releases a read block; answers the block, no alert rows"),
    }

    @extend_schema(request=ReleaseSerializer, responses=ReleasedSerializer)
    @action(detail=True, methods=["post"], url_path="release-reads")
    def release_reads(self, request, pk=None):
        """Release the list-read block of the staff member this alert is about (security
        officers only; not one's own); acknowledges the alert."""
        alert = self.get_object()
        body = ReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if alert.actor is None:  # the verb checks the role; say "not yours" before "no one"
            if not may_release_read_blocks(request.user):
                raise PermissionDenied(_("Only a security officer may release a read block."))
            raise ValidationError({"alert": [_("This alert names no staff member.")]})
        block = release_read_block(
            actor=request.user, staff=alert.actor, reason=body.validated_data["reason"]
        )
        SecurityAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=block.released_at, acknowledged_by=request.user
        )
        return Response(
            {"staff": alert.actor_id, "released_at": block.released_at, "block": block.pk}
        )


# Machine names of auditlog's actions (its labels are translatable).
LOG_ACTIONS = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    action = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    actor_username = serializers.CharField(
        source="actor.username",
        default=None,
        allow_null=True,
        help_text="Username of the actor; null when no staff member acted (the system).",
    )
    changes = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "timestamp",
            "action",
            "model",
            "object_id",
            "object_repr",
            "actor",
            "actor_username",
            "changes",
            "additional_data",
            "remote_addr",
        ]

    def get_action(self, entry: LogEntry) -> str:
        return LOG_ACTIONS.get(entry.action, str(entry.action))

    def get_model(self, entry: LogEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    def get_changes(self, entry: LogEntry) -> dict:
        # Through the masking matrix, the password always [hidden] (scrm.audit.changelog).
        return changes_for(entry, self.context["request"].user)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "model",
                enum=[label for label, _label in logged_models()],
                description="Only entries about this kind of record (app_label.model).",
            )
        ]
    )
)
class ChangeLogViewSet(RecordedReadsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Who changed what (django-auditlog's change log): staff records, roles, permissions,
    devices, customers, cases, rules. Entries about customers are narrowed to the reader's
    customer scope (scrm.audit.changelog); reading the log is itself recorded."""

    queryset = LogEntry.objects.select_related("actor", "content_type").order_by(
        "-timestamp", "-id"
    )
    serializer_class = ChangeLogEntrySerializer
    filterset_class = ChangeLogFilter
    permission_classes = [model_permission("auditlog.view_logentry")]
    response_links = {"audit_changes_list": links("audit_changes_retrieve", id=FIRST_ROW_ID)}

    def get_queryset(self):
        return visible_log_entries(super().get_queryset(), self.request.user)

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from scrm.audit.changelog import rendered_changes, visible_log_entries
from scrm.audit.export import csv_rows
from scrm.audit.models import AccessEvent, SecurityAlert
from scrm.masking.viewer import ViewerAdminMixin, current_viewer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit rows are append-only: nobody, not even a superuser, edits or deletes them here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "actor",
        "channel",
        "action",
        "model",
        "shown",
        "allowed",
        "flagged",
        "ip",
    ]
    list_filter = ["action", "channel", "allowed", "flagged", "model"]
    list_select_related = ["actor"]
    search_fields = ["actor__username", "reason", "path"]
    date_hierarchy = "at"
    change_list_template = "admin/audit/accessevent/change_list.html"

    @admin.display(description="objects")
    def shown(self, event: AccessEvent) -> str:
        ids = event.object_ids
        return ", ".join(map(str, ids[:10])) + (f" … (+{len(ids) - 10})" if len(ids) > 10 else "")

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_csv)
        return [path("export/", export, name="audit_accessevent_export"), *super().get_urls()]

    def export_csv(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request).iterator(chunk_size=2000)
        response = StreamingHttpResponse(csv_rows(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="access-events.csv"'
        return response


@admin.register(SecurityAlert)
class SecurityAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "severity", "actor", "message", "acknowledged_at"]
    list_filter = ["kind", "severity", ("acknowledged_at", admin.EmptyFieldListFilter)]
    list_select_related = ["actor"]
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge selected alerts", permissions=["acknowledge"])
    def acknowledge(self, request, queryset):
        count = queryset.filter(acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=request.user
        )
        self.message_user(request, f"{count} alert(s) acknowledged.")

    def has_acknowledge_permission(self, request) -> bool:
        return request.user.has_perm("audit.change_securityalert")


# --- insider §5: the change log, scoped like customers ---------------------------------------
# django-auditlog registers its own LogEntryAdmin (unscoped); scrm.audit comes after auditlog
# in INSTALLED_APPS, so this replaces it.
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ScopedLogEntryAdmin(ViewerAdminMixin, LogEntryAdmin):
    """The change log as the viewer's customer scope allows (scrm.audit.changelog): entries
    about customers outside it are not listed and their change forms answer "not found"; diffs
    render through the masking matrix."""

    def get_queryset(self, request):
        return visible_log_entries(super().get_queryset(request), request.user)

    @admin.display(description="Changes")
    def msg(self, obj):
        return rendered_changes(obj, current_viewer())

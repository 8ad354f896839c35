from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import ActionForm

from scrm.access.scope import LIST
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.audit.changelog import about_staff, rendered_changes, visible_log_entries
from scrm.audit.export import csv_rows
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.audit.read_budget import release_read_block
from scrm.masking.detectors import mask_text
from scrm.masking.viewer import ViewerAdminMixin, current_viewer


class ReadOnlyAdmin(DoorAdminMixin, ModelAdmin):
    """Audit rows are append-only: nobody, not even a superuser, edits or deletes them here.
    Reading them is recorded like any other read: who read who read what."""

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
    view_scopes = {"audit_accessevent_export": LIST}
    readonly_fields = ["shown_reason"]

    def get_fields(self, request, obj=None):
        # The reason shown through the detectors, in the stored field's place.
        fields = [f for f in super().get_fields(request, obj) if f != "shown_reason"]
        return ["shown_reason" if f == "reason" else f for f in fields]

    @admin.display(description="reason")
    def shown_reason(self, event: AccessEvent) -> str:
        return mask_text(event.reason)

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
        # The rows as they stand now: the export's own event is not part of it.
        newest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        events = changelist.get_queryset(request).filter(pk__lte=newest)
        self.record(
            request,
            AccessAction.EXPORT,
            [],
            query={**request.GET.dict(), "row_count": events.count()},
        )
        events = events.iterator(chunk_size=2000)
        response = StreamingHttpResponse(csv_rows(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="access-events.csv"'
        return response


class ReleaseActionForm(ActionForm):
    reason = forms.CharField(max_length=500, required=False, label="Reason (to release reads)")


@admin.register(SecurityAlert)
class SecurityAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "severity", "actor", "message", "acknowledged_at"]
    list_filter = ["kind", "severity", ("acknowledged_at", admin.EmptyFieldListFilter)]
    list_select_related = ["actor"]
    actions = ["acknowledge", "release_reads"]
    action_form = ReleaseActionForm

    @admin.action(
        description="Release the list-read block of the selected alerts' staff",
        permissions=["acknowledge"],
    )
    def release_reads(self, request, queryset):
        # The verb decides who may (security officers, never for themselves).
        reason = request.POST.get("reason", "")
        for staff in {a.actor for a in queryset.select_related("actor") if a.actor_id}:
            try:
                release_read_block(actor=request.user, staff=staff, reason=reason)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{staff.username}: {text}", messages.ERROR)
            else:
                queryset.filter(actor=staff, acknowledged_at__isnull=True).update(
                    acknowledged_at=timezone.now(), acknowledged_by=request.user
                )
                self.message_user(request, f"{staff.username} may read lists again.")

    @admin.action(description="Acknowledge selected alerts", permissions=["acknowledge"])
    def acknowledge(self, request, queryset):
        count = queryset.filter(acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=request.user
        )
        self.message_user(request, f"{count} alert(s) acknowledged.")

    def has_acknowledge_permission(self, request) -> bool:
        return request.user.has_perm("audit.change_securityalert")


# --- the change log, scoped like customers (insider §5) and recorded (insider §3) -----------
# django-auditlog registers its own LogEntryAdmin (unscoped); scrm.audit comes after auditlog
# in INSTALLED_APPS, so this replaces it.
admin.site.unregister(LogEntry)


class StaffMemberFilter(admin.SimpleListFilter):
    """Entries about one staff member: their record, roles and permissions, devices."""

    title = _("staff member")
    parameter_name = "staff"

    def lookups(self, request, model_admin):
        staff = get_user_model().objects.order_by("username").values_list("pk", "username")
        return list(staff)

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return about_staff(queryset, int(value)) if value.isdigit() else queryset.none()


@admin.register(LogEntry)
class ScopedLogEntryAdmin(ViewerAdminMixin, DoorAdminMixin, LogEntryAdmin, ModelAdmin):
    """The change log as the viewer's customer scope allows (scrm.audit.changelog): entries
    about customers outside it are not listed and their change forms answer "not found"; diffs
    render through the masking matrix. Reading it is recorded like any other read."""

    list_filter = [*LogEntryAdmin.list_filter, StaffMemberFilter]

    def get_queryset(self, request):
        return visible_log_entries(super().get_queryset(request), request.user)

    @admin.display(description="Changes")
    def msg(self, obj):
        return rendered_changes(obj, current_viewer())

from auditlog import filters as auditlog_filters
from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import AllValuesFieldListFilter
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
    TextFilter,
)
from unfold.forms import ActionForm

from scrm.access.scope import LIST
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.audit.changelog import (
    about_customer,
    about_staff,
    field_label,
    rendered_changes,
    shown_fields,
    visible_log_entries,
)
from scrm.audit.export import csv_rows
from scrm.audit.links import (
    admin_url,
    alert_page,
    model_name,
    model_of,
    object_links,
    subject_label,
)
from scrm.audit.models import ALERT_KIND_LABELS, AccessAction, AccessEvent, SecurityAlert
from scrm.audit.read_budget import release_read_block
from scrm.audit.selectors import events_touching
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


class SubjectIdFilter(TextFilter):
    """Events whose ids include one object of the subject model (a list counts for every id it
    showed): "who read customer N". The subject is a model label, not an import: the platform
    knows no domain app."""

    title = _("customer id")
    parameter_name = "customer_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return events_touching(queryset, subject_label(), int(value))


@admin.register(AccessEvent)
class AccessEventAdmin(ViewerAdminMixin, ReadOnlyAdmin):
    """Few, short columns (it fits 1366 px); the full values are on the event's own page."""

    list_display = ["at", "actor_name", "action", "target", "allowed"]
    list_display_links = ["at"]
    list_filter = [
        SubjectIdFilter,
        ("actor", RelatedDropdownFilter),
        ("action", ChoicesDropdownFilter),
        ("at", RangeDateTimeFilter),
        "allowed",
        "flagged",
        ("channel", ChoicesDropdownFilter),
    ]
    list_filter_submit = True  # the range and text filters apply on "submit"
    list_select_related = ["actor"]
    search_fields = ["actor__username", "actor__last_name", "actor__first_name", "path"]
    search_help_text = _("Staff username or name, or the page path.")
    change_list_template = "admin/audit/accessevent/change_list.html"
    view_scopes = {"audit_accessevent_export": LIST}
    # Shown in the stored fields' places: the reason through the detectors, the model and the
    # fields by their names ("客户", "手机号") rather than their codes.
    SHOWN_AS = {"reason": "shown_reason", "model": "model_label", "fields": "field_labels"}
    readonly_fields = [*SHOWN_AS.values(), "target"]

    def get_fields(self, request, obj=None):
        # The linked objects next to their ids.
        fields = [f for f in super().get_fields(request, obj) if f not in self.readonly_fields]
        fields = [self.SHOWN_AS.get(f, f) for f in fields]
        at = fields.index("object_ids") + 1 if "object_ids" in fields else len(fields)
        return [*fields[:at], "target", *fields[at:]]

    @admin.display(description=_("reason"))
    def shown_reason(self, event: AccessEvent) -> str:
        return mask_text(event.reason)

    @admin.display(description=_("model"))
    def model_label(self, event: AccessEvent) -> str:
        return model_name(event.model)

    @admin.display(description=_("fields"))
    def field_labels(self, event: AccessEvent) -> str:
        model = model_of(event.model)
        names = []
        for name in event.fields or []:
            try:
                found = model._meta.get_field(name) if model is not None else None
            except FieldDoesNotExist:  # a field since removed
                found = None
            # no model, no such field, or a relation (no verbose_name): the stored name
            names.append(str(getattr(found, "verbose_name", name)))
        return "、".join(names) or "-"

    @admin.display(description=_("actor"), ordering="actor__username")
    def actor_name(self, event: AccessEvent) -> str:
        return event.actor.display_name if event.actor is not None else "-"

    @admin.display(description=_("objects"))
    def target(self, event: AccessEvent) -> str:
        """The model and the first ids, each linked to its admin page where the viewer may
        open that admin (the page itself still applies the object's scope)."""
        return object_links(current_viewer(), event.model, event.object_ids)

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


class DropdownKindFilter(AllValuesFieldListFilter):
    """The alert kinds present, by their readable names."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            value = choice.get("display")
            if value in ALERT_KIND_LABELS:
                choice = {**choice, "display": ALERT_KIND_LABELS[value]}
            yield choice


class ReleaseActionForm(ActionForm):
    reason = forms.CharField(max_length=500, required=False, label=_("Reason (to release reads)"))


@admin.register(SecurityAlert)
class SecurityAlertAdmin(ViewerAdminMixin, ReadOnlyAdmin):
    list_display = ["created_at", "kind_label", "severity", "actor_name", "summary", "open_link"]
    list_display_links = ["created_at"]
    list_filter = [
        ("kind", DropdownKindFilter),
        "severity",
        ("acknowledged_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["actor"]
    fields = (
        "created_at",
        "kind_label",
        "severity",
        "actor_name",
        "message",
        "open_link",
        "acknowledged_at",
        "acknowledged_by",
    )
    readonly_fields = fields
    actions = ["acknowledge", "release_reads"]
    action_form = ReleaseActionForm

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, alert: SecurityAlert) -> str:
        return alert.kind_label

    @admin.display(description=_("actor"), ordering="actor__username")
    def actor_name(self, alert: SecurityAlert) -> str:
        return alert.actor.display_name if alert.actor is not None else "-"

    @admin.display(description=_("message"))
    def summary(self, alert: SecurityAlert) -> str:
        # Short in the list (it fits the screen); the whole text is on the alert's page.
        return Truncator(alert.message).chars(60)

    @admin.display(description=_("object"))
    def open_link(self, alert: SecurityAlert) -> str:
        """The page that opens the alert's object for its readers (a domain app's, see
        scrm.audit.links), else the object's admin page where the viewer may open it."""
        url, text = alert_page(alert) or (
            admin_url(current_viewer(), alert.model, alert.object_id) if alert.object_id else None,
            _("Open"),
        )
        if url is None:
            return object_links(None, alert.model, [alert.object_id] if alert.object_id else [])
        return format_html('<a href="{}" class="text-primary-600 underline">{}</a>', url, text)

    @admin.action(
        description=_("Release the list-read block of the selected alerts' staff"),
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
                self.message_user(
                    request,
                    _("%(name)s: %(error)s") % {"name": staff.display_name, "error": text},
                    messages.ERROR,
                )
            else:
                queryset.filter(actor=staff, acknowledged_at__isnull=True).update(
                    acknowledged_at=timezone.now(), acknowledged_by=request.user
                )
                self.message_user(
                    request, _("%(name)s may read lists again.") % {"name": staff.display_name}
                )

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["acknowledge"])
    def acknowledge(self, request, queryset):
        count = queryset.filter(acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=request.user
        )
        self.message_user(
            request,
            ngettext("%(count)d alert acknowledged.", "%(count)d alerts acknowledged.", count)
            % {"count": count},
        )

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


class CustomerChangesFilter(TextFilter):
    """Entries about one customer (by id): its record and the rows that belong to it."""

    title = _("customer id")
    parameter_name = "customer_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return about_customer(queryset, int(value)) if value.isdigit() else queryset.none()


class ResourceTypeFilter(auditlog_filters.ResourceTypeFilter):
    """auditlog's filter by model, listing the models by their names (客户), not their codes."""

    def lookups(self, request, model_admin):
        types = ContentType.objects.filter(
            pk__in=model_admin.get_queryset(request).values("content_type_id")
        )
        return sorted(((t.pk, str(t)) for t in types), key=lambda choice: choice[1])


@admin.register(LogEntry)
class ScopedLogEntryAdmin(ViewerAdminMixin, DoorAdminMixin, LogEntryAdmin, ModelAdmin):
    """The change log as the viewer's customer scope allows (scrm.audit.changelog): entries
    about customers outside it are not listed and their change forms answer "not found"; diffs
    render through the masking matrix. Reading it is recorded like any other read."""

    list_filter = [
        CustomerChangesFilter,
        *(
            ResourceTypeFilter if f is auditlog_filters.ResourceTypeFilter else f
            for f in LogEntryAdmin.list_filter
        ),
        StaffMemberFilter,
    ]
    list_filter_submit = True  # the customer id is typed, then applied

    def get_queryset(self, request):
        return visible_log_entries(super().get_queryset(request), request.user)

    @admin.display(description=_("User"))
    def user_url(self, obj):
        # auditlog writes "system" untranslated for changes made by no one (a background run).
        return super().user_url(obj) if obj.actor else gettext("system")

    @admin.display(description=_("Changes"))
    def msg(self, obj):
        return rendered_changes(obj, current_viewer())

    @admin.display(description=_("Changes"))
    def msg_short(self, obj):
        # The changed fields by their translated names ("公司, 手机号"), not their codes.
        if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        return Truncator(", ".join(field_label(obj, f) for f in shown_fields(obj))).chars(60)

    def get_list_display(self, request):
        # One customer's log reads as its changes: the field/old/new table on each row.
        if request.GET.get(CustomerChangesFilter.parameter_name, "").strip():
            return ["created", "resource_url", "action", "msg", "user_url"]
        return [f for f in super().get_list_display(request) if f != "cid_url"]

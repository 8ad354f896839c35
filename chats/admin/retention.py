"""Admin for retention: policies, legal holds (placed and released through chats.holds),
the purge log (read-only) and the history windows."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from unfold.admin import ModelAdmin
from unfold.forms import ActionForm

from chats.holds import MANAGE_PERMISSION, place_legal_hold, release_legal_hold
from chats.models import Conversation, HistoryWindow, LegalHold, PurgeLog, RetentionPolicy
from customers.models import Customer
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.masking.detectors import mask_text


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ModelAdmin):
    door_public = "configuration: retention periods"
    list_display = ["name", "days", "department", "channel", "tag"]
    list_filter = ["channel", "department", "tag"]
    list_select_related = ["department", "tag"]
    search_fields = ["name"]
    fields = ["name", "days", "department", "channel", "tag"]


class LegalHoldStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("released", _("Released"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["customer", "conversation", "reason"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("customer") and not cleaned.get("conversation"):
            raise ValidationError(_("Choose a customer or a conversation to hold."))
        return cleaned


class ReleaseHoldActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label=gettext_lazy("Release reason"),
        widget=forms.TextInput(attrs={"size": 40}),
    )


@admin.register(LegalHold)
class LegalHoldAdmin(DoorAdminMixin, ModelAdmin):
    """Holds are placed with the add form and released with the action; never edited."""

    form = LegalHoldForm
    action_form = ReleaseHoldActionForm
    actions = ["release_holds"]
    list_display = [
        "__str__",
        "placed_by",
        "placed_at",
        "released_by",
        "released_at",
    ]
    list_filter = [LegalHoldStatusFilter]
    list_select_related = ["placed_by", "released_by"]
    raw_id_fields = ["customer", "conversation"]
    readonly_fields = [
        "customer",
        "conversation",
        "shown_reason",
        "placed_by",
        "placed_at",
        "released_by",
        "released_at",
        "shown_release_reason",
    ]

    # Reasons are typed by people, who paste numbers into them: through the detectors.
    @admin.display(description=gettext_lazy("reason"))
    def shown_reason(self, hold: LegalHold) -> str:
        return mask_text(hold.reason)

    @admin.display(description=gettext_lazy("release reason"))
    def shown_release_reason(self, hold: LegalHold) -> str:
        return mask_text(hold.release_reason)

    def get_queryset(self, request):
        # Holds are listed through the visibility scope, like the customers they name.
        visible = Customer.objects.visible_to(request.user).values("pk")
        conversations = Conversation.objects.visible_to(request.user).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(Q(customer_id__in=visible) | Q(conversation_id__in=conversations))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = Customer.objects.visible_to(request.user)
        elif db_field.name == "conversation":
            kwargs["queryset"] = Conversation.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else LegalHoldForm.Meta.fields

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or self.has_manage_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_manage_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a released hold is history

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE_PERMISSION)

    def save_model(self, request, obj, form, change):
        hold = place_legal_hold(
            actor=request.user,
            reason=form.cleaned_data["reason"],
            customer=form.cleaned_data.get("customer"),
            conversation=form.cleaned_data.get("conversation"),
        )
        # The admin goes on with `obj` (its change message, redirect): make it the saved hold.
        obj.pk = hold.pk
        obj.placed_by = hold.placed_by
        obj.placed_at = hold.placed_at
        obj._state.adding = False

    @admin.action(description=gettext_lazy("Release selected holds"), permissions=["manage"])
    def release_holds(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(
                request, _("Nothing was released: enter a release reason."), messages.ERROR
            )
            return
        already = queryset.filter(released_at__isnull=False).count()
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                release_legal_hold(actor=request.user, hold=hold, reason=reason)
            except ValidationError:  # released by someone else meanwhile
                already += 1
                continue
            released += 1
        text = ngettext("%(count)d hold released.", "%(count)d holds released.", released) % {
            "count": released
        }
        if already:
            text += " " + ngettext(
                "%(count)d was already released.", "%(count)d were already released.", already
            ) % {"count": already}
        self.message_user(request, text, messages.SUCCESS)


@admin.register(PurgeLog)
class PurgeLogAdmin(ModelAdmin):
    """What each purge deleted; written only by chats.retention, never edited."""

    door_public = "counts per purge and policy, no messages"

    list_display = [
        "started_at",
        "finished_at",
        "actor",
        "dry_run",
        "deleted",
        "held",
        "attachments_deleted",
        "counts_by_policy",
    ]
    list_filter = ["dry_run"]
    list_select_related = ["actor"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HistoryWindow)
class HistoryWindowAdmin(ModelAdmin):
    door_public = "configuration: days of history per role"
    list_display = ["role", "days"]
    list_display_links = ["role"]
    list_editable = ["days"]

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from scrm.access.declarations import WriteOnly
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.staff import mfa, roles
from scrm.staff import services as staff_services
from scrm.staff.models import Department, Device, Staff, Team

if TYPE_CHECKING:
    from scrm.staff.types import Actor

# django-otp's own admins show every account's TOTP secret and its QR code to whoever may open
# them: devices are managed from the staff page instead (reset two-factor, end sessions).
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(Department)
class DepartmentAdmin(ModelAdmin):
    door_public = "the department tree: names"
    list_display = ["name", "parent"]
    search_fields = ["name"]


@admin.register(Team)
class TeamAdmin(ModelAdmin):
    door_public = "team names and departments"
    list_display = ["name", "department"]
    list_filter = ["department"]
    search_fields = ["name"]


class DeviceInline(TabularInline):
    model = Device
    extra = 0
    # A wiped device's row is what keeps telling the phone to erase its data, and the change
    # log finds a person's devices through their rows: devices are wiped, never deleted.
    can_delete = False
    fields = ["device_id", "name", "platform", "registered_at", "last_seen_at", "wipe_requested_at"]
    readonly_fields = ["registered_at", "last_seen_at"]


@admin.register(Staff)
class StaffAdmin(DoorAdminMixin, UserAdmin, ModelAdmin):
    # unfold's styled versions of UserAdmin's forms
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm

    list_display = [
        "username",
        "first_name",
        "last_name",
        "department",
        "team",
        "employment_status",
        "is_active",
    ]
    list_filter = ["employment_status", "is_active", "groups", "department", "team"]
    list_select_related = ["department", "team"]
    search_fields = ["username", "first_name", "last_name", "wecom_userid"]
    inlines = [DeviceInline]
    view_scopes = {
        "auth_user_password_change": WriteOnly("sets a password (administrators)"),
        "staff_staff_reactivate": WriteOnly("reactivates a leaver with a new password"),
    }
    fieldsets = [
        *(UserAdmin.fieldsets or ()),
        (
            gettext_lazy("Organisation"),
            {"fields": ["department", "team", "supervisor", "wecom_userid"]},
        ),
        (
            gettext_lazy("Employment"),
            {"fields": ["employment_status", "hired_on", "notice_date", "departed_at"]},
        ),
    ]

    actions = ["end_all_sign_ins", "reset_two_factor"]

    @admin.action(
        description=gettext_lazy("End every sign-in (lost phone): sessions and API tokens")
    )
    def end_all_sign_ins(self, request, queryset):
        if not self._is_administrator(request.user):
            raise PermissionDenied
        for staff in queryset:
            staff_services.sign_out_everywhere(
                actor=request.user, staff=staff, reason="lost_device"
            )
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "Every sign-in of %(count)d account has ended.",
                "Every sign-in of %(count)d accounts has ended.",
                count,
            )
            % {"count": count},
        )

    @admin.action(
        description=gettext_lazy("Reset two-factor authentication (they set it up again)")
    )
    def reset_two_factor(self, request, queryset):
        if not self._is_administrator(request.user):
            raise PermissionDenied
        for staff in queryset:
            mfa.reset_second_factor(actor=request.user, staff=staff)
        self.message_user(
            request,
            ngettext(
                "Two-factor reset for %(count)d account; its sign-ins have ended.",
                "Two-factor reset for %(count)d accounts; their sign-ins have ended.",
                queryset.count(),
            )
            % {"count": queryset.count()},
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._is_administrator(request.user):
            actions.pop("end_all_sign_ins", None)
            actions.pop("reset_two_factor", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        # Staff are deactivated, never deleted: customers, chats and audit rows refer to them.
        return False

    # Rights are handed out by administrators only. A staff editor (HR) who could tick
    # "superuser", add themselves to the Administrator group or set an administrator's password
    # would be an administrator in all but name. The organisation and lifecycle fields go
    # through scrm.staff.services (who approves a case and whose customers a manager sees
    # follow from them): for anyone but an administrator they are read-only, and a POST that
    # carries one anyway is refused whole. The add form asks only for a username and a password
    # (UserAdmin's): HR creates the account, an administrator places it in the organisation.
    ADMIN_ONLY_FIELDS = (
        "is_superuser",
        "groups",
        "user_permissions",
        "department",
        "team",
        "supervisor",
        "is_active",
    )
    # departed_at is set by the departure (services.end_access); the sign-in and joining dates
    # by Django. The form would also round date_joined to the second on every save, a change
    # the change log would show.
    ALWAYS_READONLY = ("departed_at", "last_login", "date_joined")
    PLACEMENT = ("department", "team", "supervisor")

    @staticmethod
    def _is_administrator(user: "Actor") -> bool:
        return staff_services.is_administrator(user)

    def _readonly_for(self, user: "Actor") -> list[str]:
        readonly = list(self.ALWAYS_READONLY)
        if not self._is_administrator(user):
            readonly += self.ADMIN_ONLY_FIELDS
            if roles.HR not in user.role_names:
                readonly.append("employment_status")
        return readonly

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + [f for f in self._readonly_for(request.user) if f not in readonly]

    def has_change_permission(self, request, obj=None) -> bool:
        # Nobody but an administrator edits an administrator's or a security officer's record.
        if obj is not None and not staff_services.may_edit(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not self._is_administrator(request.user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        if (
            request.method == "POST"
            and obj is not None
            and self.has_change_permission(request, obj)
        ):
            smuggled = sorted(f for f in self._readonly_for(request.user) if f in request.POST)
            if smuggled:
                self.message_user(
                    request,
                    _("Not saved: you may not change %(fields)s.")
                    % {"fields": ", ".join(smuggled)},
                    messages.ERROR,
                )
                return redirect(request.get_full_path())
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as exc:
            # A service refused: the whole save was rolled back (changeform_view is atomic).
            self.message_user(request, _("Not saved: %(reason)s") % {"reason": exc}, messages.ERROR)
            return redirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        lifecycle = (*self.PLACEMENT, "employment_status", "is_active")
        managed = [f for f in lifecycle if f in form.changed_data]
        original = Staff.objects.get(pk=obj.pk)
        wanted = {f: getattr(obj, f) for f in managed}
        for name in managed:  # the plain save keeps them; the verbs below change them
            setattr(obj, name, getattr(original, name))
        super().save_model(request, obj, form, change)
        actor = request.user
        try:
            if set(managed) & set(self.PLACEMENT):
                placement = {f: wanted.get(f, getattr(original, f)) for f in self.PLACEMENT}
                staff_services.change_placement(actor=actor, staff=obj, **placement)
            if "employment_status" in wanted:
                staff_services.set_employment_status(
                    actor=actor,
                    staff=obj,
                    status=wanted["employment_status"],
                    notice_date=form.cleaned_data.get("notice_date"),
                )
            if "is_active" in wanted:
                staff_services.set_active(actor=actor, staff=obj, is_active=wanted["is_active"])
        except (ValidationError, PermissionDenied) as exc:
            raise Refused(_message(exc)) from exc
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        groups = form.cleaned_data.pop("groups", None) if "groups" in form.changed_data else None
        super().save_related(request, form, formsets, change)
        if groups is not None:
            try:
                staff_services.set_groups(actor=request.user, staff=form.instance, groups=groups)
            except (ValidationError, PermissionDenied) as exc:
                raise Refused(_message(exc)) from exc

    # --- reactivation: an administrator's act, with a new password ---------------------------

    def get_urls(self):
        return [
            path(
                "<id>/reactivate/",
                self.admin_site.admin_view(self.reactivate_view),
                name="staff_staff_reactivate",
            ),
            *super().get_urls(),
        ]

    def reactivate_view(self, request, id):
        if not self._is_administrator(request.user):
            raise PermissionDenied
        staff = get_object_or_404(Staff, pk=id)
        form = ReactivateForm(staff, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                staff_services.reactivate_staff(
                    actor=request.user, staff=staff, new_password=form.cleaned_data["new_password1"]
                )
            except ValidationError as exc:
                form.add_error(None, _message(exc))
            else:
                self.message_user(
                    request,
                    _("%(name)s is active again with a new password.")
                    % {"name": staff.display_name},
                )
                return redirect(reverse("admin:staff_staff_change", args=[staff.pk]))
        return TemplateResponse(
            request,
            "admin/staff/staff/reactivate.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Reactivate %(name)s") % {"name": staff.display_name},
                "original": staff,
                "form": form,
            },
        )


class Refused(Exception):
    """A staff service refused the change; the admin shows the reason and saves nothing."""


class ReactivateForm(SetPasswordForm):
    """SetPasswordForm's two password fields and validators; the service sets the password."""

    def save(self, commit=True):  # pragma: no cover - reactivate_staff saves
        raise NotImplementedError


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    return str(exc)

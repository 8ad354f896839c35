from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from scrm.access.door import WriteOnly
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.staff.models import Department, Device, Staff, Team
from scrm.staff.roles import ADMINISTRATOR


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    door_public = "the department tree: names"
    list_display = ["name", "parent"]
    search_fields = ["name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    door_public = "team names and departments"
    list_display = ["name", "department"]
    list_filter = ["department"]
    search_fields = ["name"]


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ["device_id", "name", "platform", "registered_at", "last_seen_at", "wipe_requested_at"]
    readonly_fields = ["registered_at", "last_seen_at"]


@admin.register(Staff)
class StaffAdmin(DoorAdminMixin, UserAdmin):
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
    view_scopes = {"auth_user_password_change": WriteOnly("sets a password (administrators)")}
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Organisation", {"fields": ["department", "team", "supervisor", "wecom_userid"]}),
        ("Employment", {"fields": ["employment_status", "hired_on", "notice_date", "departed_at"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Staff are deactivated, never deleted: customers, chats and audit rows refer to them.
        return False

    # Rights are handed out by administrators only. A staff editor (HR) who could tick
    # "superuser", add themselves to the Administrator group or set an administrator's password
    # would be an administrator in all but name.
    @staticmethod
    def _is_administrator(user) -> bool:
        return user.is_superuser or ADMINISTRATOR in user.role_names

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self._is_administrator(request.user):
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def user_change_password(self, request, id, form_url=""):
        if not self._is_administrator(request.user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

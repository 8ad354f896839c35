from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from scrm.staff.models import Department, Device, Staff, Team


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "parent"]
    search_fields = ["name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "department"]
    list_filter = ["department"]
    search_fields = ["name"]


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ["device_id", "name", "platform", "registered_at", "last_seen_at", "wipe_requested_at"]
    readonly_fields = ["registered_at", "last_seen_at"]


@admin.register(Staff)
class StaffAdmin(UserAdmin):
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
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Organisation", {"fields": ["department", "team", "supervisor", "wecom_userid"]}),
        ("Employment", {"fields": ["employment_status", "hired_on", "notice_date", "departed_at"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Staff are deactivated, never deleted: customers, chats and audit rows refer to them.
        return False

"""Each person's own in-app notifications (offboarding approvals and hand-overs).

Opening one marks it read and follows its link; nobody sees anyone else's. Registered from
offboarding/admin.py, whose flow sends them (the home page lists the unread ones too)."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from scrm.staff.models import Notification


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    door_public = "the viewer's own notifications (titles and links, no customer data)"
    list_display = ["title", "created_at", "read"]
    list_display_links = None
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    # The link as something to click, not its path.
    fields = ["title", "body", "open_link", "created_at", "read_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(recipient_id=request.user.pk)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("title"))
    def title_link(self, note: Notification):
        from django.utils.html import format_html

        url = reverse("admin:staff_notification_open", args=[note.pk])
        return format_html('<a href="{}">{}</a>', url, note.title)

    @admin.display(description=_("link"))
    def open_link(self, note: Notification):
        from django.utils.html import format_html

        if not note.link:
            return "-"
        url = reverse("admin:staff_notification_open", args=[note.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open"))

    @admin.display(description=_("read"), boolean=True)
    def read(self, note: Notification) -> bool:
        return note.read_at is not None

    def get_list_display(self, request):
        return ["title_link", "created_at", "read"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.open_view)
        return [path("<int:pk>/open/", view, name="staff_notification_open"), *super().get_urls()]

    def open_view(self, request, pk: int):
        """Mark the viewer's notification read and follow its link (only within this site)."""
        note = get_object_or_404(self.get_queryset(request), pk=pk)
        if note.read_at is None:
            Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
        safe = url_has_allowed_host_and_scheme(note.link, allowed_hosts={request.get_host()})
        if note.link and safe and note.link.startswith("/"):
            return HttpResponseRedirect(note.link)
        return HttpResponseRedirect(reverse("admin:staff_notification_changelist"))

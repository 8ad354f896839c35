import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from chats.admin.alerts import alert_message_view
from chats.export import CSV, EXPORT_PERMISSION, XLSX, export_response
from chats.filters import MessageFilter
from chats.models import Conversation, Message, SensitiveWordRule
from chats.search import matching, search
from chats.timeline import (
    message_direction,
    message_sender,
    recorded_thread,
    recorded_timeline,
)
from scrm.access.scope import LIST, VIEW
from scrm.audit.admin_mixins import DoorAdminMixin, reads_blocked_page
from scrm.audit.models import AccessAction, Channel
from scrm.dbrouting import read_replica
from scrm.masking.admin_lookups import DeclaredLookupsMixin
from scrm.masking.free_text import display_text
from scrm.masking.policy import customer_label, shown
from scrm.masking.viewer import ViewerAdminMixin, current_viewer

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

SEARCH_PAGE_SIZE = 50
SEARCH_COUNT_CAP = 1000


def _customer_shown(customer, viewer: "Viewer | None") -> str | None:
    """A customer column: the name as the masking matrix shows it to the viewer."""
    if customer is None:
        return "-"
    return shown(viewer, "name", customer.name, owner_id=customer.owner_id)


class ArchiveAdmin(DeclaredLookupsMixin, ViewerAdminMixin, DoorAdminMixin, ModelAdmin):
    """The archive is read in the admin, never edited: it is the record relied on in disputes.
    Columns render for the viewer (ViewerAdminMixin: the masking matrix, the content rights).
    Its changelists filter on their list filters only (`?text__contains=` is an oracle on the
    masked text: the search page searches what the viewer sees)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ArchiveAdmin):
    list_display = ["id", "channel", "customer_masked", "owner", "last_message_at"]
    list_filter = ["channel"]
    list_select_related = ["customer", "owner"]
    fields = (
        "channel",
        "external_id",
        "room_id",
        "customer_masked",
        "owner",
        "created_at",
        "last_message_at",
    )
    readonly_fields = fields

    @admin.display(description=_("customer"))
    def customer_masked(self, conversation: Conversation) -> str | None:
        return _customer_shown(conversation.customer, current_viewer())

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user, LIST)


@admin.register(Message)
class MessageAdmin(ArchiveAdmin):
    list_display = [
        "id",
        "sent_at",
        "channel",
        "msg_type",
        "customer_masked",
        "staff",
        "shown_text",
        "revoked_at",
    ]
    list_filter = ["channel", "msg_type", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["customer", "staff"]
    date_hierarchy = "sent_at"
    fields = (
        "conversation",
        "channel",
        "external_id",
        "sent_at",
        "msg_type",
        "customer_masked",
        "staff",
        "sender_staff",
        "shown_text",
        "shown_attachment_name",
        "attachment_size",
        "attachment_content_type",
        "attachment_sha256",
        "revoked_at",
        "digest",
    )
    readonly_fields = fields
    change_list_template = "admin/chats/message/change_list.html"
    actions = ["export_csv", "export_xlsx"]
    view_scopes = {
        "chats_message_search": LIST,
        "chats_message_timeline": VIEW,
        "chats_message_alert": VIEW,  # the message an alert names, for the alert's readers
        "chats_message_thread": VIEW,  # recorded_thread scopes and records it
    }

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def _export(self, request, queryset, fmt: str):
        # The selection is already inside the viewer's scope (get_queryset); masking and the
        # access event are the export service's.
        return export_response(
            user=request.user,
            queryset=queryset,
            fmt=fmt,
            channel=Channel.ADMIN,
            filters=request.GET.dict(),
            request=request,
        )

    @admin.action(description=_("Export selected messages (CSV)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, CSV)

    @admin.action(description=_("Export selected messages (XLSX)"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, XLSX)

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description=_("customer"))
    def customer_masked(self, message: Message) -> str | None:
        return _customer_shown(message.customer, current_viewer())

    @admin.display(description=_("text"))
    def shown_text(self, message: Message) -> str:
        return display_text(current_viewer(), message.text)

    @admin.display(description=_("attachment name"))
    def shown_attachment_name(self, message: Message) -> str:
        return display_text(current_viewer(), message.attachment_name)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("search/", view(self.search_view), name="chats_message_search"),
            path(
                "timeline/<int:customer_id>/",
                view(self.timeline_view),
                name="chats_message_timeline",
            ),
            path(
                "alert/<int:alert_id>/",
                view(lambda request, alert_id: alert_message_view(self, request, alert_id)),
                name="chats_message_alert",
            ),
            path(
                "thread/<int:conversation_id>/",
                view(self.thread_view),
                name="chats_message_thread",
            ),
            *super().get_urls(),
        ]

    def search_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if (blocked := reads_blocked_page(request, Message)) is not None:
            return blocked
        keyword = request.GET.get("q", "").strip()[:100]
        page = _page_number(request.GET.get("p"))
        visible = self.get_queryset(request).using(read_replica())
        filters = MessageFilter(request.GET, queryset=visible)
        results, count, has_next = [], 0, False
        if keyword and filters.is_valid():
            visible = filters.qs.select_related("customer", "staff", "sender_staff")
            # Counted up to a bound, as the API does: "1,000+" is as useful as 2,949,921.
            found = matching(visible, keyword, user=request.user)
            count = found.order_by()[: SEARCH_COUNT_CAP + 1].count()
            found = search(visible, keyword, user=request.user)
            start = (page - 1) * SEARCH_PAGE_SIZE
            results = list(found[start : start + SEARCH_PAGE_SIZE + 1])
            has_next = len(results) > SEARCH_PAGE_SIZE
            results = results[:SEARCH_PAGE_SIZE]
            self.record(
                request, AccessAction.SEARCH, [m.pk for m in results], query=request.GET.dict()
            )
        rows = [
            {
                "message": m,
                "text": highlighted(display_text(request.user, m.text), keyword),
                "customer": _customer_shown(m.customer, request.user),
                "staff": m.staff.display_name if m.staff else "-",
                "sender": message_sender(request.user, m),
                "direction": message_direction(m),
                "thread_url": thread_link(m),
            }
            for m in results
        ]
        params = {k: v for k, v in request.GET.items() if k != "p"}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Search chat messages"),
            "q": keyword,
            "rows": rows,
            "count": min(count, SEARCH_COUNT_CAP),
            "count_capped": count > SEARCH_COUNT_CAP,
            "filter_form": filters.form,
            "page_size": SEARCH_PAGE_SIZE,
            "page": page,
            "first_shown": (page - 1) * SEARCH_PAGE_SIZE + 1 if rows else 0,
            "last_shown": (page - 1) * SEARCH_PAGE_SIZE + len(rows),
            "previous_url": f"?{urlencode({**params, 'p': page - 1})}" if page > 1 else "",
            "next_url": f"?{urlencode({**params, 'p': page + 1})}" if has_next else "",
        }
        return TemplateResponse(request, "admin/chats/message/search.html", context)

    def timeline_view(self, request, customer_id: int):
        if (blocked := reads_blocked_page(request, Message)) is not None:
            return blocked
        timeline = recorded_timeline(
            user=request.user,
            customer_id=customer_id,
            channel=Channel.ADMIN,
            request=request,
            newest_first=True,
        )
        if timeline is None:
            raise PermissionDenied
        customer = timeline.pop("customer_obj")
        label = customer_label(request.user, customer)
        for entry in timeline["entries"]:
            if entry["kind"] == "message":
                entry["thread_url"] = (
                    reverse("admin:chats_message_thread", args=[entry["detail"]["conversation"]])
                    + f"?around={entry['id']}#m-{entry['id']}"
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            **timeline,
            "title": _("Timeline of %(customer)s") % {"customer": label},
            "customer": customer,
            "customer_label": label,
        }
        return TemplateResponse(request, "admin/chats/message/timeline.html", context)

    def thread_view(self, request, conversation_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if (blocked := reads_blocked_page(request, Message)) is not None:
            return blocked
        around = request.GET.get("around", "")
        thread = recorded_thread(
            user=request.user,
            conversation_id=conversation_id,
            around=int(around) if around.isdigit() else None,
            channel=Channel.ADMIN,
            request=request,
        )
        if thread is None:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            **thread,
            "title": _("Conversation with %(who)s") % {"who": thread["with"]},
        }
        return TemplateResponse(request, "admin/chats/message/thread.html", context)


def _page_number(value: str | None) -> int:
    """?p= as a page number from 1; anything else is the first page (never a 500)."""
    return max(1, int(value)) if value and value.isdigit() and len(value) < 6 else 1


def highlighted(text: str, keyword: str) -> str:
    """`text` HTML-escaped, each case-insensitive occurrence of `keyword` wrapped in <mark>.

    Split on the raw keyword, then escape every piece, so a keyword can never match inside an
    entity the escaping produced ("amp" in "&amp;") nor let markup of the text through."""
    if not keyword:
        return conditional_escape(text)
    pieces = re.split(f"({re.escape(keyword)})", text, flags=re.IGNORECASE)
    return mark_safe(  # noqa: S308 (every piece is escaped here)
        "".join(
            format_html("<mark>{}</mark>", piece) if i % 2 else conditional_escape(piece)
            for i, piece in enumerate(pieces)
        )
    )


def thread_link(message: Message) -> str:
    """The message in its conversation thread, scrolled to it."""
    url = reverse("admin:chats_message_thread", args=[message.conversation_id])
    return f"{url}?around={message.pk}#m-{message.pk}"


class SensitiveWordRuleForm(forms.ModelForm):
    class Meta:
        model = SensitiveWordRule
        fields = ["kind", "pattern", "severity", "active"]
        # The pattern is checked by SensitiveWordRule.clean_fields with the engine that runs
        # it (RE2, chats.alerts); Python's re accepted patterns RE2 refuses.


@admin.register(SensitiveWordRule)
class SensitiveWordRuleAdmin(ModelAdmin):
    door_public = "configuration: the rules, no messages"
    form = SensitiveWordRuleForm
    list_display = ["pattern", "kind", "severity", "active", "created_at"]
    list_filter = ["kind", "severity", "active"]
    list_editable = ["active"]

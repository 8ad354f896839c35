"""The chat archive's panel on a rep's home: their latest conversations (over their scope)."""

from typing import Any

from django.http import HttpRequest

from chats.models import Conversation, Message
from customers.dashboard import RECENT, changelist_url, is_rep, reads_blocked, record_panel
from scrm.access.scope import LIST
from scrm.masking.free_text import display_text
from scrm.masking.policy import customer_label


def recent_chats_panel(request: HttpRequest) -> dict[str, Any] | None:
    """A rep's latest conversations: when, with whom, and the last message as they may read it."""
    user = request.user
    if not is_rep(user) or not user.has_perm("chats.view_message"):
        return None
    if reads_blocked(request, Message):
        return None
    conversations = list(
        Conversation.objects.visible_to(user, LIST)
        .filter(last_message_at__isnull=False)
        .select_related("customer")
        .order_by("-last_message_at", "-id")[:RECENT]
    )
    messages = Message.objects.visible_to(user, LIST)
    rows, shown = [], []
    for conversation in conversations:
        last = messages.filter(conversation=conversation).order_by("-sent_at", "-id").first()
        if last is None:
            continue  # outside the viewer's history window, or hidden by them
        shown.append(last.pk)
        customer = conversation.customer
        rows.append(
            {
                "who": customer_label(user, customer) if customer else conversation.title,
                "at": last.sent_at,
                "excerpt": display_text(user, last.text)[:40] or last.get_msg_type_display(),
            }
        )
    record_panel(request, Message, shown, "recent_chats")
    return {"rows": rows, "list_url": changelist_url("chats_message")}

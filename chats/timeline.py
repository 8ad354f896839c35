"""One customer's history in time order (messages, follow-ups and transactions, merged), and
one conversation as a thread."""

from datetime import datetime, time
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from chats.models import Conversation, Message, customer_messages_q
from customers.models import Customer
from customers.services import yuan
from scrm.access.scope import VIEW
from scrm.audit.models import AccessAction
from scrm.audit.services import record_access
from scrm.masking.free_text import display_text
from scrm.masking.policy import shown

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

LIMIT = 1000


def _file_summary(user: "Viewer", message: Message) -> str:
    """A message without text: its type, and the file's name through the detectors."""
    name = display_text(user, message.attachment_name)
    return f"[{message.msg_type}] {name}" if name else f"[{message.msg_type}]"


OUTGOING, INCOMING = "outgoing", "incoming"


def message_sender(user: "Viewer", message: Message) -> str:
    """Who sent a message, for `user`: the staff member's display name, or the customer's name
    as the masking matrix shows it to `user` (the owner's rep sees it, others the mask)."""
    if message.sender_staff_id and (staff := message.sender_staff):
        return staff.display_name
    customer = message.sender_customer or message.customer
    if customer is None:
        return "-"
    return shown(user, "name", customer.name, owner_id=customer.owner_id) or "-"


def message_direction(message: Message) -> str:
    """OUTGOING when staff sent it (发出), INCOMING when the customer did (收到)."""
    return OUTGOING if message.sender_staff_id else INCOMING


def customer_timeline(
    *, user: "Viewer", customer: Customer, limit: int = LIMIT, newest_first: bool = False
) -> dict:
    """The newest `limit` entries of each kind, merged oldest first (the API) or newest first
    (the admin page); `truncated` if cut."""
    messages = list(
        Message.objects.visible_to(user)
        .filter(customer_messages_q(customer.pk))  # their private chats and their rooms
        .select_related("sender_staff", "sender_customer", "customer")
        .order_by("-sent_at", "-id")[: limit + 1]
    )
    follow_ups = list(customer.follow_ups.select_related("staff").order_by("-at")[: limit + 1])
    transactions = list(customer.transactions.order_by("-date")[: limit + 1])
    truncated = any(len(rows) > limit for rows in (messages, follow_ups, transactions))
    entries = (
        [
            {
                "kind": "message",
                "at": m.sent_at,
                "id": m.pk,
                "summary": display_text(user, m.text) or _file_summary(user, m),
                "sender": message_sender(user, m),
                "direction": message_direction(m),
                "detail": {
                    "msg_type": m.msg_type,
                    "conversation": m.conversation_id,
                    "sender": m.sender_staff.username if m.sender_staff else "customer",
                    "revoked": m.revoked_at is not None,
                },
            }
            for m in messages[:limit]
        ]
        + [
            {
                "kind": "follow_up",
                "at": f.at,
                "id": f.pk,
                "summary": display_text(user, f.note),
                "sender": f.staff.display_name,
                "direction": "",
                "detail": {"staff": f.staff.username, "done": f.done},
            }
            for f in follow_ups[:limit]
        ]
        + [
            {
                "kind": "transaction",
                "at": timezone.make_aware(datetime.combine(t.date, time.min)),
                "id": t.pk,
                "summary": f"{t.product} {t.amount}",
                "sender": "",
                "direction": "",
                "yuan": yuan(t.amount),
                "detail": {"product": t.product, "amount": str(t.amount)},
            }
            for t in transactions[:limit]
        ]
    )
    entries.sort(key=lambda e: (e["at"], e["kind"], e["id"]), reverse=newest_first)
    return {"customer": customer.pk, "truncated": truncated, "entries": entries}


def recorded_timeline(
    *, user: "Viewer", customer_id: int, channel: str, request=None, newest_first: bool = False
) -> dict | None:
    """The timeline of a customer the user may see, recorded as a view; None (recorded as a
    denied attempt) when the customer is outside the user's scope or does not exist."""
    customer = Customer.objects.visible_to(user, VIEW).filter(pk=customer_id).first()
    audit = {
        "actor": user,
        "model": Customer,
        "object_ids": [customer_id],
        "channel": channel,
        "request": request,
    }
    if customer is None:
        record_access(
            action=AccessAction.DENIED, allowed=False, query={"attempt": "timeline"}, **audit
        )
        return None
    timeline = customer_timeline(user=user, customer=customer, newest_first=newest_first)
    # Its entries count against the notice-period read budget (scrm/audit/read_budget.py).
    rows = len(timeline["entries"])
    record_access(action=AccessAction.VIEW, query={"view": "timeline"}, row_count=rows, **audit)
    return {**timeline, "customer_obj": customer}


THREAD_LIMIT = 200  # messages on a page of a thread, and on each side of the one a hit opens


def _customer_side(user: "Viewer", conversation: Conversation) -> str:
    """Who the conversation is with, for `user`: the customer as the matrix shows them, or
    the room's title."""
    if conversation.customer_id and (customer := conversation.customer):
        return shown(user, "name", customer.name, owner_id=customer.owner_id) or "-"
    return conversation.title or str(conversation)


def conversation_thread(
    *,
    user: "Viewer",
    conversation: Conversation,
    around: int | None = None,
    limit: int | None = None,
) -> dict:
    """A conversation's messages oldest first as a thread: the newest `limit`, or `limit` on
    each side of message `around` (a search hit, or the edge of the page before). `older` and
    `newer` are the message to centre the page before / after on (None at either end). Text
    and attachment names are shown through the content detectors unless the viewer may read
    them raw (scrm.masking.free_text)."""
    limit = limit or THREAD_LIMIT
    visible = (
        Message.objects.visible_to(user)
        .filter(conversation_id=conversation.pk)
        # A revoke is a record about another message, which the thread marks as revoked.
        .exclude(msg_type=Message.Type.REVOKE)
        .select_related("sender_staff", "sender_customer", "customer")
    )
    target = visible.filter(pk=around).first() if around else None
    if target is None:
        rows = list(visible.order_by("-sent_at", "-id")[: limit + 1])
        has_older, has_newer = len(rows) > limit, False
        rows = rows[:limit][::-1]
    else:
        before = list(
            visible.filter(
                Q(sent_at__lt=target.sent_at) | Q(sent_at=target.sent_at, id__lte=target.pk)
            ).order_by("-sent_at", "-id")[: limit + 1]
        )
        after = list(
            visible.filter(
                Q(sent_at__gt=target.sent_at) | Q(sent_at=target.sent_at, id__gt=target.pk)
            ).order_by("sent_at", "id")[: limit + 1]
        )
        has_older, has_newer = len(before) > limit, len(after) > limit
        rows = before[:limit][::-1] + after[:limit]
    bubbles = [
        {
            "id": m.pk,
            "at": m.sent_at,
            "sender": message_sender(user, m),
            "direction": message_direction(m),
            "text": display_text(user, m.text),
            "msg_type": m.msg_type,
            "msg_type_label": m.get_msg_type_display(),
            "attachment": display_text(user, m.attachment_name),
            "revoked": m.revoked_at is not None,
            "revoked_at": m.revoked_at,
            "target": m.pk == around,
        }
        for m in rows
    ]
    return {
        "conversation": conversation,
        "with": _customer_side(user, conversation),
        "bubbles": bubbles,
        "older": rows[0].pk if has_older else None,
        "newer": rows[-1].pk if has_newer else None,
    }


def recorded_thread(
    *, user: "Viewer", conversation_id: int, channel: str, around: int | None = None, request=None
) -> dict | None:
    """The thread of a conversation the user may see, recorded as a view of the messages it
    shows; None (recorded as a denied attempt) when the conversation is outside their scope."""
    conversation = (
        Conversation.objects.visible_to(user, VIEW)
        .select_related("customer")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or not user.has_perm("chats.view_message"):
        record_access(
            actor=user,
            action=AccessAction.DENIED,
            allowed=False,
            model=Conversation,
            object_ids=[conversation_id],
            channel=channel,
            request=request,
            query={"attempt": "thread"},
        )
        return None
    thread = conversation_thread(user=user, conversation=conversation, around=around)
    ids = [m["id"] for m in thread["bubbles"]]
    record_access(
        actor=user,
        action=AccessAction.VIEW,
        model=Message,
        object_ids=ids,
        channel=channel,
        request=request,
        query={"view": "thread", "conversation": conversation_id},
        row_count=len(ids),
    )
    return thread

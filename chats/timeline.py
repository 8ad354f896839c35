"""One customer's history in time order: messages, follow-ups and transactions, merged."""

from datetime import datetime, time

from django.utils import timezone

from chats.display import display_text
from chats.models import Message, customer_messages_q
from customers.models import Customer
from scrm.access.scope import VIEW
from scrm.audit.models import AccessAction
from scrm.audit.services import record_access

LIMIT = 1000


def _file_summary(user, message: Message) -> str:
    """A message without text: its type, and the file's name through the detectors."""
    name = display_text(user, message.attachment_name)
    return f"[{message.msg_type}] {name}" if name else f"[{message.msg_type}]"


def customer_timeline(*, user, customer: Customer, limit: int = LIMIT) -> dict:
    """The newest `limit` entries of each kind, merged oldest first; `truncated` if cut."""
    messages = list(
        Message.objects.visible_to(user)
        .filter(customer_messages_q(customer.pk))  # their private chats and their rooms
        .select_related("sender_staff")
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
                "detail": {"product": t.product, "amount": str(t.amount)},
            }
            for t in transactions[:limit]
        ]
    )
    entries.sort(key=lambda e: (e["at"], e["kind"], e["id"]))
    return {"customer": customer.pk, "truncated": truncated, "entries": entries}


def recorded_timeline(*, user, customer_id: int, channel: str, request=None) -> dict | None:
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
    timeline = customer_timeline(user=user, customer=customer)
    # Its entries count against the notice-period read budget (scrm/audit/read_budget.py).
    rows = len(timeline["entries"])
    record_access(action=AccessAction.VIEW, query={"view": "timeline"}, row_count=rows, **audit)
    return {**timeline, "customer_obj": customer}

"""Storing archived messages: idempotent on (channel, external id), per-item results.

One batch costs a fixed number of queries whatever its size (lookups by `__in`, bulk inserts),
which is what keeps ingest fast (docs/benchmarks.md#chat-ingest).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chats.alerts import alerts_for_messages
from chats.ingest_backends import ingest_backend
from chats.models import Channel, Conversation, ConversationCustomer, Message
from chats.search import search_columns
from chats.wecom import InvalidRecord, ParsedMessage, parse_record
from customers.models import Customer

if TYPE_CHECKING:
    from scrm.staff.types import Actor

MAX_BATCH = 1000
DEADLOCK_DETECTED = "40P01"  # PostgreSQL SQLSTATE
UNNAMED_CUSTOMER = "未命名客户"
KEY_LENGTH = cast(int, Conversation._meta.get_field("external_id").max_length)


@dataclass
class ItemResult:
    index: int
    msgid: str
    status: str  # created | duplicate | error
    id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        data = {"index": self.index, "msgid": self.msgid, "status": self.status}
        if self.id is not None:
            data["id"] = self.id
        if self.reason:
            data["reason"] = self.reason
        return data


def _conversation_key(parsed: ParsedMessage, staff_ids: dict[str, int]) -> tuple[str, str, str]:
    """(conversation external id, staff wecom id, customer external id) of a message.

    A group room is keyed by its room id and has no customer: it is the room's conversation,
    whoever speaks in it (its members are recorded by _room_members).
    """
    people = [parsed.sender, *parsed.recipients]
    staff = next((p for p in people if p in staff_ids), "")
    if parsed.room_id:
        return parsed.room_id, staff, ""
    external = next((p for p in people if p not in staff_ids), "")
    return "|".join(sorted({staff, external} - {""})), staff, external


def _room_members(
    fresh: list[tuple[int, ParsedMessage]], keys: dict[int, str], staff_ids: dict[str, int]
) -> dict[str, tuple[set[str], set[str]]]:
    """room key -> (staff wecom ids, external ids) of everyone named in its messages."""
    members: dict[str, tuple[set[str], set[str]]] = {}
    for index, parsed in fresh:
        if not parsed.room_id:
            continue
        staff, externals = members.setdefault(keys[index], (set(), set()))
        for person in (parsed.sender, *parsed.recipients):
            (staff if person in staff_ids else externals).add(person)
    return members


def _customers_for(external_ids: set[str]) -> dict[str, int]:
    found = dict(
        Customer.objects.filter(wecom_external_userid__in=external_ids).values_list(
            "wecom_external_userid", "pk"
        )
    )
    missing = external_ids - found.keys()
    # Unknown senders become unassigned customers so no message is dropped; HR/sales assign them.
    Customer.objects.bulk_create(
        [Customer(name=UNNAMED_CUSTOMER, wecom_external_userid=e) for e in sorted(missing)],
        ignore_conflicts=True,
    )
    if missing:
        found.update(
            Customer.objects.filter(wecom_external_userid__in=missing).values_list(
                "wecom_external_userid", "pk"
            )
        )
    return found


def _conversations_for(
    keys: dict[str, tuple[str, str, datetime]],
    channel: str,
    staff_ids: dict[str, int],
    customer_ids: dict[str, int],
    room_keys,
) -> dict[str, int]:
    found = dict(
        Conversation.objects.filter(channel=channel, external_id__in=keys).values_list(
            "external_id", "pk"
        )
    )
    new = [
        Conversation(
            channel=channel,
            external_id=key,
            room_id=key if key in room_keys else "",
            owner_id=staff_ids.get(staff),
            customer_id=customer_ids.get(external),
            last_message_at=last,
        )
        for key, (staff, external, last) in sorted(keys.items())
        if key not in found
    ]
    Conversation.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        found.update(
            Conversation.objects.filter(
                channel=channel, external_id__in=[c.external_id for c in new]
            ).values_list("external_id", "pk")
        )
    return found


def _store_media(row: dict, parsed: ParsedMessage) -> None:
    if parsed.media is None:
        return
    message = Message(**row)  # the upload_to path is the model's
    message.attachment.save(
        parsed.attachment_name or f"{parsed.msgid}.bin", ContentFile(parsed.media), save=False
    )
    row["attachment"] = message.attachment.name
    row["attachment_sha256"] = hashlib.sha256(parsed.media).hexdigest()


def _store(
    parsed_items: list[tuple[int, ParsedMessage]], channel: str, results: dict[int, ItemResult]
) -> None:
    msgids = [p.msgid for _, p in parsed_items]
    existing = dict(
        Message.objects.filter(channel=channel, external_id__in=msgids).values_list(
            "external_id", "pk"
        )
    )
    fresh: list[tuple[int, ParsedMessage]] = []
    seen: set[str] = set()
    for index, parsed in parsed_items:
        if parsed.msgid in existing or parsed.msgid in seen:
            results[index] = ItemResult(
                index, parsed.msgid, "duplicate", existing.get(parsed.msgid)
            )
            continue
        seen.add(parsed.msgid)
        fresh.append((index, parsed))
    if not fresh:
        return
    backend = ingest_backend()

    people = {p for _, m in fresh for p in (m.sender, *m.recipients)}
    staff_ids: dict[str, int] = {
        userid: pk
        for userid, pk in get_user_model()
        .objects.filter(wecom_userid__in=people)
        .values_list("wecom_userid", "pk")
        if userid is not None  # the filter matched it, so never None: for the type
    }
    keys: dict[str, tuple[str, str, datetime]] = {}
    message_keys = {}
    for index, parsed in list(fresh):
        key, staff, external = _conversation_key(parsed, staff_ids)
        if len(key) > KEY_LENGTH:
            # Two ids of the maximum length make a private chat's key too long to store.
            results[index] = ItemResult(
                index, parsed.msgid, "error", reason="the participants' ids are too long"
            )
            fresh.remove((index, parsed))
            continue
        message_keys[index] = (key, staff, external)
        previous = keys.get(key)
        last = max(parsed.sent_at, previous[2]) if previous else parsed.sent_at
        keys[key] = (
            staff or (previous[0] if previous else ""),
            external or (previous[1] if previous else ""),
            last,
        )
    if not fresh:
        return
    rooms = _room_members(fresh, {i: k[0] for i, k in message_keys.items()}, staff_ids)
    room_externals = {e for _, externals in rooms.values() for e in externals}
    customer_ids = _customers_for({v[1] for v in keys.values() if v[1]} | room_externals)
    conversation_ids = _conversations_for(keys, channel, staff_ids, customer_ids, rooms.keys())

    now = timezone.now()
    rows: list[dict[str, Any]] = []
    for index, parsed in fresh:
        key, staff, external = message_keys[index]
        row: dict[str, Any] = {
            "conversation_id": conversation_ids[key],
            "channel": channel,
            "external_id": parsed.msgid,
            "customer_id": customer_ids.get(keys[key][1]),
            "staff_id": staff_ids.get(keys[key][0]),
            "sender_staff_id": staff_ids.get(parsed.sender),
            "sender_customer_id": customer_ids.get(parsed.sender),
            "sent_at": parsed.sent_at,
            "msg_type": parsed.msg_type,
            "text": parsed.text,
            "attachment": "",
            "attachment_name": parsed.attachment_name,
            "attachment_size": parsed.attachment_size,
            "attachment_content_type": parsed.attachment_content_type,
            "attachment_sha256": "",
            "digest": parsed.digest,
            **search_columns(parsed.text),  # search_tokens and the masked viewers' columns
            "revoked_at": None,
            "ingested_at": now,
        }
        _store_media(row, parsed)
        rows.append(row)
    backend.insert_messages(rows, batch_size=MAX_BATCH)

    for (index, parsed), row in zip(fresh, rows, strict=True):
        results[index] = ItemResult(index, parsed.msgid, "created", row["id"])
    apply_revokes(channel, [p for _, p in fresh if p.revokes])
    _touch_conversations(backend, keys, conversation_ids, staff_ids, rooms)
    _link_room_customers(backend, rooms, conversation_ids, customer_ids)
    alerts_for_messages(rows)


def apply_revokes(channel: str, revokes: list[ParsedMessage]) -> None:
    # A revoke marks the earlier message revoked; the original stays in the archive.
    for revoke in revokes:
        Message.objects.filter(
            channel=channel, external_id=revoke.revokes, revoked_at__isnull=True
        ).update(revoked_at=revoke.sent_at)


def _touch_conversations(backend, keys, conversation_ids, staff_ids, rooms) -> None:
    # In key order, like every row this batch locks: concurrent batches then wait for each
    # other instead of deadlocking. A room's staff participants are all its staff members:
    # they are whose scopes see it (chats.models.scope_room_ids).
    participants = {
        (conversation_ids[key], staff_ids[staff])
        for key, (staff, _external, _last) in keys.items()
        if staff in staff_ids
    }
    participants |= {
        (conversation_ids[key], staff_ids[person])
        for key, (staff, _externals) in rooms.items()
        for person in staff
    }
    backend.insert_pairs(
        Conversation.staff.through, ("conversation_id", "staff_id"), sorted(participants)
    )
    backend.advance_last_message_at(
        sorted((conversation_ids[key], last) for key, (_staff, _external, last) in keys.items())
    )


def _link_room_customers(backend, rooms, conversation_ids, customer_ids) -> None:
    """Each external member of a room, linked to their customer (their timeline shows it)."""
    pairs = sorted(
        {
            (conversation_ids[key], customer_ids[person])
            for key, (_staff, externals) in rooms.items()
            for person in externals
            if person in customer_ids
        }
    )
    backend.insert_pairs(ConversationCustomer, ("conversation_id", "customer_id"), pairs)


def ingest_records(
    *, records: list, actor: "Actor", channel: str = Channel.WECOM
) -> list[ItemResult]:
    """Store a batch of archive records (at most MAX_BATCH) and say what happened to each.

    Invalid records are reported with a reason and skipped; the valid ones are stored in one
    transaction. Re-sending a record answers "duplicate" with the stored id. Raises
    PermissionDenied without the ingest permission, ValueError for an oversize batch.
    """
    if not actor.has_perm("chats.ingest_message"):
        raise PermissionDenied(_("You may not ingest chat messages."))
    if len(records) > MAX_BATCH:
        raise ValueError(f"a batch holds at most {MAX_BATCH} messages")
    results: dict[int, ItemResult] = {}
    parsed_items = []
    for index, record in enumerate(records):
        try:
            parsed_items.append((index, parse_record(record)))
        except InvalidRecord as exc:
            msgid = record.get("msgid", "") if isinstance(record, dict) else ""
            results[index] = ItemResult(index, str(msgid)[:128], "error", reason=str(exc))
    for attempt in range(2):
        try:
            with transaction.atomic():
                _store(parsed_items, channel, results)
            break
        except (IntegrityError, OperationalError) as error:
            # A concurrent ingest stored some of these first (the retry reports them
            # duplicate), or chose this batch as a deadlock victim: the batch rolled back whole.
            retryable = isinstance(error, IntegrityError) or (
                getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED
            )
            if attempt or not retryable:
                raise
    return [results[i] for i in sorted(results)]

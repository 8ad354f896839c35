"""Conversations per customer and messages spread over two years, in time order.

Conversations: a customer with an owner has none (20 %), a WeCom chat with the owner (70 %) or
a WeCom and a WeChat chat (10 %); the external id is the one ingest would derive for that pair
("staff|customer", sorted), so ingesting more records for the pair lands in the same chat. Each
chat gets an activity weight (log-normal: most chats are quiet, a few are busy).

Messages: ids follow `sent_at` (the archive is ingested in time order), the volume grows over
the two years (density rising linearly from 0.5x to 1.5x the mean), and each message goes to a
chat whose customer already existed at that time, picked by activity weight. Senders alternate
between the staff side and the customer; texts come from `chat_text`, and `search_tokens` (with
the masked viewers' columns) from `chats.search.search_columns`, exactly as ingest computes them.
"""

import hashlib
import math
import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

from chats.search import search_columns
from customers.management.dataset.chat_text import ChatText
from customers.management.dataset.copy import NULL, line, text, ts
from customers.management.dataset.people import CustomerTimeline, external_id

MESSAGE_YEARS = 2
CHANNELS = ("wecom", "wechat")
CONVERSATION_COLUMNS = [
    "id", "channel", "external_id", "room_id", "title", "created_at", "last_message_at",
    "customer_id", "owner_id",
]  # fmt: skip
CONVERSATION_STAFF_COLUMNS = ["conversation_id", "staff_id"]
MESSAGE_COLUMNS = [
    "id", "conversation_id", "channel", "external_id", "customer_id", "staff_id",
    "sender_staff_id", "sender_customer_id", "sent_at", "msg_type", "text", "attachment",
    "attachment_name", "attachment_size", "attachment_content_type", "attachment_sha256",
    "digest", "search_tokens", "masked_text", "masked_search_tokens", "revoked_at", "ingested_at",
]  # fmt: skip
CONTENT_TYPES = {
    "image": "image/jpeg",
    "voice": "audio/amr",
    "file": "application/octet-stream",
}


@dataclass
class Conversations:
    """Parallel arrays, ordered by customer creation time (so a prefix = chats existing then)."""

    ids: array = field(default_factory=lambda: array("q"))
    customers: array = field(default_factory=lambda: array("q"))
    owners: array = field(default_factory=lambda: array("q"))
    channels: array = field(default_factory=lambda: array("b"))
    created: array = field(default_factory=lambda: array("d"))
    cumulative: array = field(default_factory=lambda: array("d"))  # activity weights, summed


def plan_conversations(
    *, owners, first_customer_id: int, first_id: int, timeline: CustomerTimeline, seed: int
) -> Conversations:
    rng = random.Random(seed + 17)
    chats = Conversations()
    total, next_id = 0.0, first_id
    for index, owner in enumerate(owners):
        if not owner:
            continue
        draw = rng.random()
        count = 0 if draw < 0.2 else 2 if draw > 0.9 else 1
        for channel in range(count):
            chats.ids.append(next_id)
            chats.customers.append(first_customer_id + index)
            chats.owners.append(owner)
            chats.channels.append(channel)
            chats.created.append(timeline.created(index))
            total += rng.lognormvariate(0, 1.0)
            chats.cumulative.append(total)
            next_id += 1
    return chats


def conversation_rows(chats: Conversations, wecom: dict[int, str], first_customer_id: int):
    """COPY payloads for the conversations and their staff membership."""
    rows, members = [], []
    for n, pk in enumerate(chats.ids):
        customer_ext = external_id(chats.customers[n] - first_customer_id)
        staff = wecom[chats.owners[n]]
        key = "|".join(sorted((staff, customer_ext)))
        rows.append(
            line(
                (
                    str(pk),
                    CHANNELS[chats.channels[n]],
                    key,
                    "",
                    "",
                    ts(chats.created[n]),
                    NULL,  # set from the messages once they are loaded
                    str(chats.customers[n]),
                    str(chats.owners[n]),
                )
            )
        )
        members.append(f"{pk}\t{chats.owners[n]}\n")
    return "".join(rows).encode(), "".join(members).encode()


class MessageClock:
    """Maps a quantile of the message volume to a time: density rises from 0.5x to 1.5x."""

    def __init__(self, now: float):
        self.now = now
        self.start = now - MESSAGE_YEARS * 365 * 86400

    def at(self, quantile: float) -> float:
        # CDF F(u) = (u + u^2) / 2 for u in [0, 1]; solve for u.
        u = -0.5 + math.sqrt(0.25 + 2 * quantile)
        return self.start + (self.now - 60 - self.start) * u


def _memoized_tokens():
    """search_columns with a per-chunk memo: short chat phrases repeat a lot (same result)."""
    memo: dict[str, tuple[str, str, str]] = {}

    def tokens(body: str) -> tuple[str, str, str]:
        found = memo.get(body)
        if found is None:
            columns = search_columns(body)
            found = memo[body] = (
                text(columns["search_tokens"]),
                text(columns["masked_text"]),
                text(columns["masked_search_tokens"]),
            )
        return found

    return tokens


def message_chunk(
    *, first_id: int, count: int, total: int, chats: Conversations, clock: MessageClock, seed: int
) -> bytes:
    """COPY payload for messages first_id..first_id+count-1 of `total` (ids from 1 upwards)."""
    rng = random.Random(seed * 7_919 + first_id)
    chat = ChatText(rng)
    low, high = (first_id - 1) / total, (first_id - 1 + count) / total
    quantiles = sorted(low + (high - low) * rng.random() for _ in range(count))
    created, cumulative = chats.created, chats.cumulative
    tokens = _memoized_tokens()
    rows = []
    for offset, quantile in enumerate(quantiles):
        pk = first_id + offset
        sent = clock.at(quantile)
        existing = max(1, bisect_right(created, sent))
        n = bisect_right(cumulative, rng.random() * cumulative[existing - 1], 0, existing)
        n = min(n, existing - 1)
        customer, owner = chats.customers[n], chats.owners[n]
        from_staff = rng.random() < 0.5
        msg_type = chat.msg_type()
        body, attachment_name = chat.text(msg_type, from_staff)
        msgid = f"gen{pk:010d}"
        sent_stamp = ts(sent)
        revoked = ts(sent + 60) if rng.random() < 0.002 else NULL
        rows.append(
            line(
                (
                    str(pk),
                    str(chats.ids[n]),
                    CHANNELS[chats.channels[n]],
                    msgid,
                    str(customer),
                    str(owner),
                    str(owner) if from_staff else NULL,
                    NULL if from_staff else str(customer),
                    sent_stamp,
                    msg_type,
                    text(body),
                    "",
                    text(attachment_name),
                    str(rng.randrange(2_000, 5_000_000)) if msg_type in CONTENT_TYPES else NULL,
                    CONTENT_TYPES.get(msg_type, ""),
                    "",
                    hashlib.sha256(f"{msgid}\x1f{sent_stamp}\x1f{body}".encode()).hexdigest(),
                    *tokens(body),
                    revoked,
                    ts(sent + rng.randrange(1, 300)),
                )
            )
        )
    return "".join(rows).encode()

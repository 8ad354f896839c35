"""The demo's WeCom chat archive, as the archive export delivers it: one record per message
(the format of chats/wecom.py), in time order, stored through `chats.ingest.ingest_records`
like `import_chats` and the batch API store theirs. So the demo's messages get what real ones
get: digests, search tokens (SQLite's FTS tables), the masked search columns, attachments in
MEDIA_ROOT with their SHA-256, revokes applied, group-room members linked, and an alert for
every message a sensitive-word rule matches.

Each chat is a sequence of sessions (scripts.Topic) spread over the last HISTORY_DAYS days,
weighted towards the last week as a live sales book is. The whole archive is drawn from one seed
and each chat from its own (its key), and message ids are "demo-<chat key>-<n>": re-running
the seed produces the same ids, which ingest answers "duplicate", so nothing is stored twice.
"""

import base64
import hashlib
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from customers.management.demo import scripts
from customers.management.demo.scripts import Topic
from scrm.masking.detectors import mask_text

HISTORY_DAYS = 200  # past the default retention (SCRM_CHAT_RETENTION_DAYS = 180)
DEFAULT_MESSAGES = 6000
MSGID_PREFIX = "demo-"
ROOM_PREFIX = "wrdemo"
WORKDAY = (9 * 3600, 20 * 3600 + 1800)  # sessions start between 9:00 and 20:30, local time
# How a chat's sessions spread: (share in the last 7 days, share in days 7-31); the rest is
# spread over days 31 to HISTORY_DAYS.
REP_SHAPE = (0.3, 0.2)
LEAVER_SHAPE = (0.6, 0.15)  # a leaver's last weeks are busy: hand-over talk
ROOM_SHAPE = (0.3, 0.3)


@dataclass(frozen=True)
class ChatStaff:
    wecom_id: str
    salutation: str  # how customers address them: 李经理
    full_name: str  # 李娜


@dataclass(frozen=True)
class ChatCustomer:
    external_id: str
    salutation: str  # 王总, 陈女士
    company: str
    mobile: str
    id_number: str
    email: str
    address: str


@dataclass
class Chat:
    """One conversation to generate: a private chat (one customer) or a group room."""

    key: str  # the customer's external id, or the room id
    rep: ChatStaff
    customers: list[ChatCustomer]
    weight: float = 1.0
    shape: tuple[float, float] = REP_SHAPE
    recent_topic: str = "quote"  # its newest session (scripts.RECENT_*)
    successor: str = ""  # a leaver's chat: who takes over (adds a hand-over session)
    room_id: str = ""
    title: str = ""
    silent: list[str] = field(default_factory=list)  # staff members who only read (a lead)

    @property
    def members(self) -> list[str]:
        return [self.rep.wecom_id, *self.silent, *(c.external_id for c in self.customers)]


def salutation(name: str, key: str, seed: int) -> str:
    """A customer's form of address: the family name (first character) and a title."""
    title = random.Random(f"{seed}:title:{key}").choice(["总", "总", "先生", "女士"])
    return f"{name[:1]}{title}"


def split(total: int, weights: list[float]) -> list[int]:
    """`total` in proportion to `weights`, exactly (largest remainder)."""
    if not weights or total <= 0:
        return [0] * len(weights)
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def build_records(chats: list[Chat], *, total: int, now: datetime, seed: int) -> list[dict]:
    """`total` archive records over `chats` (in proportion to their weights), oldest first."""
    records = []
    for chat, quota in zip(chats, split(total, [c.weight for c in chats]), strict=True):
        records += ChatWriter(chat, seed=seed, now=now).records(quota)
    records.sort(key=lambda r: (r["msgtime"], r["msgid"]))
    return records


class ChatWriter:
    def __init__(self, chat: Chat, *, seed: int, now: datetime):
        self.chat, self.now = chat, now
        self.rng = random.Random(f"{seed}:chat:{chat.key}")
        self.today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        self.number = 0

    def plan(self, quota: int) -> list[tuple[Topic, float]]:
        """(topic, days ago) of each session, first contact first, then the recent ones."""
        chat, rng = self.chat, self.rng
        topics = scripts.ROOM if chat.room_id else scripts.PRIVATE
        weights = [t.weight for t in topics]
        first = scripts.ROOM[0] if chat.room_id else scripts.GREETING
        plan = [(first, 0.0), (scripts.BY_NAME[chat.recent_topic], rng.uniform(0.05, 4))]
        if chat.successor:
            plan.append((scripts.HANDOVER, rng.uniform(1, 6)))
        count = sum(len(t.lines) for t, _ in plan)
        while count < quota:
            topic = rng.choices(topics, weights=weights)[0]
            plan.append((topic, self.days_ago()))
            count += len(topic.lines)
        oldest = max(days for _, days in plan)
        plan[0] = (first, min(oldest + rng.uniform(0.5, 5), HISTORY_DAYS - 0.01))
        return plan

    def days_ago(self) -> float:
        recent, month = self.chat.shape
        draw = self.rng.random()
        if draw < recent:
            return self.rng.uniform(0, 7)
        if draw < recent + month:
            return self.rng.uniform(7, 31)
        return self.rng.uniform(31, HISTORY_DAYS - 0.01)

    def records(self, quota: int) -> list[dict]:
        out: list[dict] = []
        for topic, days in self.plan(quota):
            out += self.session(topic, days)
        return out[:quota]

    def start(self, days: float) -> datetime:
        day = self.today - timedelta(days=int(days))
        return day + timedelta(seconds=self.rng.uniform(*WORKDAY))

    def session(self, topic: Topic, days: float) -> list[dict]:
        chat, rng = self.chat, self.rng
        customer = rng.choice(chat.customers)
        others = [c for c in chat.customers if c is not customer]
        second = rng.choice(others) if others else customer
        speakers = {"s": chat.rep.wecom_id, "c": customer.external_id, "c2": second.external_id}
        context = self.context(customer)
        at = self.start(days)
        timed = []
        for speaker, kind, template in topic.lines:
            timed.append((at, speaker, kind, template))
            pause = rng.uniform(8, 90) if kind == "revoke" else rng.uniform(20, 600)
            at += timedelta(seconds=pause)
        # A session drawn for today may not have ended yet: start it earlier today at random
        # (yesterday if today's working hours so far are too short for it).
        length = timed[-1][0] - timed[0][0]
        latest = self.now - timedelta(minutes=1) - length
        if timed[-1][0] > latest + length:
            earliest = self.today + timedelta(seconds=WORKDAY[0])
            if latest > earliest:
                begin = earliest + (latest - earliest) * rng.random()
            else:
                begin = self.today - timedelta(days=1) + timedelta(seconds=rng.uniform(*WORKDAY))
            start = timed[0][0]
            timed = [(t - start + begin, who, kind, line) for t, who, kind, line in timed]
        records, last_by = [], dict[str, str]()
        for at, speaker, kind, template in timed:
            sender = speakers[speaker]
            record = self.record(sender, at, kind, template.format(**context), last_by.get(sender))
            last_by[sender] = record["msgid"]
            records.append(record)
        return records

    def context(self, customer: ChatCustomer) -> dict[str, str]:
        rng, chat = self.rng, self.chat
        price = rng.choice([980, 1280, 1980, 2980, 3600, 4800])
        return {
            "cname": customer.salutation,
            "rep": chat.rep.salutation,
            "rep_full": chat.rep.full_name,
            "successor": chat.successor or "接手的同事",
            "company": customer.company or "我们公司全称",
            "email": customer.email or f"caiwu{customer.external_id[-4:]}@163.com",
            "mobile": customer.mobile,
            "id_number": customer.id_number,
            "address": customer.address,
            "product": rng.choice(scripts.PRODUCTS),
            "item": rng.choice(scripts.ITEMS),
            "colleague": rng.choice(scripts.COLLEAGUES),
            "weekday": rng.choice(scripts.WEEKDAYS),
            "qty": str(rng.choice([5, 10, 20, 30, 50, 80])),
            "price": str(price),
            "low_price": str(price * rng.choice([6, 7]) // 10),
            "discount": rng.choice(["九", "八八", "八五", "八"]),
            "n": str(rng.randint(3, 9)),
            "pct": str(rng.choice([30, 40, 50])),
            "days": str(rng.randint(2, 4)),
            "tracking": self.tracking_number(),
            "wechat": f"{chat.rep.wecom_id}_sh{rng.randrange(10, 99)}",
        }

    def tracking_number(self) -> str:
        # Twelve digits can read as a mobile with a digit glued on; keep those out of the
        # tracking numbers, so what is masked in the demo is what should be.
        while True:
            number = f"SF{self.rng.randrange(3 * 10**11, 10**12)}"
            if mask_text(number) == number:
                return number

    def record(self, sender: str, at: datetime, kind: str, text: str, previous: str | None):
        self.number += 1
        msgid = f"{MSGID_PREFIX}{self.chat.key}-{self.number:04d}"
        record = {
            "msgid": msgid,
            "action": "send",
            "from": sender,
            "tolist": [m for m in self.chat.members if m != sender],
            "roomid": self.chat.room_id,
            "msgtime": int(at.timestamp() * 1000),
            "msgtype": kind,
        }
        if kind == "text":
            record["text"] = {"content": text}
        elif kind == "image":
            media = png(self.rng.randrange(2**24))
            record["image"] = {"md5sum": hashlib.md5(media).hexdigest(), "filesize": len(media)}
            record.update(
                media_base64=base64.b64encode(media).decode(), media_content_type="image/png"
            )
        elif kind == "file":
            media = pdf(msgid)
            record["file"] = {
                "filename": text,
                "fileext": "pdf",
                "md5sum": hashlib.md5(media).hexdigest(),
                "filesize": len(media),
            }
            record.update(
                media_base64=base64.b64encode(media).decode(), media_content_type="application/pdf"
            )
        elif kind == "link":
            record["link"] = {
                "title": text,
                "description": "点击查看详情",
                "link_url": f"https://demo.scrm.example/docs/{self.rng.randrange(1000, 9999)}",
            }
        elif kind == "voice":
            record["voice"] = {
                "voice_size": self.rng.randrange(3_000, 40_000),
                "play_length": self.rng.randrange(2, 40),
            }
        elif kind == "revoke":
            record["revoke"] = {"pre_msgid": previous or msgid}
        return record


def png(rgb: int, width: int = 32, height: int = 24) -> bytes:
    """A small one-colour PNG (the demo's photos: what matters is that it is a real image)."""
    pixel = rgb.to_bytes(3, "big")
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf(label: str) -> bytes:
    """A one-page PDF naming the demo attachment (ASCII: the base fonts have no Chinese)."""
    text = f"scrm demo attachment {label}".encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length " + str(len(stream)).encode() + b">>stream\n" + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj".encode() + body + b"endobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)

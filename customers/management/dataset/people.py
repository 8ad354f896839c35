"""Customer rows (with real ciphertext and blind indexes), their tags, follow-ups and deals.

Every encrypted column goes through `scrm.crypto.keyring.encrypt` (AES-256-GCM with a fresh
nonce, the key id in front), exactly as `EncryptedTextField.get_prep_value` stores it, and the
blind indexes through `customers.models.mobile_index` / `id_number_index`; so the generated
table is what the application would have written, and reads decrypt it as usual.

Names, companies and streets come from pools drawn once from Faker (zh_CN) with a fixed seed:
drawing from Faker per customer would be minutes at a million customers
(docs/benchmarks.md#dataset-name-pools).
Customer N is created at a time that grows with N (ids follow creation order, as they do in
production), spread over `CUSTOMER_YEARS` years before now.
"""

import random
from datetime import UTC, date, datetime, timedelta

from faker import Faker

from customers.management.commands.seed_demo import (
    DISTRICTS,
    EMAIL_DOMAINS,
    MOBILE_PREFIXES,
    NOTES,
    NOTES_WITH_MOBILE,
    PRODUCTS,
    SOURCE_WEIGHTS,
    STAGE_WEIGHTS,
    TAG_WEIGHTS,
    TAGS,
)
from customers.management.dataset.copy import NULL, line, text, ts
from customers.models import id_number_index, mobile_index
from scrm.crypto.keyring import encrypt
from scrm.masking.validation import id_checksum_char

CUSTOMER_YEARS = 3
EXTERNAL_ID_PREFIX = "wmgen"

CUSTOMER_COLUMNS = [
    "id", "name", "mobile", "mobile_bidx", "wechat_id", "email", "id_number", "id_number_bidx",
    "address", "company", "source_channel", "stage", "wecom_external_userid", "created_at",
    "updated_at", "owner_id",
]  # fmt: skip
TAG_COLUMNS = ["customer_id", "tag_id"]
FOLLOW_UP_COLUMNS = ["customer_id", "staff_id", "at", "note", "due_at", "done"]
TRANSACTION_COLUMNS = ["customer_id", "date", "product", "amount"]

_STAGES, _STAGE_W = [str(s) for s in STAGE_WEIGHTS], list(STAGE_WEIGHTS.values())
_SOURCES, _SOURCE_W = [str(s) for s in SOURCE_WEIGHTS], list(SOURCE_WEIGHTS.values())
_WECHAT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def external_id(index: int) -> str:
    return f"{EXTERNAL_ID_PREFIX}{index:08d}"


class Pools:
    """Faker draws made once; customers pick from them."""

    def __init__(self, seed: int):
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.names = [fake.name() for _ in range(20_000)]
        self.companies = [fake.company() for _ in range(5_000)]
        self.streets = [fake.street_name() for _ in range(1_000)]
        self.user_names = [fake.user_name() for _ in range(5_000)]


class CustomerTimeline:
    """When customer N was created: evenly over the years before `now`, in id order."""

    def __init__(self, total: int, now: float):
        self.total, self.now = max(total, 1), now
        self.start = now - CUSTOMER_YEARS * 365 * 86400

    def created(self, index: int) -> float:
        return self.start + (self.now - 86400 - self.start) * index / self.total


def customer_chunk(
    *,
    first: int,
    count: int,
    first_id: int,
    owners,
    tag_ids: dict[str, int],
    timeline: CustomerTimeline,
    pools: Pools,
    seed: int,
) -> dict[str, bytes]:
    """COPY payloads for customers first..first+count-1 (ids first_id + index - first)."""
    rng = random.Random(seed * 1_000_003 + first)
    customers, tags, notes, deals = [], [], [], []
    for index in range(first, first + count):
        pk = first_id + index
        owner = owners[index]
        created = timeline.created(index)
        mobile = rng.choice(MOBILE_PREFIXES) + f"{(index * 73_939_133 + 5_550_123) % 10**8:08d}"
        city, district, area = rng.choice(DISTRICTS)
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(44 * 365))
        first17 = f"{area}{birth:%Y%m%d}{rng.randrange(1, 1000):03d}"
        id_number = first17 + id_checksum_char(first17)
        if rng.random() < 0.7:
            wechat = "wxid_" + "".join(rng.choices(_WECHAT_CHARS, k=14))
        else:
            wechat = f"{rng.choice(pools.user_names)}{rng.randrange(10, 9999)}"
        email = (
            f"{rng.choice(pools.user_names)}{rng.randrange(100)}@{rng.choice(EMAIL_DOMAINS)}"
            if rng.random() < 0.8
            else ""
        )
        address = f"{city}{district}{rng.choice(pools.streets)}{rng.randrange(1, 999)}号"
        stage = rng.choices(_STAGES, _STAGE_W)[0]
        stamp = ts(created)
        customers.append(
            line(
                (
                    str(pk),
                    text(rng.choice(pools.names)),
                    encrypt(mobile),
                    mobile_index(mobile),
                    encrypt(wechat),
                    encrypt(email) if email else "",
                    encrypt(id_number),
                    id_number_index(id_number),
                    encrypt(address),
                    text(rng.choice(pools.companies)) if rng.random() < 0.75 else "",
                    rng.choices(_SOURCES, _SOURCE_W)[0],
                    stage,
                    external_id(index),
                    stamp,
                    stamp,
                    str(owner) if owner else NULL,
                )
            )
        )
        for name in set(rng.choices(TAGS, TAG_WEIGHTS, k=rng.choices((0, 1, 2), (50, 35, 15))[0])):
            tags.append(f"{pk}\t{tag_ids[name]}\n")
        if owner:
            notes.extend(_follow_ups(rng, pk, owner, created, timeline.now, mobile))
        if stage == "won":
            deals.extend(_deals(rng, pk, created))
    return {
        "customers": "".join(customers).encode(),
        "tags": "".join(tags).encode(),
        "follow_ups": "".join(notes).encode(),
        "transactions": "".join(deals).encode(),
    }


def _follow_ups(rng, pk: int, owner: int, created: float, now: float, mobile: str) -> list[str]:
    rows = []
    for _ in range(rng.choices((0, 1, 2, 3), (25, 35, 25, 15))[0]):
        if rng.random() < 0.04:
            note = rng.choice(NOTES_WITH_MOBILE).format(mobile=mobile)
        else:
            note = rng.choice(NOTES).format(product=rng.choice(PRODUCTS))
        at = created + rng.random() * (now - created)
        due = at + rng.randrange(1, 15) * 86400 if rng.random() < 0.4 else None
        done = due is not None and due < now and rng.random() < 0.7
        rows.append(
            line(
                (str(pk), str(owner), ts(at), note, ts(due) if due else NULL, "t" if done else "f")
            )
        )
    return rows


def _deals(rng, pk: int, created: float) -> list[str]:
    day, today = datetime.fromtimestamp(created, UTC).date(), date.today()
    return [
        line(
            (
                str(pk),
                min(day + timedelta(days=rng.randrange(1, 120)), today).isoformat(),
                rng.choice(PRODUCTS),
                f"{rng.randrange(500_00, 200_000_00) / 100:.2f}",
            )
        )
        for _ in range(rng.randint(1, 3))
    ]

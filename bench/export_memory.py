"""Peak memory and speed of the chat export while its streamed response is consumed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench_export \\
        .venv/bin/python bench/export_memory.py --rows 200000 [--format csv|xlsx]

Generates the messages first (bulk_create in batches; rerunning tops up to --rows, it never
duplicates), then measures each export in a fresh child process so the peak RSS
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) belongs to the export alone; generation runs in
a child of its own too, because that high-water mark survives fork and exec. Two exports are
measured for a legal user (raw, no history window), through the API view: one customer's
messages (about 1/CUSTOMERS of the rows) and everything. Flat memory means the two peaks are
about the same although the second exports CUSTOMERS times as many rows.

The database must be a throwaway one: the script refuses a database whose name does not contain
"bench" unless --allow-any-db is given.
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
# A developer tool on the development keys (.scrm-dev-keys.json): DEBUG defaults to off.
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from chats.api.export import ChatExportView  # noqa: E402
from chats.models import Channel, Conversation, Message  # noqa: E402
from customers.models import Customer  # noqa: E402
from scrm.staff import roles  # noqa: E402
from scrm.staff.models import Staff  # noqa: E402

PREFIX = "bench-export"
CUSTOMERS = 200
BATCH = 5000
TEXTS = (
    "您好，我是{name}，请明天下午三点前回电 139{n:08d}，谢谢！",
    "合同已经发到邮箱 cust{n}@example.com，请查收并确认付款方式。",
    "Price list for order {n} attached; delivery to 上海市浦东新区张江路{n}号 next week.",
    "好的，没问题。",
)


def peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def staff(username: str, role: str) -> Staff:
    user, created = Staff.objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        user.groups.add(Group.objects.get(name=role))
    return user


def conversations() -> list[Conversation]:
    rep = staff(f"{PREFIX}-rep", roles.SALES_REP)
    found = list(Conversation.objects.filter(external_id__startswith=f"{PREFIX}-"))
    for n in range(len(found), CUSTOMERS):
        customer = Customer.objects.create(
            name=f"张{n}", mobile=f"138{n:08d}", owner=rep, source_channel="wecom"
        )
        found.append(
            Conversation.objects.create(
                channel=Channel.WECOM,
                external_id=f"{PREFIX}-{n}",
                customer=customer,
                owner=rep,
            )
        )
    return found


def generate(rows: int) -> int:
    """Top the benchmark messages up to `rows`; returns how many exist."""
    chats = conversations()
    existing = Message.objects.filter(external_id__startswith=f"{PREFIX}-").count()
    start = time.perf_counter()
    now = timezone.now()
    for first in range(existing, rows, BATCH):
        batch = []
        for n in range(first, min(first + BATCH, rows)):
            chat = chats[n % CUSTOMERS]
            text = TEXTS[n % len(TEXTS)].format(n=n, name=f"张{n % CUSTOMERS}")
            from_staff = n % 3 == 0
            batch.append(
                Message(
                    conversation_id=chat.pk,
                    channel=chat.channel,
                    external_id=f"{PREFIX}-{n}",
                    customer_id=chat.customer_id,
                    staff_id=chat.owner_id,
                    sender_staff_id=chat.owner_id if from_staff else None,
                    sender_customer_id=None if from_staff else chat.customer_id,
                    sent_at=now - timedelta(seconds=rows - n),
                    text=text,
                    digest=hashlib.sha256(f"{PREFIX}-{n}:{text}".encode()).hexdigest(),
                )
            )
        with transaction.atomic():
            Message.objects.bulk_create(batch, batch_size=1000)
        print(f"  generated {first + len(batch):,}/{rows:,}", end="\r", file=sys.stderr)
    if rows > existing:
        elapsed = time.perf_counter() - start
        print(
            f"generated {rows - existing:,} messages in {elapsed:.1f} s" + " " * 20, file=sys.stderr
        )
    return Message.objects.filter(external_id__startswith=f"{PREFIX}-").count()


def measure(fmt: str, customer: int | None) -> dict:
    """Run in a fresh process: export through the API view and consume the stream."""
    legal = staff(f"{PREFIX}-legal", roles.LEGAL)
    params = {"format": fmt, **({"customer": customer} if customer else {})}
    request = APIRequestFactory().get("/api/v1/chats/export/", params)
    force_authenticate(request, user=legal)
    before = current_mb()
    start = time.perf_counter()
    response = ChatExportView.as_view()(request)
    assert response.status_code == 200, getattr(response, "data", response.status_code)
    size, lines = 0, 0
    for piece in response.streaming_content:
        size += len(piece)
        lines += piece.count(b"\n")
    response.close()
    elapsed = time.perf_counter() - start
    if fmt == "csv":
        exported = lines - 1  # the header; the generated texts hold no newline
    else:
        exported = Message.objects.visible_to(legal).filter(**_filter(customer)).count()
    return {
        "rows": exported,
        "seconds": elapsed,
        "rows_per_s": exported / elapsed if elapsed else 0.0,
        "mb_out": size / 1024 / 1024,
        "rss_before_mb": before,
        "peak_mb": peak_mb(),
    }


def _filter(customer: int | None) -> dict:
    return {"customer_id": customer} if customer else {}


def run_child(*options: str) -> str:
    """Run this script in a fresh process; returns its standard output."""
    command = [sys.executable, __file__, *options]
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--allow-any-db", action="store_true")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--customer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate:
        print(generate(args.rows))
        return
    if args.measure:
        print(json.dumps(measure(args.format, args.customer)))
        return
    name = str(connection.settings_dict["NAME"])
    if "bench" not in Path(name).name and not args.allow_any_db:
        sys.exit(f"refusing to fill database {name!r}: use a throwaway *bench* database")

    # Every phase runs in its own process: ru_maxrss is a high-water mark that survives
    # fork and exec, so a parent grown by generation would leak its peak into the measurement.
    total = int(run_child("--generate", "--rows", str(args.rows)).strip().splitlines()[-1])
    one_customer = conversations()[0].customer_id
    print(f"{connection.vendor} database {Path(name).name}: {total:,} benchmark messages")
    print(
        f"{'export':<18}{'rows':>10}{'seconds':>9}{'rows/s':>10}{'MB out':>8}"
        f"{'RSS before':>12}{'peak RSS':>10}"
    )
    for label, customer in (("one customer", one_customer), ("all", None)):
        options = ["--measure", "--format", args.format]
        if customer:
            options += ["--customer", str(customer)]
        result = json.loads(run_child(*options).strip().splitlines()[-1])
        print(
            f"{label + ' ' + args.format:<18}{result['rows']:>10,}{result['seconds']:>9.1f}"
            f"{result['rows_per_s']:>10,.0f}{result['mb_out']:>8.1f}"
            f"{result['rss_before_mb']:>10.1f}MB{result['peak_mb']:>8.1f}MB"
        )


if __name__ == "__main__":
    main()

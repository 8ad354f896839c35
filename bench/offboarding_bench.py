"""Offboarding a big book of business: wall time, rows/s and peak memory of one case run.

    createdb -h 127.0.0.1 -U postgres -E UTF8 -T template0 scrm_bench_offb
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench_offb \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench_offb \\
        .venv/bin/python bench/offboarding_bench.py [--customers 20000] [--messages 500000]

Generates a fresh leaver (a sales rep of a new team, with a team lead as supervisor and two
successors) owning --customers customers, one conversation each, --messages messages spread
over them, an open and a done follow-up on every tenth customer, and a device. Rows go in with
PostgreSQL COPY; what is written is what the application would write (encrypted mobile
numbers, blind indexes, digests, search tokens), so the run updates realistic rows and indexes.
Then HR opens a split case, the supervisor approves it and the case runs through
`offboarding.runner.run_case`, the same code the Celery task calls.

Generation and the run each happen in a fresh child process: `ru_maxrss` is a high-water mark
that survives fork and exec, so the run's peak RSS must not inherit the generator's. Every
invocation adds a new leaver (the previous ones have departed), so repeated runs measure a
growing database; recreate it for like-for-like comparisons.

The database must be a throwaway PostgreSQL one: the script refuses any database whose name does
not contain "bench".
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

from chats.models import Channel, Conversation, Message  # noqa: E402
from chats.search import tokens_for  # noqa: E402
from customers.models import Customer, FollowUp, mobile_index  # noqa: E402
from offboarding.models import OffboardingCase  # noqa: E402
from offboarding.runner import run_case  # noqa: E402
from offboarding.services import approve_case, create_case  # noqa: E402
from scrm.crypto.keyring import encrypt  # noqa: E402
from scrm.staff import roles  # noqa: E402
from scrm.staff.models import Department, Device, Staff, Team  # noqa: E402

TEXTS = (
    "您好，我是您的客户经理，请明天下午三点前回电，谢谢！",
    "合同已经发到邮箱，请查收并确认付款方式。",
    "Price list attached; delivery to 上海市浦东新区张江路 next week.",
    "好的，没问题。",
    "请问保险理赔需要什么材料？",
    "年度理赔报告已发送，请查收。",
)
TOKENS = tuple(tokens_for(text) for text in TEXTS)


def peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_rows(model, columns: list[str], rows) -> None:
    """Stream `rows` (tuples in `columns` order) into the model's table with COPY."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _staff(username: str, role: str, **extra) -> Staff:
    user = Staff.objects.create_user(username=username, password=None, is_staff=True, **extra)
    user.groups.add(Group.objects.get(name=role))
    return user


def _customer_rows(prefix: str, leaver_id: int, count: int, now):
    # One mobile ciphertext per customer is the realistic width; encrypting 20,000 is quick.
    for n in range(count):
        mobile = f"139{n:08d}"
        yield (
            f"张{n}",
            encrypt(mobile),
            mobile_index(mobile),
            "",
            "",
            "",
            "",
            "",
            f"{prefix} company {n % 500}",
            "wecom",
            "lead",
            leaver_id,
            now,
            now,
        )


def _message_rows(prefix: str, chats: list[tuple[int, int]], leaver_id: int, count: int, now):
    for n in range(count):
        conversation_id, customer_id = chats[n % len(chats)]
        from_staff = n % 2 == 0
        text = TEXTS[n % len(TEXTS)]
        yield (
            conversation_id,
            Channel.WECOM,
            f"{prefix}-m{n}",
            customer_id,
            leaver_id,
            leaver_id if from_staff else None,
            None if from_staff else customer_id,
            now - timedelta(seconds=count - n),
            "text",
            text,
            "",
            "",
            "",
            "",
            hashlib.sha256(f"{prefix}-m{n}:{text}".encode()).hexdigest(),
            TOKENS[n % len(TOKENS)],
            now,
        )


def generate(customers: int, messages: int) -> dict:
    """A new leaver with their book of business; returns the ids the run needs."""
    prefix = f"bench-offb-{int(time.time())}"
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        department = Department.objects.create(name=f"{prefix} sales")
        team = Team.objects.create(name=f"{prefix} team", department=department)
        org = {"team": team, "department": department}
        lead = _staff(f"{prefix}-lead", roles.TEAM_LEAD, **org)
        successors = [_staff(f"{prefix}-rep{i}", roles.SALES_REP, **org) for i in (1, 2)]
        leaver = _staff(f"{prefix}-leaver", roles.SALES_REP, supervisor=lead, **org)
        hr = _staff(f"{prefix}-hr", roles.HR)
        Device.objects.create(staff=leaver, device_id=f"{prefix}-phone", name="phone")
        copy_rows(
            Customer,
            [
                "name",
                "mobile",
                "mobile_bidx",
                "wechat_id",
                "email",
                "id_number",
                "id_number_bidx",
                "address",
                "company",
                "source_channel",
                "stage",
                "owner_id",
                "created_at",
                "updated_at",
            ],
            _customer_rows(prefix, leaver.pk, customers, now),
        )
        customer_ids = list(
            Customer.objects.filter(owner=leaver).order_by("pk").values_list("pk", flat=True)
        )
        copy_rows(
            Conversation,
            [
                "channel",
                "external_id",
                "customer_id",
                "room_id",
                "owner_id",
                "title",
                "created_at",
                "last_message_at",
            ],
            (
                (Channel.WECOM, f"{prefix}-c{pk}", pk, "", leaver.pk, "", now, now)
                for pk in customer_ids
            ),
        )
        chats = list(
            Conversation.objects.filter(owner=leaver)
            .order_by("pk")
            .values_list("pk", "customer_id")
        )
        FollowUp.objects.bulk_create(
            [
                FollowUp(customer_id=pk, staff=leaver, note="Call back", done=done)
                for pk in customer_ids[::10]
                for done in (False, True)
            ],
            batch_size=1000,
        )
    copy_rows(
        Message,
        [
            "conversation_id",
            "channel",
            "external_id",
            "customer_id",
            "staff_id",
            "sender_staff_id",
            "sender_customer_id",
            "sent_at",
            "msg_type",
            "text",
            "attachment",
            "attachment_name",
            "attachment_content_type",
            "attachment_sha256",
            "digest",
            "search_tokens",
            "ingested_at",
        ],
        _message_rows(prefix, chats, leaver.pk, messages, now),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "leaver": leaver.pk,
        "successors": [s.pk for s in successors],
        "lead": lead.pk,
        "hr": hr.pk,
        "seconds": time.perf_counter() - start,
    }


def measure(ids: dict) -> dict:
    """Open, approve and run the case; time the run and check nothing was left behind."""
    leaver = Staff.objects.get(pk=ids["leaver"])
    case = create_case(
        actor=Staff.objects.get(pk=ids["hr"]),
        leaver=leaver,
        reason="Benchmark",
        notice_date=timezone.localdate(),
        effective_at=timezone.now(),
        plan=OffboardingCase.Plan.SPLIT,
        successors=list(Staff.objects.filter(pk__in=ids["successors"])),
    )
    approve_case(actor=Staff.objects.get(pk=ids["lead"]), case=case)
    start = time.perf_counter()
    case = run_case(case.pk)
    elapsed = time.perf_counter() - start
    assert case.status == OffboardingCase.Status.COMPLETED, case.error
    # Messages keep their historical staff side; what must move is the customers and the
    # conversations (whose current owner every chat read goes through).
    left = {
        "customers": Customer.objects.filter(owner=leaver).count(),
        "conversations": Conversation.objects.filter(owner=leaver).count(),
    }
    assert not any(left.values()), left
    assert Message.objects.filter(conversation__owner=leaver).count() == 0
    steps = {
        s.name: {
            "seconds": (s.finished_at - s.started_at).total_seconds(),
            "done": s.done,
        }
        for s in case.steps.order_by("position")
    }
    return {"seconds": elapsed, "peak_mb": peak_mb(), "steps": steps}


def run_child(*options: str) -> dict:
    """Run this script in a fresh process; returns the JSON it printed last."""
    command = [sys.executable, __file__, *options]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate:
        print(json.dumps(generate(args.customers, args.messages)))
        return
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"refusing to fill database {name!r}: use a throwaway PostgreSQL *bench* database")

    ids = run_child(
        "--generate", "--customers", str(args.customers), "--messages", str(args.messages)
    )
    print(
        f"generated {args.customers:,} customers, {args.customers:,} conversations and "
        f"{args.messages:,} messages in {ids['seconds']:.1f} s (database {name})"
    )
    result = run_child("--measure", json.dumps(ids))
    rows = (
        args.customers * 2
    )  # customers and conversations moved (messages follow their conversation)
    print(f"{'step':<16}{'seconds':>9}{'rows':>10}")
    for step, figures in result["steps"].items():
        print(f"{step:<16}{figures['seconds']:>9.2f}{figures['done']:>10,}")
    print(
        f"run_case: {result['seconds']:.1f} s wall, {rows / result['seconds']:,.0f} rows/s "
        f"({rows:,} customers + conversations; {args.messages:,} messages move with their "
        f"conversations), peak RSS {result['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()

"""`manage.py generate_dataset`: a benchmark-sized dataset, loaded with PostgreSQL COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python manage.py generate_dataset --customers 1000000 --messages 10000000 \\
        --staff 500 [--scale 0.01] [--workers 2]

Only for throwaway benchmark databases: it refuses any database that is not PostgreSQL or whose
name does not start with `scrm_bench`, and any database that already holds staff, customers or
messages (drop and recreate it: `createdb -T template0 -E UTF8 scrm_bench` + `migrate`).

What it writes is what the application would have written: encrypted fields are real AES-GCM
ciphertext (`scrm.crypto.keyring.encrypt`), blind indexes are filled, `search_tokens` come from
`chats.search.tokens_for`, roles are the role groups. Rows are built by a pool of worker
processes (`--workers`, default 2) and streamed through `COPY ... FROM STDIN`. During the load
the tables' secondary indexes are dropped and rebuilt afterwards, and foreign-key triggers are
off for the session (`session_replication_role = replica`, which needs a superuser; without it
the load is slower but the same): the generator produces only valid references. The run ends
with VACUUM ANALYZE, so the planner has statistics and index-only scans have a visibility map,
as on a database autovacuum has caught up with.

See docs/benchmarks.md for timings at 1 M customers / 10 M messages.
"""

import json
import multiprocessing
import random
import time
from array import array
from bisect import bisect_right
from collections import deque
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from chats.models import Message
from customers.management.commands.seed_demo import TAGS
from customers.management.dataset import messages as chat_rows
from customers.management.dataset import people
from customers.management.dataset.copy import copy_rows, indexes_dropped, line, ts
from customers.management.dataset.org import build_org
from customers.models import Customer, Tag
from scrm.staff.models import Staff

CUSTOMER_CHUNK = 10_000
MESSAGE_CHUNK = 50_000
UNASSIGNED_SHARE = 0.01  # customers nobody owns yet (unknown chat senders)
SHARED_SHARE = 0.005  # customers shared with a second seller (per-object grants)
DB_PREFIX = "scrm_bench"

# Filled by the parent before the worker pool forks: the children inherit it, read-only.
_STATE: dict = {}


def _customer_task(first: int, count: int) -> dict[str, bytes]:
    return people.customer_chunk(first=first, count=count, first_id=1, **_STATE)


def _message_task(first_id: int, count: int) -> bytes:
    return chat_rows.message_chunk(first_id=first_id, count=count, **_STATE)


class Command(BaseCommand):
    help = "Fill a scrm_bench* PostgreSQL database with a large realistic dataset (COPY)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1_000_000)
        parser.add_argument("--messages", type=int, default=10_000_000)
        parser.add_argument("--staff", type=int, default=500)
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply customers, messages and staff (staff at least 30), e.g. 0.01.",
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--password", help="Password of every account (default: SCRM_DEMO_PASSWORD)."
        )
        parser.add_argument("--json", help="Also write the timings and sizes to this file.")

    def handle(self, *args, **options):
        self.check_database()
        scale = options["scale"]
        customers = round(options["customers"] * scale)
        messages = round(options["messages"] * scale)
        staff = max(30, round(options["staff"] * scale))
        self.workers = max(1, options["workers"])
        self.seed = seed = options["seed"]
        password = options["password"] or settings.SCRM_DEMO_PASSWORD
        self.say(f"Generating {customers:,} customers, {messages:,} messages, {staff} staff")
        self.timings: dict[str, float] = {}
        self.printed: dict[str, int] = {}
        started = time.monotonic()

        with self.phase("organisation"):
            org = build_org(staff=staff, password=password, seed=seed)
            tag_ids = {name: Tag.objects.get_or_create(name=name)[0].pk for name in TAGS}
        now = timezone.now().timestamp()
        timeline = people.CustomerTimeline(customers, now)
        owners = self.assign_owners(customers, org)
        with self.bulk_session() as cursor:
            with self.phase("customers"):
                self.load_customers(cursor, customers, owners, tag_ids, timeline)
            with self.phase("shares"):
                self.load_shares(cursor, customers, owners, org, now)
            with self.phase("conversations"):
                chats = chat_rows.plan_conversations(
                    owners=owners, first_customer_id=1, first_id=1, timeline=timeline, seed=seed
                )
                conversations, members = chat_rows.conversation_rows(chats, org.wecom, 1)
                copy_rows(
                    cursor,
                    "chats_conversation",
                    chat_rows.CONVERSATION_COLUMNS,
                    conversations,
                )
                copy_rows(
                    cursor,
                    "chats_conversation_staff",
                    chat_rows.CONVERSATION_STAFF_COLUMNS,
                    members,
                )
                self.say(f"  {len(chats.ids):,} conversations")
            with self.phase("messages"):
                if chats.ids and messages:
                    self.load_messages(cursor, messages, chats, now)
            with self.phase("sequences and last_message_at"):
                self.finish(cursor)
        with self.phase("vacuum analyze"):
            self.vacuum()
        total = time.monotonic() - started
        self.report(total, options["json"], customers=customers, messages=messages, staff=staff)

    # --- safety --------------------------------------------------------------------------

    def check_database(self) -> None:
        name = str(connection.settings_dict["NAME"])
        if connection.vendor != "postgresql" or not name.startswith(DB_PREFIX):
            raise CommandError(
                f"generate_dataset only fills PostgreSQL databases named {DB_PREFIX}*; "
                f"this is {connection.vendor} {name!r}."
            )
        if Staff.objects.exists() or Customer.objects.exists() or Message.objects.exists():
            raise CommandError(
                f"{name} already holds data. Recreate it: dropdb {name}; "
                f"createdb -E UTF8 -T template0 {name}; manage.py migrate"
            )

    # --- phases --------------------------------------------------------------------------

    def assign_owners(self, customers: int, org) -> array:
        rng = random.Random(self.seed + 3)
        cumulative = list(accumulate(org.seller_weights))
        top = cumulative[-1]
        owners = array("q", bytes(8 * customers))
        for index in range(customers):
            if rng.random() >= UNASSIGNED_SHARE:
                owners[index] = org.sellers[bisect_right(cumulative, rng.random() * top)]
        return owners

    def load_customers(self, cursor, customers, owners, tag_ids, timeline) -> None:
        _STATE.clear()
        _STATE.update(
            owners=owners,
            tag_ids=tag_ids,
            timeline=timeline,
            pools=people.Pools(self.seed),
            seed=self.seed,
        )
        chunks = [
            (f, min(CUSTOMER_CHUNK, customers - f)) for f in range(0, customers, CUSTOMER_CHUNK)
        ]
        tables = [
            ("customers", "customers_customer", people.CUSTOMER_COLUMNS),
            ("tags", "customers_customer_tags", people.TAG_COLUMNS),
            ("follow_ups", "customers_followup", people.FOLLOW_UP_COLUMNS),
            ("transactions", "customers_transaction", people.TRANSACTION_COLUMNS),
        ]
        with indexes_dropped(cursor, [table for _, table, _ in tables], self.say):
            done = 0
            for payloads, (_first, count) in zip(
                self.in_workers(_customer_task, chunks), chunks, strict=True
            ):
                for key, table, columns in tables:
                    copy_rows(cursor, table, columns, payloads[key])
                done += count
                self.progress("customers", done, customers)

    def load_shares(self, cursor, customers, owners, org, now) -> None:
        """A few customers shared with a second seller: the per-object grants in the scope."""
        from django.contrib.auth.models import Permission

        view = Permission.objects.get(content_type__app_label="customers", codename="view_customer")
        rng = random.Random(self.seed + 5)
        rows = []
        for _ in range(int(customers * SHARED_SHARE)):
            index = rng.randrange(customers)
            owner, colleague = owners[index], rng.choice(org.sellers)
            if not owner or colleague == owner:
                continue
            expires = ts(now + rng.randrange(-30, 90) * 86400) if rng.random() < 0.3 else "\\N"
            granted = ts(now - rng.randrange(1, 300) * 86400)
            rows.append(
                line((granted, expires, str(index + 1), str(owner), str(view.pk), str(colleague)))
            )
        columns = [
            "granted_at",
            "expires_at",
            "content_object_id",
            "granted_by_id",
            "permission_id",
            "user_id",
        ]
        copy_rows(cursor, "customers_customeruserobjectpermission", columns, "".join(rows).encode())
        self.say(f"  {len(rows):,} shares")

    def load_messages(self, cursor, total: int, chats, now: float) -> None:
        _STATE.clear()
        _STATE.update(total=total, chats=chats, clock=chat_rows.MessageClock(now), seed=self.seed)
        chunks = [
            (first, min(MESSAGE_CHUNK, total + 1 - first))
            for first in range(1, total + 1, MESSAGE_CHUNK)
        ]
        with indexes_dropped(cursor, ["chats_message"], self.say):
            done = 0
            for payload, (_first, count) in zip(
                self.in_workers(_message_task, chunks), chunks, strict=True
            ):
                copy_rows(cursor, "chats_message", chat_rows.MESSAGE_COLUMNS, payload)
                done += count
                self.progress("messages", done, total)

    def finish(self, cursor) -> None:
        for table in (
            "customers_customer",
            "customers_customer_tags",
            "customers_followup",
            "customers_transaction",
            "customers_customeruserobjectpermission",
            "chats_conversation",
            "chats_conversation_staff",
            "chats_message",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        cursor.execute(
            "UPDATE chats_conversation c SET last_message_at = m.last "
            "FROM (SELECT conversation_id, max(sent_at) AS last FROM chats_message "
            "GROUP BY conversation_id) m WHERE m.conversation_id = c.id"
        )

    def vacuum(self) -> None:
        connection.close()  # VACUUM cannot run inside a transaction block: a fresh autocommit
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")

    # --- plumbing ------------------------------------------------------------------------

    @contextmanager
    def bulk_session(self):
        """The raw psycopg cursor of Django's connection, set up for loading."""
        connection.ensure_connection()
        cursor = connection.connection.cursor()
        try:
            cursor.execute("SET session_replication_role = replica")
        except Exception as exc:  # not a superuser: keep the triggers, slower but the same
            self.say(f"  (foreign-key triggers stay on: {exc})")
        cursor.execute("SET synchronous_commit = off")
        try:
            yield cursor
        finally:
            cursor.execute("RESET session_replication_role")
            cursor.execute("RESET synchronous_commit")
            cursor.close()

    def in_workers(self, task, chunks):
        """Results of task(*chunk) in chunk order, at most 2 per worker in flight (bounded
        memory: a finished chunk waits for COPY instead of piling up)."""
        if self.workers == 1:
            for chunk in chunks:
                yield task(*chunk)
            return
        # Fork after _STATE is set; the parent's database socket must not be shared.
        context = multiprocessing.get_context("fork")
        with context.Pool(self.workers) as pool:
            pending: deque = deque()
            queue = iter(chunks)
            for chunk in queue:
                pending.append(pool.apply_async(task, chunk))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                result = pending.popleft().get()
                chunk = next(queue, None)
                if chunk is not None:
                    pending.append(pool.apply_async(task, chunk))
                yield result

    @contextmanager
    def phase(self, name: str):
        started = self.phase_started = time.monotonic()
        self.say(f"{name} ...")
        yield
        self.timings[name] = time.monotonic() - started
        self.say(f"{name}: {self.timings[name]:.1f} s")

    def progress(self, label: str, done: int, total: int) -> None:
        """One line per ~5 % with the rate so far."""
        tenth = self.printed.get(label, 0)
        if done * 20 // total <= tenth and done != total:
            return
        self.printed[label] = done * 20 // total
        rate = done / max(time.monotonic() - self.phase_started, 1e-9)
        self.say(f"  {label}: {done:,}/{total:,} ({rate:,.0f}/s)")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def report(self, total: float, json_path: str | None, **counts) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
            cursor.execute(
                "SELECT relname, pg_total_relation_size(oid), pg_relation_size(oid) "
                "FROM pg_class WHERE relname IN ('customers_customer', 'chats_message', "
                "'chats_conversation', 'customers_followup') ORDER BY 2 DESC"
            )
            tables = cursor.fetchall()
        self.say(
            self.style.SUCCESS(f"Dataset ready in {total:.0f} s; database {size / 2**30:.2f} GiB")
        )
        for name, seconds in self.timings.items():
            self.say(f"  {name:<32} {seconds:8.1f} s")
        for name, total_size, heap in tables:
            self.say(f"  {name:<32} {total_size / 2**20:8.0f} MiB ({heap / 2**20:.0f} MiB heap)")
        if json_path:
            result = {
                **counts,
                "seconds": round(total, 1),
                "db_size_gib": round(size / 2**30, 2),
                "phases": {name: round(seconds, 1) for name, seconds in self.timings.items()},
                "tables_mib": {name: round(t / 2**20) for name, t, _heap in tables},
                "workers": self.workers,
            }
            Path(json_path).write_text(json.dumps(result, indent=2))

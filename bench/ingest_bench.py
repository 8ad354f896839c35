"""Benchmark 5: chat ingest, messages per second, through the batch API and `import_chats`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python bench/ingest_bench.py [--api-batches 20] [--import-messages 50000]

Records are in the WeCom archive format (chats/wecom.py), between existing staff and customers
of the generated dataset (so they land in existing conversations, as a daily sync does), with
texts from the dataset's vocabulary. The batch API is called as the `wecom-sync` service
account with a real JWT, 1,000 records per call (the maximum); `import_chats` reads a JSON-lines
file. Both write into the full-size message table, so the cost of its indexes (the GIN token
index above all) is included. A few sensitive-word rules are active, as in production.
Every run adds new messages (msgids are unique per run); it never re-sends old ones, except in
the duplicate pass, which re-sends one API batch to time the idempotent path.
"""

import argparse
import json
import random
import tempfile
import time
import uuid
from io import StringIO

import benchlib
from django.core.management import call_command
from django.db import connection

from chats.models import SensitiveWordRule
from customers.management.dataset.chat_text import ChatText

RULES = ["回扣", "私下转账", "返现", "飞单"]


def conversation_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """(staff wecom id, customer external id) of random existing private chats."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM chats_conversation")
        top = cursor.fetchone()[0] or 0
        rng = random.Random(seed)
        probes = sorted({rng.randrange(1, top + 1) for _ in range(count)})
        cursor.execute(
            "SELECT s.wecom_userid, c.wecom_external_userid FROM chats_conversation v "
            "JOIN staff_staff s ON s.id = v.owner_id JOIN customers_customer c "
            "ON c.id = v.customer_id WHERE v.id = ANY(%s) AND v.channel = 'wecom' "
            "AND s.wecom_userid IS NOT NULL AND c.wecom_external_userid IS NOT NULL",
            [probes],
        )
        return cursor.fetchall()


def records(count: int, pairs, run: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    chat = ChatText(rng)
    now_ms = int(time.time() * 1000)
    out = []
    for n in range(count):
        staff, customer = rng.choice(pairs)
        from_staff = rng.random() < 0.5
        sender, receiver = (staff, customer) if from_staff else (customer, staff)
        out.append(
            {
                "msgid": f"bench-{run}-{n}",
                "action": "send",
                "from": sender,
                "tolist": [receiver],
                "roomid": "",
                "msgtime": now_ms - (count - n) * 10,
                "msgtype": "text",
                "text": {"content": chat.sentence(from_staff)},
            }
        )
    return out


def through_api(batches: int, pairs, run: str) -> dict:
    client = benchlib.jwt_client(benchlib.staff("wecom-sync"))
    batch_records = [records(1000, pairs, f"{run}-api{b}", seed=b) for b in range(batches)]
    created, samples = 0, []
    started = time.perf_counter()
    for batch in batch_records:
        t0 = time.perf_counter()
        response = benchlib.expect_ok(
            client.post(
                "/api/v1/chats/messages/batch/",
                {"messages": batch, "channel": "wecom"},
                content_type="application/json",
            )
        )
        samples.append((time.perf_counter() - t0) * 1000)
        created += response.json()["created"]
    elapsed = time.perf_counter() - started
    t0 = time.perf_counter()
    again = client.post(
        "/api/v1/chats/messages/batch/",
        {"messages": batch_records[0], "channel": "wecom"},
        content_type="application/json",
    ).json()
    duplicate_seconds = time.perf_counter() - t0
    return {
        "messages": created,
        "seconds": round(elapsed, 2),
        "per_second": round(created / elapsed),
        "batch": benchlib.summarize(samples),
        "duplicate_batch_seconds": round(duplicate_seconds, 3),
        "duplicates_reported": again["duplicate"],
    }


def through_gunicorn(clients: int, batches: int, pairs, run: str) -> dict:
    """The batch API over HTTP: gunicorn with one worker per client, `clients` threads each
    posting `batches` batches of 1,000 at once, as a sync service with parallel uploads."""
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from load_test import PORT, gunicorn
    from rest_framework_simplejwt.tokens import AccessToken

    token = str(AccessToken.for_user(benchlib.staff("wecom-sync")))
    work = [
        [records(1000, pairs, f"{run}-http{c}-{b}", seed=500 + c * 100 + b) for b in range(batches)]
        for c in range(clients)
    ]

    def upload(client_batches) -> int:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        created = 0
        for batch in client_batches:
            response = session.post(
                f"http://127.0.0.1:{PORT}/api/v1/chats/messages/batch/",
                json={"messages": batch, "channel": "wecom"},
                timeout=120,
            )
            response.raise_for_status()
            created += response.json()["created"]
        return created

    with gunicorn(clients):
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            created = sum(pool.map(upload, work))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "messages": created,
        "seconds": round(elapsed, 2),
        "per_second": round(created / elapsed),
    }


def through_import(count: int, pairs, run: str, workers: int = 1) -> dict:
    rows = records(count, pairs, f"{run}-import{workers}", seed=99 + workers)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        out = StringIO()
        started = time.perf_counter()
        call_command("import_chats", handle.name, actor="wecom-sync", workers=workers, stdout=out)
        elapsed = time.perf_counter() - started
    created = int(out.getvalue().split("created ")[1].split(",")[0])
    return {
        "workers": workers,
        "messages": created,
        "seconds": round(elapsed, 2),
        "per_second": round(created / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-batches", type=int, default=20)
    parser.add_argument("--import-messages", type=int, default=50_000)
    parser.add_argument("--label", default="latest")
    parser.add_argument(
        "--workers", type=int, default=2, help="also run import_chats --workers N (0: skip)"
    )
    parser.add_argument(
        "--http-clients",
        type=int,
        default=2,
        help="also post API batches over HTTP to gunicorn from N clients at once (0: skip)",
    )
    parser.add_argument(
        "--per-chat-updates",
        action="store_true",
        help="reproduce the pre-fix ingest (one UPDATE per conversation) for a before figure",
    )
    args = parser.parse_args()
    benchlib.require_bench_database()
    if args.per_chat_updates:
        from chats.ingest_backends import PostgresIngest, SqliteIngest

        PostgresIngest.advance_last_message_at = SqliteIngest.advance_last_message_at
    for pattern in RULES:
        SensitiveWordRule.objects.get_or_create(pattern=pattern, defaults={"severity": "high"})
    pairs = conversation_pairs(5000, seed=7)
    run = uuid.uuid4().hex[:8]
    api = through_api(args.api_batches, pairs, run)
    print(
        f"batch API: {api['messages']:,} messages in {api['seconds']} s = "
        f"{api['per_second']:,}/s (batch of 1,000 p50 {api['batch']['p50_ms']:.0f} ms, "
        f"p95 {api['batch']['p95_ms']:.0f} ms; duplicate batch {api['duplicate_batch_seconds']} s)",
        flush=True,
    )
    imported = through_import(args.import_messages, pairs, run)
    print(
        f"import_chats: {imported['messages']:,} messages in {imported['seconds']} s = "
        f"{imported['per_second']:,}/s",
        flush=True,
    )
    http = None
    if args.http_clients:
        http = through_gunicorn(
            args.http_clients, args.api_batches // args.http_clients, pairs, run
        )
        print(
            f"batch API over HTTP, {args.http_clients} clients at once: {http['messages']:,} "
            f"messages in {http['seconds']} s = {http['per_second']:,}/s",
            flush=True,
        )
    parallel = None
    if args.workers > 1:
        parallel = through_import(args.import_messages, pairs, run, workers=args.workers)
        print(
            f"import_chats --workers {args.workers}: {parallel['messages']:,} messages in "
            f"{parallel['seconds']} s = {parallel['per_second']:,}/s",
            flush=True,
        )
    benchlib.save(
        "ingest",
        {"api": api, "import_chats": imported, "import_chats_workers": parallel, "api_http": http},
        label=args.label,
    )


if __name__ == "__main__":
    main()

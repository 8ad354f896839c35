"""The retention purge at full scale: the dry run, then the real purge, with rows per second,
WAL written and the message table's size before and after (docs/scaling.md, partitioning).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python bench/purge_bench.py [--label full] [--batch-size 1000]

Destructive: it deletes every message past the default 180 days (about 70 % of a generated
archive, whose messages span two years), so `make bench` runs it last. It calls the service the
daily beat task calls, with the default policy only (the generator creates no policies or holds).
"""

import argparse
import time

import benchlib
from django.db import connection
from tqdm import tqdm

from chats.models import Message
from chats.retention import purge_expired_messages


def wal_lsn() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def message_table_mib() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('chats_message')")
        return round(cursor.fetchone()[0] / 2**20)


def timed_purge(*, dry_run: bool, batch_size: int) -> dict:
    wal_before, started = wal_lsn(), time.perf_counter()
    with tqdm(unit=" message", unit_scale=True, desc="dry run" if dry_run else "purge") as bar:
        log = purge_expired_messages(
            dry_run=dry_run,
            batch_size=batch_size,
            on_batch=lambda _log, handled: bar.update(handled),
        )
    seconds = time.perf_counter() - started
    handled = log.deleted + log.held
    return {
        "messages": handled,
        "deleted": log.deleted,
        "seconds": round(seconds, 1),
        "per_second": round(handled / seconds) if seconds else None,
        "wal_mib": round((wal_lsn() - wal_before) / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="quick")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    benchlib.require_bench_database()
    before = {"messages": Message.objects.count(), "table_mib": message_table_mib()}
    dry = timed_purge(dry_run=True, batch_size=args.batch_size)
    print(f"dry run: {dry['messages']:,} expired in {dry['seconds']} s", flush=True)
    real = timed_purge(dry_run=False, batch_size=args.batch_size)
    print(
        f"purge: {real['deleted']:,} deleted in {real['seconds']} s = {real['per_second']:,}/s, "
        f"{real['wal_mib']:,} MiB of WAL",
        flush=True,
    )
    after = {"messages": Message.objects.count(), "table_mib": message_table_mib()}
    benchlib.save(
        "purge",
        {"batch_size": args.batch_size, "before": before, "dry_run": dry, "purge": real,
         "after": after},
        label=args.label,
    )  # fmt: skip


if __name__ == "__main__":
    main()

"""Import a decrypted WeCom chat archive: one JSON message per line (see chats/wecom.py)."""

import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from chats.ingest import MAX_BATCH, apply_revokes, ingest_records
from chats.ingest_backends import ingest_backend
from chats.wecom import InvalidRecord, parse_record

if TYPE_CHECKING:
    from scrm.staff.types import Actor

Batch = list[tuple[int, dict]]  # (line number, record)


def _ingest_batch(records: list[dict], actor_pk: int, channel: str) -> list[tuple[int, str, str]]:
    """One batch in a worker process: (index in batch, status, reason) per record."""
    actor = get_user_model().objects.get(pk=actor_pk)
    results = ingest_records(records=records, actor=actor, channel=channel)
    return [(r.index, r.status, r.reason) for r in results]


class Command(BaseCommand):
    help = "Import WeCom archive messages (JSON lines). Idempotent: re-importing adds nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the JSON-lines file")
        parser.add_argument(
            "--as",
            dest="actor",
            default="wecom-sync",
            help="staff account recorded as the importer (needs the ingest right)",
        )
        parser.add_argument("--channel", default="wecom")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="processes storing batches at once (PostgreSQL only; default 1)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=MAX_BATCH,
            help=f"messages per transaction (1-{MAX_BATCH}, default {MAX_BATCH})",
        )

    def handle(self, *args, file, actor, channel, workers, batch_size, **options):
        user = get_user_model().objects.filter(username=actor).first()
        if user is None:
            raise CommandError(f"no staff account {actor!r}; pass --as USERNAME")
        if not user.has_perm("chats.ingest_message"):
            raise CommandError(f"{actor!r} may not ingest chat messages")
        if not 1 <= batch_size <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if workers > 1 and not ingest_backend().concurrent_batches:
            raise CommandError("--workers above 1 needs PostgreSQL (SQLite has one writer)")
        try:
            handle = open(file, encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        totals: Counter = Counter()
        skipped: list[tuple[int, str]] = []
        revokes: list[dict] = []
        with (
            handle,
            tqdm(total=os.path.getsize(file), unit="B", unit_scale=True, disable=None) as bar,
        ):
            batches = self._batches(handle, batch_size, bar, skipped, revokes)
            for batch, results in self._store(batches, user, channel, workers):
                for index, status, reason in results:
                    totals[status] += 1
                    if status == "error":
                        skipped.append((batch[index][0], reason))
        if workers > 1 and revokes:
            # In parallel a revoke can commit before the message it revokes: apply them all
            # again now that every batch is in (it only marks messages not yet revoked).
            apply_revokes(channel, [parse_record(r) for r in revokes])
        self._report(totals, skipped)

    def _batches(self, handle, size: int, bar, skipped, revokes) -> Iterator[Batch]:
        batch: Batch = []
        for number, line in enumerate(handle, start=1):
            bar.update(len(line.encode()))
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                skipped.append((number, f"malformed JSON ({exc.msg})"))
                continue
            batch.append((number, record))
            if isinstance(record, dict) and record.get("msgtype") == "revoke":
                try:
                    parse_record(record)
                    revokes.append(record)
                except InvalidRecord:
                    pass  # reported with its line number when its batch is stored
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _store(self, batches: Iterator[Batch], user: "Actor", channel: str, workers: int):
        """(batch, results) for every batch, in file order."""
        if workers == 1:
            for batch in batches:
                results = ingest_records(records=[r for _, r in batch], actor=user, channel=channel)
                yield batch, [(r.index, r.status, r.reason) for r in results]
            return
        # Forked workers open their own connections; an inherited one must not be shared.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = []
            for batch in batches:
                records = [r for _, r in batch]
                pending.append((batch, pool.submit(_ingest_batch, records, user.pk, channel)))
                # Keep a bounded number of batches in flight, so memory stays flat.
                while len(pending) > workers * 2:
                    done, future = pending.pop(0)
                    yield done, future.result()
            for done, future in pending:
                yield done, future.result()

    def _report(self, totals: Counter, skipped: list[tuple[int, str]]) -> None:
        self.stdout.write(
            f"created {totals['created']}, duplicates {totals['duplicate']}, skipped {len(skipped)}"
        )
        for number, reason in sorted(skipped)[:50]:
            self.stdout.write(f"  line {number}: {reason}")
        if len(skipped) > 50:
            self.stdout.write(f"  ... and {len(skipped) - 50} more")

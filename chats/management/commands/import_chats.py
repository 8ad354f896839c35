"""Import a decrypted WeCom chat archive: one JSON message per line (see chats/wecom.py)."""

import json
import os
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chats.ingest import MAX_BATCH, ingest_records


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

    def handle(self, *args, file: str, actor: str, channel: str, **options):
        user = get_user_model().objects.filter(username=actor).first()
        if user is None:
            raise CommandError(f"no staff account {actor!r}; pass --as USERNAME")
        if not user.has_perm("chats.ingest_message"):
            raise CommandError(f"{actor!r} may not ingest chat messages")
        try:
            handle = open(file, encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        totals: Counter = Counter()
        skipped: list[tuple[int, str]] = []
        with (
            handle,
            tqdm(total=os.path.getsize(file), unit="B", unit_scale=True, disable=None) as bar,
        ):
            batch: list[tuple[int, dict]] = []
            for number, line in enumerate(handle, start=1):
                bar.update(len(line.encode()))
                if not line.strip():
                    continue
                try:
                    batch.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    skipped.append((number, f"malformed JSON ({exc.msg})"))
                if len(batch) == MAX_BATCH:
                    self._flush(batch, user, channel, totals, skipped)
                    batch = []
            self._flush(batch, user, channel, totals, skipped)
        self._report(totals, skipped)

    def _flush(self, batch, user, channel, totals, skipped) -> None:
        if not batch:
            return
        results = ingest_records(records=[r for _, r in batch], actor=user, channel=channel)
        for result in results:
            totals[result.status] += 1
            if result.status == "error":
                skipped.append((batch[result.index][0], result.reason))

    def _report(self, totals: Counter, skipped: list[tuple[int, str]]) -> None:
        self.stdout.write(
            f"created {totals['created']}, duplicates {totals['duplicate']}, skipped {len(skipped)}"
        )
        for number, reason in sorted(skipped)[:50]:
            self.stdout.write(f"  line {number}: {reason}")
        if len(skipped) > 50:
            self.stdout.write(f"  ... and {len(skipped) - 50} more")

"""Recompute what masked viewers' chat search reads (chats.search.refresh_masked_search)."""

from django.core.management.base import BaseCommand

from chats.models import Message
from chats.search import refresh_masked_search


class Command(BaseCommand):
    help = (
        "Fill the masked search columns of messages that lack them; with --all recompute every "
        "message (run it after the content detectors change). Resumable: batches commit."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="Recompute every message.")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, **options) -> None:
        changed = refresh_masked_search(
            Message, only_missing=not options["all"], batch_size=options["batch_size"]
        )
        self.stdout.write(f"{changed} message(s) updated.")

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chats.retention import purge_expired_messages


class Command(BaseCommand):
    help = (
        "Delete chat messages whose retention has ended, except those under legal hold. "
        "Re-running after an interruption continues where it stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only report what would be deleted."
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Messages per transaction (1000)."
        )

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive integer.")
        # No total: counting the expired messages first would cost a pass of its own over them.
        with tqdm(unit=" message", unit_scale=True, disable=None) as bar:

            def on_batch(_log, handled: int) -> None:
                bar.update(handled)

            log = purge_expired_messages(dry_run=dry_run, batch_size=batch_size, on_batch=on_batch)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {log.deleted} message(s) and {log.attachments_deleted} attachment(s); "
            f"{log.held} expired message(s) kept under legal hold."
        )
        for key, count in log.counts_by_policy.items():
            self.stdout.write(f"  {key}: {count}")
        if dry_run:
            self.stdout.write("Dry run: nothing was deleted.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Purge log #{log.pk}."))

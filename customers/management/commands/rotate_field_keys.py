"""Re-encrypt every customer value that is not under the active key, in resumable batches.

Put the new key first in SCRM_FIELD_KEYS (keeping the old ones after it), deploy, then run this.
Rows already under the new key are skipped, so an interrupted run simply continues.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Q
from tqdm import tqdm

from customers.models import Customer
from scrm.crypto.keyring import SEPARATOR, active_key_id
from scrm.masking.policy import SENSITIVE_FIELDS

ENCRYPTED = [f for f in SENSITIVE_FIELDS if f != "name"]


class Command(BaseCommand):
    help = "Re-encrypt customer fields under the active key of SCRM_FIELD_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive number")
        prefix = active_key_id() + SEPARATOR
        # A value needs work when it is not empty and not already under the active key.
        stale = Q()
        for field in ENCRYPTED:
            stale |= ~Q(**{f"{field}__startswith": prefix}) & ~Q(**{field: ""})
        todo = Customer.objects.filter(stale)
        total = todo.count()
        done, last_pk = 0, 0
        with tqdm(total=total, unit="customer", disable=None) as bar:
            while True:
                with transaction.atomic():
                    batch = list(
                        todo.filter(pk__gt=last_pk)
                        .order_by("pk")
                        .only("pk", *ENCRYPTED)[:batch_size]
                    )
                    if not batch:
                        break
                    # Saving re-runs get_prep_value, which encrypts under the active key.
                    Customer.objects.bulk_update(batch, ENCRYPTED, batch_size=batch_size)
                last_pk = batch[-1].pk
                done += len(batch)
                bar.update(len(batch))
        self.stdout.write(
            f"Re-encrypted {done} customer(s) under key {active_key_id()!r} on {connection.vendor}."
        )

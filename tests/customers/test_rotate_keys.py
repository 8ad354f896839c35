import base64

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from customers.models import Customer
from tests.factories import CustomerFactory

NEW_KEY = "k2:" + base64.b64encode(b"n" * 32).decode()


def stored(customer_id: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT mobile, id_number FROM customers_customer WHERE id = %s", [customer_id]
        )
        return cursor.fetchone()


def test_rotation_re_encrypts_every_row_under_the_new_key(org, settings):
    old = [CustomerFactory(owner=org.rep) for _ in range(5)]
    settings.SCRM_FIELD_KEYS = f"{NEW_KEY},{settings.SCRM_FIELD_KEYS}"

    # Old rows still decrypt with the old key listed after the new one.
    assert Customer.objects.get(pk=old[0].pk).mobile == old[0].mobile
    call_command("rotate_field_keys", batch_size=2)

    for customer in old:
        mobile, id_number = stored(customer.pk)
        assert mobile.startswith("k2$") and id_number.startswith("k2$")
        fresh = Customer.objects.get(pk=customer.pk)
        assert (fresh.mobile, fresh.id_number) == (customer.mobile, customer.id_number)
    # Once rotated, the old key can be dropped.
    settings.SCRM_FIELD_KEYS = NEW_KEY
    assert Customer.objects.get(pk=old[-1].pk).email == old[-1].email


def test_rotation_is_resumable_and_idempotent(org, settings, capsys):
    CustomerFactory.create_batch(3, owner=org.rep)
    settings.SCRM_FIELD_KEYS = f"{NEW_KEY},{settings.SCRM_FIELD_KEYS}"

    call_command("rotate_field_keys")
    call_command("rotate_field_keys")

    assert "Re-encrypted 0 customer(s)" in capsys.readouterr().out


def test_bad_batch_size_is_a_clear_error(db):
    with pytest.raises(CommandError, match="positive"):
        call_command("rotate_field_keys", batch_size=0)

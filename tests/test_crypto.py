"""Identity and contact fields are encrypted at rest; exact lookup works through blind indexes.

What the database holds is checked with raw SQL, bypassing the field's decryption.
"""

import base64
from io import StringIO
from urllib.parse import urlencode

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from customers.models import Customer, mobile_index
from scrm.crypto.keyring import SEPARATOR, active_key_id, decrypt
from tests.factories import CustomerFactory

ENCRYPTED_FIELDS = ("mobile", "id_number", "email", "wechat_id", "address")
NEW_KEY = "k2:" + base64.b64encode(bytes(range(32))).decode()


def stored_row(customer) -> dict[str, str]:
    """The customer's encrypted columns exactly as the database holds them."""
    columns = ", ".join(ENCRYPTED_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM customers_customer WHERE id = %s", [customer.pk])
        return dict(zip(ENCRYPTED_FIELDS, cursor.fetchone(), strict=True))


def stored_table_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer")
        return repr(cursor.fetchall())


def rotated_keys(settings) -> str:
    """SCRM_FIELD_KEYS with a new first key, the current keys kept after it for decryption."""
    return f"{NEW_KEY},{settings.SCRM_FIELD_KEYS}"


@pytest.fixture
def customer(db):
    return CustomerFactory(
        mobile="13912345678",
        id_number="11010519491231002X",
        email="zhang@example.com",
        wechat_id="wxid_ab12389",
        address="上海市浦东新区张江路100号",
    )


def test_the_table_holds_no_raw_values(customer):
    table = stored_table_text()

    for field in ENCRYPTED_FIELDS:
        raw = getattr(customer, field)
        assert raw not in table
    assert "12345678" not in table  # not even the significant part of the mobile


def test_stored_values_carry_the_key_id_and_decrypt_back(customer):
    row = stored_row(customer)

    for field, stored in row.items():
        assert stored.startswith(active_key_id() + SEPARATOR)
        assert decrypt(stored) == getattr(customer, field)


def test_equal_plaintexts_do_not_give_equal_ciphertexts(db):
    first = CustomerFactory(email="same@example.com")
    second = CustomerFactory(email="same@example.com")

    assert stored_row(first)["email"] != stored_row(second)["email"]


def test_a_tampered_value_is_refused(customer):
    stored = stored_row(customer)["mobile"]
    kid, _, payload = stored.partition(SEPARATOR)
    blob = bytearray(base64.b64decode(payload))
    blob[-1] ^= 1

    with pytest.raises(InvalidTag):
        decrypt(f"{kid}{SEPARATOR}{base64.b64encode(bytes(blob)).decode()}")


def test_a_value_cannot_be_moved_under_another_key_id(customer, settings):
    """The key id is authenticated data: relabelling a value does not decrypt it."""
    settings.SCRM_FIELD_KEYS = (
        f"{settings.SCRM_FIELD_KEYS},{active_key_id()}x:"
        + (settings.SCRM_FIELD_KEYS.split(",")[0].partition(":")[2])
    )
    stored = stored_row(customer)["mobile"]
    _, _, payload = stored.partition(SEPARATOR)

    with pytest.raises(InvalidTag):
        decrypt(f"{active_key_id()}x{SEPARATOR}{payload}")


# --- blind index --------------------------------------------------------------------------


def test_the_blind_index_is_not_the_raw_value(customer):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT mobile_bidx, id_number_bidx FROM customers_customer WHERE id = %s",
            [customer.pk],
        )
        mobile_bidx, id_bidx = cursor.fetchone()

    assert len(mobile_bidx) == 64
    assert "12345678" not in mobile_bidx
    assert "19491231" not in id_bidx


@pytest.mark.parametrize(
    "typed", ["13912345678", "+86 139 1234 5678", "+8613912345678", "139-1234-5678"]
)
def test_exact_mobile_search_finds_the_customer(typed, org, api_client_for):
    wanted = CustomerFactory(owner=org.rep, mobile="13912345678")
    CustomerFactory(owner=org.rep, mobile="13912345679")

    response = api_client_for(org.rep).get(f"/api/v1/customers/?{urlencode({'mobile': typed})}")

    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_mobile_search_stays_inside_the_scope(org, api_client_for):
    CustomerFactory(owner=org.rep_b, mobile="13912345678")

    response = api_client_for(org.rep).get("/api/v1/customers/?mobile=13912345678")

    assert response.json()["count"] == 0


def test_the_blind_index_follows_an_update(customer):
    customer.mobile = "13800000000"
    customer.save()

    assert Customer.objects.get(mobile_bidx=mobile_index("13800000000")) == customer
    assert not Customer.objects.filter(mobile_bidx=mobile_index("13912345678")).exists()


# --- key rotation -------------------------------------------------------------------------


def test_a_new_first_key_keeps_old_rows_readable_and_encrypts_new_writes(customer, settings):
    old_kid = active_key_id()

    with override_settings(SCRM_FIELD_KEYS=rotated_keys(settings)):
        old = Customer.objects.get(pk=customer.pk)
        fresh = CustomerFactory(mobile="13700000001")
        old.email = "changed@example.com"
        old.save()

        assert old.mobile == "13912345678"
        assert stored_row(fresh)["mobile"].startswith("k2" + SEPARATOR)
        assert stored_row(old)["email"].startswith("k2" + SEPARATOR)
        assert stored_row(old)["mobile"].startswith("k2" + SEPARATOR)  # save() rewrites all
        assert Customer.objects.get(pk=fresh.pk).mobile == "13700000001"

    assert old_kid != "k2"


def test_blind_index_search_survives_a_field_key_rotation(customer, settings, org, api_client_for):
    customer.owner = org.rep
    customer.save()

    with override_settings(SCRM_FIELD_KEYS=rotated_keys(settings)):
        response = api_client_for(org.rep).get("/api/v1/customers/?mobile=13912345678")

    assert [row["id"] for row in response.json()["results"]] == [customer.pk]


def test_a_value_under_a_dropped_key_fails_loudly(customer):
    with override_settings(SCRM_FIELD_KEYS=NEW_KEY), pytest.raises(ImproperlyConfigured):
        Customer.objects.get(pk=customer.pk)


def test_rotate_field_keys_reencrypts_old_rows_under_the_new_key(customer, settings):
    untouched = CustomerFactory(email="", wechat_id="")

    with override_settings(SCRM_FIELD_KEYS=rotated_keys(settings)):
        call_command("rotate_field_keys", "--batch-size", "1", stdout=StringIO())

        row = stored_row(customer)
        assert all(value.startswith("k2" + SEPARATOR) for value in row.values())
        assert stored_row(untouched)["email"] == ""
        reloaded = Customer.objects.get(pk=customer.pk)
        assert (reloaded.mobile, reloaded.address) == ("13912345678", "上海市浦东新区张江路100号")

    # The old key alone can no longer read the rotated rows: the rotation really happened.
    with pytest.raises(ImproperlyConfigured):
        Customer.objects.get(pk=customer.pk)

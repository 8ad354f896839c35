"""No response shows a raw sensitive value unless it is an explicit, audited reveal.

`SURFACES` lists every read (and write response) a role can reach; each is requested as every
role and the whole body is scanned for the raw values of every customer in the database (read
back through the ORM, i.e. decrypted). Add a surface (e.g. an admin page) by appending a
`Surface(..., client="admin")`; `assert_no_raw_values(response)` is usable on its own.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from customers.models import Customer
from customers.services import share_customer
from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_wechat_id,
)
from scrm.masking.reveal import reveal_field
from tests.conftest import ORG_USERS
from tests.factories import CustomerFactory

SCANNED_FIELDS = ("name", "mobile", "id_number", "email", "wechat_id", "address")

UrlBuilder = Callable[[SimpleNamespace], str]


# --- the scanner ----------------------------------------------------------------------------


def response_text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def raw_values() -> set[str]:
    """Every raw sensitive value in the customers table, decrypted."""
    values = set()
    for customer in Customer.objects.all():
        values.update(getattr(customer, field) for field in SCANNED_FIELDS)
    values.discard("")
    return values


def leaked_values(text: str, values: set[str]) -> set[str]:
    """Raw values found in `text`, as written or as JSON \\u-escapes."""
    escaped = {value: json.dumps(value)[1:-1] for value in values}
    return {value for value in values if value in text or escaped[value] in text}


def assert_no_raw_values(response, values: set[str] | None = None) -> None:
    values = raw_values() if values is None else values
    assert leaked_values(response_text(response), values) == set()


# --- the surfaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    label: str
    url: UrlBuilder
    method: str = "GET"
    body: Callable[[SimpleNamespace], dict] | None = None
    client: str = "api"  # "api": DRF APIClient; "admin": Django test Client, session login


def fixed(url: str) -> UrlBuilder:
    return lambda w: url


def customer_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/customers/{getattr(w.customers, attr).pk}/{suffix}"


CUSTOMER_ATTRS = ("of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated")
NEW_CUSTOMER = {
    "name": "欧阳娜娜",
    "mobile": "13812345678",
    "id_number": "11010519491231002X",
    "email": "zhang@example.com",
    "wechat_id": "wxid_ab12389",
    "address": "上海市浦东新区张江路100号",
}

SURFACES: list[Surface] = [
    Surface("customer list", fixed("/api/v1/customers/")),
    Surface("customer list, one per page", fixed("/api/v1/customers/?page_size=1&page=2")),
    Surface("search by name", fixed("/api/v1/customers/?q=张")),
    Surface(
        "search by exact mobile",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_rep.mobile}",
    ),
    *(Surface(f"detail {attr}", customer_url(attr)) for attr in CUSTOMER_ATTRS),
    *(Surface(f"shares of {attr}", customer_url(attr, "shares/")) for attr in CUSTOMER_ATTRS),
    Surface("create", fixed("/api/v1/customers/"), "POST", lambda w: NEW_CUSTOMER),
    Surface(
        "update",
        customer_url("of_rep"),
        "PATCH",
        lambda w: {"mobile": "13698765432", "email": "new.mail@example.com"},
    ),
    Surface("me", fixed("/api/v1/me/")),
    Surface("staff directory", fixed("/api/v1/staff/")),
    Surface("audit events", fixed("/api/v1/audit/events/")),
    Surface("audit events export", fixed("/api/v1/audit/events/export/")),
    Surface("security alerts", fixed("/api/v1/alerts/")),
]


@pytest.fixture
def world(org, customers):
    """The org with some history: a share, searches and reveals already in the audit trail."""
    share_customer(actor=org.rep_b, customer=customers.of_rep_b, with_staff=org.rep)
    raw_mobile = customers.of_rep.mobile
    for user in (org.rep, org.legal):
        client = APIClient()
        client.force_authenticate(user=user)
        client.get("/api/v1/customers/", {"mobile": raw_mobile})
        client.get("/api/v1/customers/", {"mobile": f"+86 {raw_mobile[:3]} {raw_mobile[3:]}"})
    reveal_field(
        actor=org.legal,
        obj=customers.of_rep,
        field="id_number",
        reason=f"court order about {raw_mobile}, id {customers.of_rep.id_number}",
        channel="api",
    )
    return SimpleNamespace(org=org, customers=customers)


def request(surface: Surface, user, world):
    if surface.client == "admin":
        client = Client()
        client.force_login(user)
    else:
        client = APIClient()
        client.force_authenticate(user=user)
    call = getattr(client, surface.method.lower())
    url = surface.url(world)
    if surface.body is None:
        return call(url)
    if surface.client == "admin":
        return call(url, surface.body(world))
    return call(url, surface.body(world), format="json")


@pytest.mark.parametrize("role", ORG_USERS)
def test_no_response_shows_a_raw_value(role, world):
    user = getattr(world.org, role)
    leaks = []
    for surface in SURFACES:
        with transaction.atomic():
            response = request(surface, user, world)
            # Read the values inside the savepoint, so a create/update's new values count.
            found = leaked_values(response_text(response), raw_values())
            transaction.set_rollback(True)
        if found:
            leaks.append(f"{surface.label} ({response.status_code}): {sorted(found)}")
    assert not leaks, "\n".join(leaks)


def test_surfaces_were_really_reached(world, api_client_for):
    """Guard against a vacuous scan: the owner gets real data back from the customer surfaces."""
    client = api_client_for(world.org.admin_user)

    listing = client.get("/api/v1/customers/").json()
    events = client.get("/api/v1/audit/events/").json()

    assert listing["count"] == 5
    assert events["count"] > 0


# --- the masks' exact shapes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "raw", "shown"),
    [
        (mask_mobile, "13812345678", "138****5678"),
        (mask_id_number, "11010519491231002X", "1101**********002X"),
        (mask_email, "zhang@example.com", "z***@example.com"),
        (mask_wechat_id, "wxid_ab12389", "wx***89"),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧阳**"),
        (mask_address, "上海市浦东新区张江路100号", "上海市浦东新区***"),
    ],
)
def test_mask_shapes(mask, raw, shown):
    assert mask(raw) == shown


def test_api_renders_every_field_through_its_mask(rep, api_client_for):
    response = api_client_for(rep).post(
        "/api/v1/customers/", {**NEW_CUSTOMER, "name": "张三"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {field: body[field] for field in NEW_CUSTOMER} == {
        "name": "张*",
        "mobile": "138****5678",
        "id_number": "1101**********002X",
        "email": "z***@example.com",
        "wechat_id": "wx***89",
        "address": "上海市浦东新区***",
    }


def test_compound_surname_keeps_both_characters_in_lists(rep, api_client_for):
    CustomerFactory(owner=rep, name="欧阳娜娜")

    rows = api_client_for(rep).get("/api/v1/customers/").json()["results"]

    assert [row["name"] for row in rows] == ["欧阳**"]


def test_owner_sees_masked_values_until_an_explicit_reveal(rep, api_client_for):
    customer = CustomerFactory(owner=rep, mobile="13812345678")
    client = api_client_for(rep)

    detail = client.get(f"/api/v1/customers/{customer.pk}/")
    revealed = client.post(
        f"/api/v1/customers/{customer.pk}/reveal/",
        {"field": "mobile", "reason": "calling back"},
        format="json",
    )

    assert detail.json()["mobile"] == "138****5678"
    assert revealed.json() == {"field": "mobile", "value": "13812345678"}

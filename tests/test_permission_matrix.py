"""Every role against every endpoint: the status a user of that role gets.

The matrix is data: `ROWS` is a list of `Row(role, method, url, expected, ...)`. Add a surface
(e.g. the Django admin) by appending rows with `client="admin"`; `expand()` turns one endpoint
and a {role: status} table into rows and `test_every_endpoint_covers_every_role` makes sure no
role was forgotten.

The world every row runs in (see tests/conftest.py for the organisation):
- one customer per owner: of_rep, of_rep_b, of_leaver (owner in notice), of_other_team,
  of_unrelated;
- rep_b has shared of_rep_b with rep (view level): `world.share`;
- a chat with of_rep: `world.conversation` holding `world.message` (sent now, so inside every
  history window);
- offboarding, all of team1 leavers whose supervisor is `lead`: `world.case_draft` (rep_leaving,
  draft), `world.case_approved` (approved by lead, ready to schedule or run) and
  `world.case_done` (run to completion, its one customer moved: `world.transfer`).

All rows of one role run in one test, each inside a rolled-back savepoint so writes (create,
transfer, revoke) do not leak into the next row; mismatches are reported together.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from customers.services import share_customer
from offboarding.services import approve_case, create_case, run_now
from scrm.staff import roles
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.chats.wecom_records import text_record
from tests.conftest import ORG_USERS
from tests.factories import CustomerFactory, StaffFactory

ANONYMOUS = "anonymous"
ROLES = (*ORG_USERS, ANONYMOUS)

UrlBuilder = Callable[[SimpleNamespace], str]
BodyBuilder = Callable[[SimpleNamespace], dict]


@dataclass(frozen=True)
class Row:
    role: str  # an attribute of `org`, or ANONYMOUS
    method: str  # "GET", "POST", "PATCH", "PUT", "DELETE"
    url: UrlBuilder  # world -> url
    expected: int
    body: BodyBuilder | None = None  # world -> JSON body (API) or form data (admin)
    client: str = "api"  # "api": DRF APIClient; "admin": Django test Client, session login
    label: str = ""  # names the endpoint in failure messages
    format: str = "json"  # API bodies only: "json" or "multipart" (file uploads)


def expand(
    label: str,
    method: str,
    url: UrlBuilder,
    expected: dict[str, int],
    body: BodyBuilder | None = None,
    client: str = "api",
    format: str = "json",
) -> list[Row]:
    return [
        Row(role, method, url, status, body=body, client=client, label=label, format=format)
        for role, status in expected.items()
    ]


def customer_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/customers/{getattr(w.customers, attr).pk}/{suffix}"


def fixed(url: str) -> UrlBuilder:
    return lambda w: url


def only(allowed: dict[str, int], otherwise: int) -> dict[str, int]:
    """A full {role: status} table: `allowed` as given, every other logged-in role `otherwise`."""
    table = {role: otherwise for role in ORG_USERS}
    table.update(allowed)
    table[ANONYMOUS] = 401
    return table


def admin_only(allowed: dict[str, int], otherwise: int) -> dict[str, int]:
    """`only` for admin pages: the admin sends an anonymous visitor to its login page."""
    return {**only(allowed, otherwise), ANONYMOUS: 302}


def admin(label: str, method: str, url: UrlBuilder, expected: dict[str, int], body=None):
    return expand(label, method, url, expected, body=body, client="admin")


def _create_body(w) -> dict:
    return {"name": "新客户", "mobile": "13700000001", "stage": "lead"}


def _share_body(w) -> dict:
    return {"staff_id": w.org.rep_other_team.pk, "level": "view"}


def _transfer_body(w) -> dict:
    return {"customers": [w.customers.of_rep.pk], "to_staff": w.org.rep_b.pk, "reason": "rebalance"}


def _reveal_body(w) -> dict:
    return {"field": "mobile", "reason": "customer asked for a call back"}


AUDIT_READERS = {"auditor": 200, "security": 200, "admin_user": 200}

ROWS: list[Row] = [
    # --- customers: list (which rows each role sees: test_list_shows_exactly_the_scope) -----
    *expand("customer list", "GET", fixed("/api/v1/customers/"), only({"security": 403}, 200)),
    # --- customers: detail ------------------------------------------------------------------
    *expand(
        "detail of rep's customer",
        "GET",
        customer_url("of_rep"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    *expand(
        "detail of a customer shared with rep",
        "GET",
        customer_url("of_rep_b"),
        only(
            {
                "rep": 200,
                "rep_b": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    *expand(
        "detail of an unrelated department's customer",
        "GET",
        customer_url("of_unrelated"),
        only(
            {
                "manager_other": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    # --- customers: create ------------------------------------------------------------------
    *expand(
        "create customer",
        "POST",
        fixed("/api/v1/customers/"),
        only({"hr": 403, "legal": 403, "auditor": 403, "security": 403}, 201),
        body=_create_body,
    ),
    # --- customers: update ------------------------------------------------------------------
    *expand(
        "patch rep's customer",
        "PATCH",
        customer_url("of_rep"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "admin_user": 200,
                # visible but not changeable: the existence is known, so 403 not 404
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=lambda w: {"stage": "contacted"},
    ),
    *expand(
        "patch a customer shared with rep at view level",
        "PATCH",
        customer_url("of_rep_b"),
        only(
            {
                "rep": 403,
                "rep_b": 200,
                "lead": 200,
                "manager": 200,
                "admin_user": 200,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=lambda w: {"stage": "contacted"},
    ),
    # --- customers: reveal ------------------------------------------------------------------
    *expand(
        "reveal mobile of rep's customer",
        "POST",
        customer_url("of_rep", "reveal/"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "admin_user": 200,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=_reveal_body,
    ),
    *expand(
        "reveal mobile of a customer shared with rep (a share does not open reveal)",
        "POST",
        customer_url("of_rep_b", "reveal/"),
        only(
            {
                "rep": 403,
                "rep_b": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "admin_user": 200,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=_reveal_body,
    ),
    # --- customers: shares ------------------------------------------------------------------
    *expand(
        "list shares of rep's customer",
        "GET",
        customer_url("of_rep", "shares/"),
        only(
            {
                "rep": 200,
                "lead": 200,
                "manager": 200,
                "legal": 200,
                "auditor": 200,
                "admin_user": 200,
                "security": 403,
            },
            404,
        ),
    ),
    *expand(
        "share rep's customer",
        "POST",
        customer_url("of_rep", "shares/"),
        only(
            {
                "rep": 201,
                "lead": 201,
                "manager": 201,
                "admin_user": 201,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
        body=_share_body,
    ),
    *expand(
        "revoke the share of rep_b's customer with rep",
        "DELETE",
        lambda w: f"/api/v1/customers/{w.customers.of_rep_b.pk}/shares/{w.share.pk}/",
        only(
            {
                "rep_b": 204,
                "lead": 204,
                "manager": 204,
                "admin_user": 204,
                # the grantee sees the customer but may not change its shares
                "rep": 403,
                "legal": 403,
                "auditor": 403,
                "security": 403,
            },
            404,
        ),
    ),
    # --- customers: transfer ----------------------------------------------------------------
    *expand(
        "transfer rep's customer to rep_b",
        "POST",
        fixed("/api/v1/customers/transfer/"),
        only({"lead": 200, "manager": 200, "admin_user": 200}, 403),
        body=_transfer_body,
    ),
    # --- staff and me -----------------------------------------------------------------------
    *expand("staff directory", "GET", fixed("/api/v1/staff/"), only({}, 200)),
    *expand("me", "GET", fixed("/api/v1/me/"), only({}, 200)),
    # --- audit ------------------------------------------------------------------------------
    *expand("audit events", "GET", fixed("/api/v1/audit/events/"), only(AUDIT_READERS, 403)),
    *expand(
        "audit events export",
        "GET",
        fixed("/api/v1/audit/events/export/"),
        only(AUDIT_READERS, 403),
    ),
    *expand("security alerts", "GET", fixed("/api/v1/alerts/"), only(AUDIT_READERS, 403)),
]

# Which customers each role's list shows (attributes of the `customers` fixture).
EVERYONE = {"of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated"}
LIST_SCOPE = {
    "rep": {"of_rep", "of_rep_b"},  # own + shared with them
    "rep_b": {"of_rep_b"},
    "rep_other_team": {"of_other_team"},
    "lead": {"of_rep", "of_rep_b", "of_leaver"},  # team1
    "manager": {"of_rep", "of_rep_b", "of_leaver", "of_other_team"},  # Sales tree
    "manager_other": {"of_unrelated"},
    "hr": {"of_leaver"},  # customers of staff in notice / departed
    "legal": EVERYONE,
    "auditor": EVERYONE,
    "admin_user": EVERYONE,
}


@pytest.fixture
def world(org, customers):
    share = share_customer(actor=org.rep_b, customer=customers.of_rep_b, with_staff=org.rep)
    return SimpleNamespace(org=org, customers=customers, share=share)


def client_for(row: Row, world) -> APIClient | Client:
    user = None if row.role == ANONYMOUS else getattr(world.org, row.role)
    if row.client == "admin":
        client = Client()
        if user is not None:
            client.force_login(user)
        return client
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def perform(row: Row, world):
    client = client_for(row, world)
    body = row.body(world) if row.body else None
    method = getattr(client, row.method.lower())
    if row.client == "admin":
        return method(row.url(world), body) if body is not None else method(row.url(world))
    return method(row.url(world), body, format="json")


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_the_expected_status_everywhere(role, world):
    mismatches = []
    for row in (r for r in ROWS if r.role == role):
        with transaction.atomic():
            response = perform(row, world)
            transaction.set_rollback(True)
        if response.status_code != row.expected:
            mismatches.append(
                f"{row.method} {row.url(world)} ({row.label}): "
                f"expected {row.expected}, got {response.status_code}"
            )
    assert not mismatches, "\n".join(mismatches)


def test_every_endpoint_covers_every_role():
    by_endpoint: dict[tuple[str, str, str], set[str]] = {}
    for row in ROWS:
        by_endpoint.setdefault((row.client, row.method, row.label), set()).add(row.role)
    incomplete = {
        key: set(ROLES) - roles for key, roles in by_endpoint.items() if roles != set(ROLES)
    }
    assert incomplete == {}


@pytest.mark.parametrize("role", sorted(LIST_SCOPE))
def test_list_shows_exactly_the_scope(role, world, api_client_for):
    response = api_client_for(getattr(world.org, role)).get("/api/v1/customers/")

    assert response.status_code == 200
    expected = {getattr(world.customers, attr).pk for attr in LIST_SCOPE[role]}
    assert {row["id"] for row in response.json()["results"]} == expected


def test_rep_no_longer_sees_a_customer_once_the_share_is_revoked(world, api_client_for):
    rep_b_client = api_client_for(world.org.rep_b)
    url = f"/api/v1/customers/{world.customers.of_rep_b.pk}/shares/{world.share.pk}/"
    assert rep_b_client.delete(url).status_code == 204

    response = api_client_for(world.org.rep).get("/api/v1/customers/")

    assert {row["id"] for row in response.json()["results"]} == {world.customers.of_rep.pk}


def test_transfer_outside_the_leads_team_moves_nothing(world, api_client_for):
    body = {
        "customers": [world.customers.of_rep.pk, world.customers.of_other_team.pk],
        "to_staff": world.org.rep_b.pk,
        "reason": "rebalance",
    }

    response = api_client_for(world.org.lead).post(
        "/api/v1/customers/transfer/", body, format="json"
    )

    assert response.status_code == 403
    world.customers.of_rep.refresh_from_db()
    assert world.customers.of_rep.owner == world.org.rep


def test_deactivated_staff_are_refused_even_with_a_live_session(world, api_client_for):
    world.org.rep.is_active = False
    world.org.rep.save()

    response = api_client_for(world.org.rep).get("/api/v1/customers/")

    assert response.status_code == 403

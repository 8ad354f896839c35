"""Every role against every endpoint: the status a user of that role gets (`Endpoint.statuses`),
and the specific permission checks a table cannot express.

All endpoints of one role run in one test, each inside a rolled-back savepoint so writes
(create, transfer, revoke) do not leak into the next; mismatches are reported together.
"""

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client

from tests.endpoints.harness import client_for, perform, user_of
from tests.endpoints.registry import ENDPOINTS, ROLES, _batch_body
from tests.factories import StaffFactory
from tests.signin import verified_login

CHECKED = [e for e in ENDPOINTS if e.statuses]


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_the_expected_status_everywhere(role, world):
    user = user_of(world, role)
    mismatches = []
    for endpoint in CHECKED:
        with transaction.atomic():
            response = perform(endpoint, world, client_for(endpoint, user))
            transaction.set_rollback(True)
        if response.status_code != endpoint.statuses[role]:
            mismatches.append(
                f"{endpoint.method} {endpoint.url(world)} ({endpoint.key}): "
                f"expected {endpoint.statuses[role]}, got {response.status_code}"
            )
    assert not mismatches, "\n".join(mismatches)


def test_every_endpoint_covers_every_role_or_none():
    incomplete = {
        e.key: set(ROLES) - set(e.statuses) for e in CHECKED if set(e.statuses) != set(ROLES)
    }

    assert incomplete == {}


def test_the_archive_sync_account_may_ingest_but_not_read(base_world, api_client_for):
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    client = api_client_for(sync)

    ingest = client.post("/api/v1/chats/messages/batch/", _batch_body(base_world), format="json")
    read = client.get("/api/v1/chats/messages/")

    assert (ingest.status_code, read.status_code) == (200, 403)


def test_hr_edits_staff_records_but_cannot_hand_out_rights(org):
    """Regression: HR could tick "superuser" on itself or set an administrator's password."""
    client = Client()
    verified_login(client, org.hr)

    form = client.get(f"/admin/staff/staff/{org.hr.pk}/change/").content.decode()
    password = client.post(
        f"/admin/staff/staff/{org.admin_user.pk}/password/",
        {"password1": "a-new-Secret-2026", "password2": "a-new-Secret-2026"},
    )

    assert 'name="username"' in form  # the record itself stays editable
    for field in ("is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in form
    assert password.status_code == 403
    org.admin_user.refresh_from_db()
    assert not org.admin_user.check_password("a-new-Secret-2026")


@pytest.mark.parametrize("client", ["api", "admin"])
def test_timeline_shows_messages_only_to_holders_of_the_chat_permission(client, base_world):
    """Regression: the timeline needed only customers.view_customer, so a role whose chat
    permission an administrator removed still read the archive there."""
    world = base_world
    group = world.org.rep.groups.get()
    group.permissions.remove(Permission.objects.get(codename="view_message"))
    user = type(world.org.rep).objects.get(pk=world.org.rep.pk)  # fresh permission cache
    browser = Client()
    verified_login(browser, user)
    pk = world.customers.of_rep.pk

    if client == "api":
        response = browser.get(f"/api/v1/customers/{pk}/timeline/")
        kinds = [entry["kind"] for entry in response.json()["entries"]]
    else:
        response = browser.get(f"/admin/chats/message/timeline/{pk}/")
        kinds = [entry["kind"] for entry in response.context["entries"]]

    assert response.status_code == 200
    assert "message" not in kinds
    assert world.message.text not in response.content.decode()


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


@pytest.mark.parametrize("role", sorted(LIST_SCOPE))
def test_list_shows_exactly_the_scope(role, base_world, api_client_for):
    response = api_client_for(getattr(base_world.org, role)).get("/api/v1/customers/")

    assert response.status_code == 200
    expected = {getattr(base_world.customers, attr).pk for attr in LIST_SCOPE[role]}
    assert {row["id"] for row in response.json()["results"]} == expected


def test_rep_no_longer_sees_a_customer_once_the_share_is_revoked(base_world, api_client_for):
    world = base_world
    rep_b_client = api_client_for(world.org.rep_b)
    url = f"/api/v1/customers/{world.customers.of_rep_b.pk}/shares/{world.share.pk}/"
    assert rep_b_client.delete(url).status_code == 204

    response = api_client_for(world.org.rep).get("/api/v1/customers/")

    assert {row["id"] for row in response.json()["results"]} == {world.customers.of_rep.pk}


def test_transfer_outside_the_leads_team_moves_nothing(base_world, api_client_for):
    world = base_world
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


def test_deactivated_staff_are_refused_even_with_a_live_session(org, customers, api_client_for):
    org.rep.is_active = False
    org.rep.save()

    response = api_client_for(org.rep).get("/api/v1/customers/")

    assert response.status_code == 403

"""No response shows a raw sensitive value unless it is an explicit, audited reveal.

Every endpoint that could show sensitive data declares it in tests/endpoints/registry.py
(`Endpoint.shows`); each is requested as every role in the masking world
(tests/endpoints/world.py) and the whole body is scanned for the raw values of every customer
in the database (read back through the ORM, i.e. decrypted) and for the sensitive values hidden
in chat messages and follow-up notes (`CONTENT_SECRETS`: a mobile number, a checksummed ID
number, an email and a bank card inside free text). `assert_no_raw_values(response)`
(tests/endpoints/harness.py) is usable on its own.

An endpoint that some roles may read raw by an explicit right (chat content for holders of
chats.reveal_message, raw exports for customers.export_raw) names that right in
`Shows.raw_for`; it is scanned for every other role, and
`test_raw_readers_really_see_raw_content` proves the secrets are really there to be found.
"""

import pytest
from django.db import transaction
from django.test import Client

from customers.models import Customer
from scrm.masking.free_text import shows_raw_content
from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_wechat_id,
)
from scrm.staff import roles
from tests.conftest import ORG_USERS
from tests.endpoints.harness import client_for, leaked_values, perform, raw_values, response_text
from tests.endpoints.registry import ENDPOINTS, NEW_CUSTOMER, exports_raw
from tests.endpoints.world import CONTENT_SECRETS, CUSTOMER_ATTRS
from tests.factories import CustomerFactory
from tests.signin import verified_login

SHOWN = [e for e in ENDPOINTS if e.shows is not None]


@pytest.mark.parametrize("role", ORG_USERS)
def test_no_response_shows_a_raw_value(role, masking_world):
    world = masking_world
    user = getattr(world.org, role)
    leaks = []
    for endpoint in SHOWN:
        if endpoint.shows.raw_for is not None and endpoint.shows.raw_for(user):
            continue  # read raw by right: test_raw_readers_really_see_raw_content
        with transaction.atomic():
            response = perform(endpoint, world, client_for(endpoint, user))
            # Read the values inside the savepoint, so a create/update's new values count.
            found = leaked_values(response_text(response), raw_values() - book_names(user))
            transaction.set_rollback(True)
        if found:
            leaks.append(f"{endpoint.key} ({response.status_code}): {sorted(found)}")
    assert not leaks, "\n".join(leaks)


def test_surfaces_were_really_reached(masking_world, api_client_for):
    """Guard against a vacuous scan: the owner gets real data back from the customer surfaces."""
    client = api_client_for(masking_world.org.admin_user)

    listing = client.get("/api/v1/customers/").json()
    events = client.get("/api/v1/audit/events/").json()

    assert listing["count"] == Customer.objects.count() == 6  # five + the leaver_done's one
    assert events["count"] > 0


MASKED_SECRETS = (
    "150****5678",
    "4403**********3419",
    "l***@corp-mail.example.org",
    "6222***********0128",
)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("rep", "/api/v1/chats/messages/"),
        ("rep", "/api/v1/chats/search/?q=报价"),
        ("lead", "/api/v1/chats/export/?format=csv"),
        ("auditor", "/api/v1/chats/export/?format=csv"),
        ("manager_other", "/admin/chats/message/"),
        ("lead", "/admin/chats/message/search/?q=报价"),
    ],
)
def test_chat_surfaces_show_the_secrets_masked(role, url, masking_world):
    """Guard against a vacuous scan: the secrets are there, in their masked shape."""
    client = Client()
    verified_login(client, getattr(masking_world.org, role))

    text = response_text(client.get(url))

    for shown in MASKED_SECRETS:
        assert shown in text


def test_timeline_shows_the_follow_up_note_masked(masking_world, api_client_for):
    url = f"/api/v1/customers/{masking_world.customers.of_rep.pk}/timeline/"

    entries = api_client_for(masking_world.org.lead).get(url).json()["entries"]

    # of_rep's notes: rep's own "called" (the base world) and the one quoting the secrets
    [note] = [
        e["summary"] for e in entries if e["kind"] == "follow_up" and e["summary"] != "called"
    ]
    assert "150****5678" in note and "4403**********3419" in note


def test_offboarding_free_text_is_masked_and_the_preview_lists_masked_names(
    masking_world, api_client_for
):
    client = api_client_for(masking_world.org.lead)
    of_leaver = masking_world.customers.of_leaver

    case = client.get(f"/api/v1/offboarding/cases/{masking_world.case_draft.pk}/").json()
    preview = client.get(f"/api/v1/offboarding/cases/{masking_world.case_draft.pk}/preview/").json()
    report = client.get(f"/api/v1/offboarding/cases/{masking_world.case_done.pk}/report/").json()

    assert mask_mobile(of_leaver.mobile) in case["handover_notes"]
    # insider §5: the leaver's lead sees the names of the team's customers; str() stays masked.
    assert preview["assignments"] == [
        {
            "customer_id": of_leaver.pk,
            "customer": f"{of_leaver.name} (#{of_leaver.pk})",
            "to": "rep_b",
        }
    ]
    assert str(of_leaver) == f"{mask_name(of_leaver.name)} (#{of_leaver.pk})"
    [transfer] = report["transfers"]
    assert transfer["status"] == "refused"
    assert "150****5678" in transfer["reason"]


@pytest.mark.parametrize("role", ["legal", "admin_user"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/chats/messages/",
        "/api/v1/chats/export/?format=csv",
        "/admin/chats/message/search/?q=报价",
    ],
)
def test_raw_readers_really_see_raw_content(role, url, masking_world):
    """The skipped (role, surface) pairs are skipped for a reason: they hold the raw right."""
    user = getattr(masking_world.org, role)
    assert shows_raw_content(user) and exports_raw(user)
    client = Client()
    verified_login(client, user)

    text = response_text(client.get(url))

    assert leaked_values(text, CONTENT_SECRETS) >= CONTENT_SECRETS


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
        "name": "张三",  # insider §5: the creator owns it, and a rep sees their own names
        "mobile": "138****5678",
        "id_number": "1101**********002X",
        "email": "z***@example.com",
        "wechat_id": "wx***89",
        "address": "上海市浦东新区***",
    }


def test_compound_surname_keeps_both_characters_in_lists(rep, auditor, api_client_for):
    CustomerFactory(owner=rep, name="欧阳娜娜")

    # The auditor: a role that sees names masked (insider §5: the owner sees them raw).
    rows = api_client_for(auditor).get("/api/v1/customers/").json()["results"]

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


# --- insider §4: the typed variants are there, masked (guard against a vacuous scan) ---


def test_typed_variants_file_names_and_transfer_reasons_are_shown_masked(
    masking_world, api_client_for
):
    client = api_client_for(masking_world.org.lead)

    messages = response_text(client.get("/api/v1/chats/messages/"))
    detail = client.get(f"/api/v1/customers/{masking_world.customers.of_rep.pk}/").json()

    for shown in ("139****4321", "zh***88", "3101**********1235", "6225********7898"):
        assert shown in messages
    assert "186****5678" in messages
    assert "身份证正反面_3201**********0019_159****4321.jpg" in messages
    reasons = [p.get("reason") or "" for p in detail["ownership_history"]]
    assert "客户要求换人，回电 177****5678" in reasons


# --- insider §6: group rooms ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_other_team", "manager", "legal"])
def test_group_room_messages_are_there_to_be_scanned(role, masking_world, api_client_for):
    """The room surfaces are not vacuous: the room's members' scopes read its messages, with
    the secrets raw for legal (chats.reveal_message) and masked for the others."""
    user = getattr(masking_world.org, role)

    response = api_client_for(user).get(
        f"/api/v1/chats/messages/{masking_world.secrets.room_message.pk}/"
    )

    assert response.status_code == 200
    found = leaked_values(response_text(response), CONTENT_SECRETS)
    assert found == (CONTENT_SECRETS if shows_raw_content(user) else set())


# --- insider §5 ---
# The masking matrix shows sales roles the names of their book's customers (own / team /
# department, not shares; not in the notice period): the scan allows exactly those names for
# that viewer, worked out here from the org chart (not through the code under test). A name
# also borne by a customer outside the book stays forbidden: the scan cannot tell them apart.


def book_names(user) -> set[str]:
    from django.db.models import Q

    from scrm.staff.models import Staff

    if user.employment_status != "active":
        return set()
    owners = Q(pk__in=[])
    if roles.SALES_REP in user.role_names:
        owners |= Q(pk=user.pk)
    if roles.TEAM_LEAD in user.role_names and user.team_id:
        owners |= Q(team_id=user.team_id)
    if roles.SALES_MANAGER in user.role_names and user.department_id:
        tree = user.department.descendant_ids()
        owners |= Q(department_id__in=tree) | Q(team__department_id__in=tree)
    book = Staff.objects.filter(owners)
    inside = set(Customer.objects.filter(owner__in=book).values_list("name", flat=True))
    outside = set(Customer.objects.exclude(owner__in=book).values_list("name", flat=True))
    return inside - outside


@pytest.mark.parametrize(
    ("role", "raw_names"),
    [
        ("rep", {"of_rep"}),
        ("rep_b", {"of_rep_b"}),  # "done" was refused and routed to the lead
        ("rep_other_team", {"of_other_team"}),
        ("lead", {"of_rep", "of_rep_b", "of_leaver", "done"}),
        ("manager", {"of_rep", "of_rep_b", "of_leaver", "of_other_team", "done"}),
        ("manager_other", {"of_unrelated"}),
        *((role, set()) for role in ("hr", "legal", "auditor", "security", "admin_user")),
    ],
)
def test_book_names_are_the_matrix_not_everyone(role, raw_names, masking_world):
    """Guard against a scan that allows too much: the allowed names are exactly the book's."""
    done = masking_world.case_done.transfers.get().customer
    named = {attr: getattr(masking_world.customers, attr).name for attr in CUSTOMER_ATTRS}
    named["done"] = done.name

    assert book_names(getattr(masking_world.org, role)) == {named[attr] for attr in raw_names}

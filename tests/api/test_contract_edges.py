"""The edges of the API contract that schemathesis found once it signed in for real: what a
client sends that the schema allows is answered as documented, and what it does not allow is
refused with 400 naming the parameter; state conflicts answer 409."""

import pytest
from django.http import QueryDict

from chats.filters import MessageFilter
from chats.models import Message
from scrm.api.schema import CREATED_ID
from tests.api.test_schemathesis import served_schema
from tests.factories import CustomerFactory
from tests.offboarding.cases import approved_case, supervised_by_lead
from tests.signin import api_client, enrol


@pytest.fixture
def rep_api(org):
    return api_client(org.rep)


# --- filters ------------------------------------------------------------------------------------


def test_an_unknown_owner_id_filters_to_nothing_as_one_outside_the_scope_does(
    rep_api, org, customers
):
    # An unknown id and the id of a colleague outside the rep's scope answer alike: the filter
    # tells nobody which records exist.
    unknown = rep_api.get("/api/v1/customers/?owner=987654")
    outside = rep_api.get(f"/api/v1/customers/?owner={org.rep_unrelated.pk}")
    own = rep_api.get(f"/api/v1/customers/?owner={org.rep.pk}")

    assert unknown.status_code == outside.status_code == 200
    assert unknown.json()["results"] == outside.json()["results"] == []
    assert [row["id"] for row in own.json()["results"]] == [customers.of_rep.pk]


@pytest.mark.parametrize(
    "role, path, parameter",
    [
        ("rep", "/api/v1/chats/messages/?start=", "start"),  # not "no filter": every message
        ("auditor", "/api/v1/audit/events/?flagged=2", "flagged"),  # Django reads "2" as yes
        ("rep", "/api/v1/customers/?owner=-1", "owner"),
        ("rep", "/api/v1/customers/?owner=99999999999999999999", "owner"),
    ],
)
def test_a_filter_value_the_schema_does_not_allow_is_refused_naming_it(org, role, path, parameter):
    response = api_client(getattr(org, role)).get(path)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


@pytest.mark.parametrize("offset", ["+17:24", "-21:59"])
def test_a_time_at_any_offset_iso_allows_is_a_filter_not_a_server_error(rep_api, offset):
    # PostgreSQL refuses offsets beyond ±15:59 (found by schemathesis): taken as UTC, it works.
    response = rep_api.get("/api/v1/chats/messages/", {"start": f"2026-10-01T08:28:40{offset}"})
    assert response.status_code == 200


def test_a_time_that_leaves_the_calendar_in_utc_is_refused_naming_the_filter(rep_api):
    response = rep_api.get("/api/v1/chats/messages/", {"start": "0001-01-01T00:00:00+10:00"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["start"]


def test_the_admin_search_form_may_still_submit_its_empty_fields(db):
    # The admin's GET form sends every field, blank ones included: not strict there.
    filters = MessageFilter(QueryDict("start=&end=&type="), queryset=Message.objects.none())
    assert filters.is_valid()


@pytest.mark.parametrize("page_size", ["0", "abc", "201", "²"])
def test_a_page_size_outside_1_to_200_is_refused_not_silently_replaced(rep_api, page_size):
    response = rep_api.get(f"/api/v1/customers/?page_size={page_size}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


def test_a_page_size_within_bounds_is_the_page_size(rep_api, org):
    CustomerFactory.create_batch(3, owner=org.rep)
    response = rep_api.get("/api/v1/customers/?page_size=2")
    assert response.status_code == 200 and len(response.json()["results"]) == 2


# --- state conflicts ----------------------------------------------------------------------------


def test_approving_a_case_twice_is_a_conflict_not_an_input_error(org):
    leaver = supervised_by_lead(org, org.rep_leaving)
    case = approved_case(org, leaver)

    response = api_client(org.lead).post(f"/api/v1/offboarding/cases/{case.pk}/approve/")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict" and list(body["errors"]) == ["status"]


def test_setting_up_a_second_authenticator_is_a_conflict(org):
    enrol(org.rep)
    response = api_client(org.rep).post("/api/v1/auth/mfa/totp/")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


# --- bodies -------------------------------------------------------------------------------------


def test_a_refresh_token_that_is_not_token_shaped_is_refused_as_input(db, anon_client):
    garbage = anon_client.post("/api/v1/auth/token/refresh/", {"refresh": "  \x00 "}, format="json")
    forged = anon_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": "aaa.bbb.ccc"}, format="json"
    )
    assert garbage.status_code == 400 and list(garbage.json()["errors"]) == ["refresh"]
    assert forged.status_code == 401


def test_a_batch_item_that_is_not_an_object_is_refused_naming_it(org):
    sync = api_client(org.admin_user)
    response = sync.post("/api/v1/chats/messages/batch/", {"messages": [None]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["messages.0"]


# --- links --------------------------------------------------------------------------------------


def test_every_link_names_an_operation_and_its_parameters():
    schema = served_schema()
    operations = {
        op["operationId"]: op
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    }
    links = [
        (source, link)
        for source, op in operations.items()
        for answer in op["responses"].values()
        for link in answer.get("links", {}).values()
    ]
    assert len(links) > 20
    for source, link in links:
        target = operations[link["operationId"]]
        names = {p["name"] for p in target.get("parameters", [])}
        assert set(link["parameters"]) <= names, (source, link)
    create = operations["offboarding_cases_create"]["responses"]["201"]["links"]
    assert create["offboarding_cases_approve_create"]["parameters"] == {"id": CREATED_ID}

"""The customers API as a mobile client uses it: create, validate, page, filter, share, reveal."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from customers.models import Customer, CustomerUserObjectPermission
from scrm.audit.models import SecurityAlert
from scrm.staff.models import Staff
from tests.conftest import obtain_jwt
from tests.factories import CustomerFactory

VALID = {
    "name": "张三丰",
    "mobile": "+86 139 1234 5678",
    "id_number": "11010519491231002x",
    "email": "Zhang@Example.com",
    "wechat_id": "wxid_ab12389",
    "address": "上海市浦东新区张江路100号",
    "company": "Acme",
    "stage": "contacted",
    "source_channel": "wecom",
    "tags": ["vip", "shanghai"],
}


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- create -------------------------------------------------------------------------------


def test_create_stores_normalised_values_owned_by_the_caller(rep, api_client_for):
    response = api_client_for(rep).post("/api/v1/customers/", VALID, format="json")

    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.owner == rep
    assert (customer.name, customer.mobile, customer.id_number, customer.email) == (
        "张三丰",
        "13912345678",
        "11010519491231002X",
        "zhang@example.com",
    )
    assert (customer.wechat_id, customer.address) == ("wxid_ab12389", "上海市浦东新区张江路100号")
    assert sorted(customer.tags.values_list("name", flat=True)) == ["shanghai", "vip"]
    assert response.json()["tags"] == ["shanghai", "vip"]


def test_create_ignores_an_owner_sent_by_the_client(rep, rep_b, api_client_for):
    response = api_client_for(rep).post(
        "/api/v1/customers/", {"name": "李四", "owner": rep_b.pk}, format="json"
    )

    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).owner == rep


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mobile": "12345678901"}, "mobile"),
        ({"mobile": "1391234567"}, "mobile"),
        ({"id_number": "110105194912310021"}, "id_number"),  # checksum should be X
        ({"id_number": "11010519491231002"}, "id_number"),
        ({"email": "not-an-email"}, "email"),
        ({"nickname": "Zhang"}, "nickname"),  # unknown field
        ({"tags": "vip"}, "tags"),  # a string, not a list
        ({"tags": [{"name": "vip"}]}, "tags"),
        ({"stage": "dreaming"}, "stage"),
        ({"name": ["张三"]}, "name"),
        ({"name": ""}, "name"),
        ({"name": "张" * 101}, "name"),
        ({"wecom_external_userid": "x" * 65}, "wecom_external_userid"),
    ],
)
def test_bad_input_answers_400_per_field_and_writes_nothing(change, field, rep, api_client_for):
    before = Customer.objects.count()

    response = api_client_for(rep).post("/api/v1/customers/", {**VALID, **change}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    # An item of a list is named `field.index` (`tags.0`): errors are always field -> messages.
    assert [name.split(".")[0] for name in body["errors"]] == [field]
    assert all(body["errors"].values())
    assert Customer.objects.count() == before


def test_a_json_body_that_is_not_an_object_is_refused(rep, api_client_for):
    response = api_client_for(rep).post("/api/v1/customers/", ["张三"], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_malformed_json_is_refused_with_the_error_shape(rep, api_client_for):
    response = api_client_for(rep).post(
        "/api/v1/customers/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_oversize_payload_answers_400_and_writes_nothing(rep, api_client_for):
    before = Customer.objects.count()

    response = api_client_for(rep).post(
        "/api/v1/customers/", {**VALID, "company": "x" * 2000}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == {"non_field_errors": ["请求内容过大。"]}
    assert Customer.objects.count() == before


# --- update -------------------------------------------------------------------------------


def test_patch_sending_back_the_masked_values_keeps_the_stored_ones(rep, api_client_for):
    customer = CustomerFactory(owner=rep, mobile="13812345678", name="张三丰")
    client = api_client_for(rep)
    shown = client.get(f"/api/v1/customers/{customer.pk}/").json()

    response = client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"name": shown["name"], "mobile": shown["mobile"], "stage": "won"},
        format="json",
    )

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.mobile, customer.name, customer.stage) == ("13812345678", "张三丰", "won")


def test_a_full_put_of_what_was_shown_changes_nothing_sensitive(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    before = {f: getattr(customer, f) for f in ("name", "mobile", "id_number", "email")}
    client = api_client_for(rep)
    shown = client.get(f"/api/v1/customers/{customer.pk}/").json()
    writable = {
        k: v
        for k, v in shown.items()
        if k not in {"id", "owner", "owner_name", "created_at", "updated_at"}
    }

    response = client.put(f"/api/v1/customers/{customer.pk}/", writable, format="json")

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert {f: getattr(customer, f) for f in before} == before


def test_patch_validates_like_create(rep, api_client_for):
    customer = CustomerFactory(owner=rep, mobile="13812345678")

    response = api_client_for(rep).patch(
        f"/api/v1/customers/{customer.pk}/", {"mobile": "999"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["mobile"]
    customer.refresh_from_db()
    assert customer.mobile == "13812345678"


def test_patch_can_clear_tags_and_set_new_ones(rep, api_client_for):
    customer = CustomerFactory(owner=rep, tags=["vip"])

    response = api_client_for(rep).patch(
        f"/api/v1/customers/{customer.pk}/", {"tags": ["new"]}, format="json"
    )

    assert response.json()["tags"] == ["new"]
    assert list(customer.tags.values_list("name", flat=True)) == ["new"]


# --- lists: pagination, filters, query counts ---------------------------------------------


def test_list_is_paginated(rep, api_client_for):
    created = [CustomerFactory(owner=rep) for _ in range(3)]

    response = api_client_for(rep).get("/api/v1/customers/?page_size=2")

    body = response.json()
    assert set(body) == {
        "count",
        "count_exact",
        "next",
        "previous",
        "next_page",
        "previous_page",
        "results",
    }
    assert body["count"] == 3 and body["count_exact"] is True
    assert body["previous"] is None and body["previous_page"] is None
    assert "page=2" in body["next"] and body["next_page"] == 2
    assert ids(response) == [created[2].pk, created[1].pk]  # newest first


def test_a_page_size_over_the_maximum_is_refused_not_quietly_shrunk(rep, api_client_for):
    response = api_client_for(rep).get("/api/v1/customers/?page_size=100000")

    assert response.status_code == 400
    assert "200" in response.json()["errors"]["page_size"][0]


@pytest.fixture
def filterable(org):
    rep = org.rep
    return {
        "won_vip": CustomerFactory(owner=rep, stage="won", tags=["vip"], name="王小明"),
        "lead_vip": CustomerFactory(owner=rep, stage="lead", tags=["vip", "new"], name="李四光"),
        "lead_plain": CustomerFactory(owner=rep, stage="lead", name="王大锤"),
        "of_b": CustomerFactory(owner=org.rep_b, stage="won", tags=["vip"], name="王五"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stage=won", {"won_vip"}),
        ("stage=lead", {"lead_vip", "lead_plain"}),
        ("tag=vip", {"won_vip", "lead_vip"}),
        ("tag=new", {"lead_vip"}),
        ("q=王", {"won_vip", "lead_plain"}),
        ("q=小明", {"won_vip"}),
        ("stage=lead&tag=vip", {"lead_vip"}),
    ],
)
def test_filters_apply_inside_the_scope(query, expected, org, filterable, api_client_for):
    response = api_client_for(org.rep).get(f"/api/v1/customers/?{query}")

    assert set(ids(response)) == {filterable[name].pk for name in expected}


def test_owner_filter(org, filterable, api_client_for):
    client = api_client_for(org.lead)

    mine = client.get(f"/api/v1/customers/?owner={org.rep.pk}")
    theirs = client.get(f"/api/v1/customers/?owner={org.rep_b.pk}")

    assert set(ids(mine)) == {filterable[n].pk for n in ("won_vip", "lead_vip", "lead_plain")}
    assert ids(theirs) == [filterable["of_b"].pk]


def test_an_invalid_filter_value_answers_400(rep, api_client_for):
    response = api_client_for(rep).get("/api/v1/customers/?stage=dreaming")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def _queries_for_list(user, page_size: int) -> int:
    """Queries of one list request by `user`, loaded afresh so no per-object cache helps."""
    client = APIClient()
    client.force_authenticate(user=Staff.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/customers/?page_size={page_size}")
    assert len(response.json()["results"]) == page_size
    return len(captured)


def test_list_query_count_does_not_grow_with_the_page(org, django_assert_max_num_queries):
    for n in range(60):
        CustomerFactory(owner=org.rep if n % 2 else org.rep_b, tags=["vip", f"t{n % 3}"])
    small = _queries_for_list(org.lead, 5)

    client = APIClient()
    client.force_authenticate(user=Staff.objects.get(pk=org.lead.pk))
    with django_assert_max_num_queries(small):
        response = client.get("/api/v1/customers/?page_size=60")

    assert len(response.json()["results"]) == 60


def test_list_query_count_with_shares_is_constant(org):
    for _ in range(30):
        customer = CustomerFactory(owner=org.rep_b, tags=["vip"])
        CustomerUserObjectPermission.objects.create(
            content_object=customer,
            user=org.rep,
            permission_id=_view_permission_id(),
            granted_by=org.rep_b,
        )

    assert _queries_for_list(org.rep, 5) == _queries_for_list(org.rep, 30)


def _view_permission_id() -> int:
    from django.contrib.auth.models import Permission

    return Permission.objects.get(content_type__app_label="customers", codename="view_customer").pk


# --- sharing ------------------------------------------------------------------------------


def share(client, customer, colleague, **extra):
    return client.post(
        f"/api/v1/customers/{customer.pk}/shares/",
        {"staff_id": colleague.pk, **extra},
        format="json",
    )


def test_a_shared_customer_is_visible_until_the_share_expires(org, customers, api_client_for):
    expires = timezone.now() + timedelta(days=3)
    response = share(
        api_client_for(org.rep), customers.of_rep, org.rep_b, expires_at=expires.isoformat()
    )
    assert response.status_code == 201, response.content
    colleague = api_client_for(org.rep_b)
    detail_url = f"/api/v1/customers/{customers.of_rep.pk}/"
    assert customers.of_rep.pk in ids(colleague.get("/api/v1/customers/"))
    assert colleague.get(detail_url).status_code == 200

    CustomerUserObjectPermission.objects.filter(pk=response.json()["id"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    assert customers.of_rep.pk not in ids(colleague.get("/api/v1/customers/"))
    assert colleague.get(detail_url).status_code == 404


def test_a_share_in_the_past_is_refused(org, customers, api_client_for):
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    response = share(api_client_for(org.rep), customers.of_rep, org.rep_b, expires_at=yesterday)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["expires_at"]


def test_sharing_with_the_owner_or_a_leaver_is_refused(org, customers, api_client_for):
    client = api_client_for(org.lead)

    with_owner = share(client, customers.of_rep, org.rep)
    with_leaver = share(client, customers.of_rep, org.rep_leaving)

    assert [with_owner.status_code, with_leaver.status_code] == [400, 400]
    assert not CustomerUserObjectPermission.objects.exists()


def test_a_change_share_lets_the_colleague_edit(org, customers, api_client_for):
    share(api_client_for(org.rep), customers.of_rep, org.rep_b, level="change")

    response = api_client_for(org.rep_b).patch(
        f"/api/v1/customers/{customers.of_rep.pk}/", {"stage": "won"}, format="json"
    )

    assert response.status_code == 200


def test_revoking_a_share_hides_the_customer_again(org, customers, api_client_for):
    owner = api_client_for(org.rep)
    share_id = share(owner, customers.of_rep, org.rep_b).json()["id"]
    listing = owner.get(f"/api/v1/customers/{customers.of_rep.pk}/shares/").json()
    assert [(s["id"], s["staff"], s["level"]) for s in listing] == [
        (share_id, org.rep_b.pk, "view")
    ]

    response = owner.delete(f"/api/v1/customers/{customers.of_rep.pk}/shares/{share_id}/")

    assert response.status_code == 204
    assert customers.of_rep.pk not in ids(api_client_for(org.rep_b).get("/api/v1/customers/"))


def test_a_share_of_another_customer_cannot_be_revoked_through_this_one(
    org, customers, api_client_for
):
    other = share(api_client_for(org.rep_b), customers.of_rep_b, org.rep).json()["id"]

    response = api_client_for(org.rep).delete(
        f"/api/v1/customers/{customers.of_rep.pk}/shares/{other}/"
    )

    assert response.status_code == 404
    assert CustomerUserObjectPermission.objects.filter(pk=other).exists()


# --- reveal -------------------------------------------------------------------------------


def reveal(client, customer, field="mobile", reason="calling back"):
    return client.post(
        f"/api/v1/customers/{customer.pk}/reveal/",
        {"field": field, "reason": reason},
        format="json",
    )


def test_the_owner_can_reveal_a_contact_field(org, customers, api_client_for):
    response = reveal(api_client_for(org.rep), customers.of_rep)

    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": customers.of_rep.mobile}


def test_a_rep_cannot_reveal_an_identity_field(org, customers, api_client_for):
    response = reveal(api_client_for(org.rep), customers.of_rep, field="id_number")

    assert response.status_code == 403
    assert customers.of_rep.id_number not in response.content.decode()


def test_legal_can_reveal_an_identity_field(org, customers, api_client_for):
    response = reveal(api_client_for(org.legal), customers.of_rep, field="id_number")

    assert response.json()["value"] == customers.of_rep.id_number


def test_an_auditor_cannot_reveal(org, customers, api_client_for):
    response = reveal(api_client_for(org.auditor), customers.of_rep)

    assert response.status_code == 403


def test_staff_in_their_notice_period_cannot_reveal(org, customers, api_client_for):
    response = reveal(api_client_for(org.rep_leaving), customers.of_leaver)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"field": "mobile"}, "reason"),
        ({"field": "salary", "reason": "x"}, "field"),
        ({"field": "mobile", "reason": "   "}, "reason"),
    ],
)
def test_a_reveal_needs_a_known_field_and_a_reason(body, field, org, customers, api_client_for):
    response = api_client_for(org.rep).post(
        f"/api/v1/customers/{customers.of_rep.pk}/reveal/", body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


@override_settings(SCRM_REVEAL_LIMIT_PER_HOUR=3)
def test_reveals_over_the_hourly_limit_answer_429_and_raise_an_alert(
    org, customers, api_client_for
):
    client = api_client_for(org.rep)
    statuses = [reveal(client, customers.of_rep).status_code for _ in range(3)]

    response = reveal(client, customers.of_rep)

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.json()["code"] == "reveal_limit"
    assert "value" not in response.json()
    alert = SecurityAlert.objects.get()
    assert (alert.kind, alert.severity, alert.actor) == ("reveal_rate_limit", "high", org.rep)
    assert alert.object_id == customers.of_rep.pk


# --- authentication ---------------------------------------------------------------------------


def test_jwt_obtain_refresh_rotates_and_the_old_refresh_is_rejected(rep, anon_client):
    tokens = obtain_jwt(anon_client, rep.username)
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.get("/api/v1/me/").json()["username"] == rep.username
    anon_client.credentials()

    rotated = anon_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    replayed = anon_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert replayed.status_code == 401
    # A replayed refresh token means a copy exists: the whole sign-in ends (tests/identity).
    assert replayed.json()["code"] == "session_ended"
    newer = anon_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": rotated.json()["refresh"]}, format="json"
    )
    assert newer.status_code == 401


def test_a_wrong_password_gets_no_token(rep, anon_client):
    response = anon_client.post(
        "/api/v1/auth/token/", {"username": rep.username, "password": "nope"}, format="json"
    )

    assert response.status_code == 401
    assert set(response.json()) == {"code", "detail"}


def test_a_deactivated_account_gets_no_token_and_its_token_stops_working(rep, anon_client):
    tokens = obtain_jwt(anon_client, rep.username)
    rep.is_active = False
    rep.save()

    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    with_old_token = anon_client.get("/api/v1/customers/")
    anon_client.credentials()
    login = anon_client.post(
        "/api/v1/auth/token/", {"username": rep.username, "password": "pw-test-1234"}
    )

    assert with_old_token.status_code == 401
    assert login.status_code == 401


def test_a_garbage_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = anon_client.get("/api/v1/customers/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# --- schema and docs ----------------------------------------------------------------------


def test_the_openapi_schema_is_valid_and_lists_the_customer_paths(rep, api_client_for):
    response = api_client_for(rep).get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    for path in (
        "/api/v1/customers/",
        "/api/v1/customers/{id}/",
        "/api/v1/customers/{id}/reveal/",
        "/api/v1/customers/{id}/shares/",
        "/api/v1/customers/transfer/",
    ):
        assert path in schema["paths"]


def test_the_api_docs_page_loads(rep, api_client_for):
    # Anonymous visitors are sent to the login: tests/identity/test_api_docs.py.
    assert api_client_for(rep).get("/api/docs/").status_code == 200


# --- one error shape --------------------------------------------------------------------------


def test_errors_share_one_shape(org, customers, api_client_for, anon_client):
    not_found = api_client_for(org.rep).get(f"/api/v1/customers/{customers.of_unrelated.pk}/")
    forbidden = api_client_for(org.security).get("/api/v1/customers/")
    unauthenticated = anon_client.get("/api/v1/customers/")

    assert [(r.status_code, r.json()["code"]) for r in (not_found, forbidden, unauthenticated)] == [
        (404, "not_found"),
        (403, "permission_denied"),
        (401, "not_authenticated"),
    ]
    for response in (not_found, forbidden, unauthenticated):
        assert set(response.json()) == {"code", "detail"}
        assert response.json()["detail"]

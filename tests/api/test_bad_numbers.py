"""Numbers a client makes up never crash the API: beyond 64 bits, negative, not numbers.

The sweep walks every list endpoint the router registers (plus search and export) and sends a
huge integer to every filter its filterset declares: an integer filter answers 400 naming the
filter, any other filter 200 or 400, never 500."""

from types import SimpleNamespace

import pytest
from django.test import Client

from chats.filters import MessageFilter
from scrm.api.ids import FilterBackend
from scrm.urls import router
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
INTEGER_FILTERS = (
    "NumberFilter",
    "ModelChoiceFilter",
    "ModelMultipleChoiceFilter",
)


def _list_endpoints():
    for prefix, viewset, _basename in router.registry:
        if not hasattr(viewset, "list"):
            continue
        view = SimpleNamespace(
            filterset_class=getattr(viewset, "filterset_class", None),
            filterset_fields=getattr(viewset, "filterset_fields", None),
        )
        filterset = FilterBackend().get_filterset_class(view, viewset.queryset)
        if filterset is not None:
            yield f"/api/v1/{prefix}/", {}, filterset
    yield "/api/v1/chats/search/", {"q": "你好"}, MessageFilter
    yield "/api/v1/chats/export/", {}, MessageFilter


SWEEP = [
    pytest.param(url, extra, name, type(filter_).__name__, id=f"{url}?{name}")
    for url, extra, filterset in _list_endpoints()
    for name, filter_ in filterset.base_filters.items()
]


def test_the_sweep_covers_the_integer_filters():
    integer = {
        (url, name) for url, _e, name, kind in (p.values for p in SWEEP) if kind in INTEGER_FILTERS
    }
    assert ("/api/v1/customers/", "owner") in integer
    assert ("/api/v1/customers/", "team") in integer
    assert ("/api/v1/offboarding/transfers/", "case") in integer
    assert ("/api/v1/audit/changes/", "staff") in integer
    assert ("/api/v1/chats/search/", "customer") in integer
    assert len(integer) >= 15


@pytest.mark.parametrize(("url", "extra", "name", "kind"), SWEEP)
@pytest.mark.parametrize("value", [HUGE, f"-{HUGE}", "1e400"])
def test_a_huge_number_in_any_filter_never_crashes(
    url, extra, name, kind, value, admin_user, api_client_for
):
    response = api_client_for(admin_user).get(url, {**extra, name: value})

    # 403: a filter the role may not use at all (name search, lookups): refused before it runs
    assert response.status_code in (200, 400, 403), (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    if kind in INTEGER_FILTERS:
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert name in body["errors"]
        if kind != "NumberFilter" and value == HUGE:  # model choices name the range
            assert str(2**63 - 1) in body["errors"][name][0]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/customers/{HUGE}/",
        "/api/v1/customers/abc/",
        f"/api/v1/customers/{HUGE}/shares/",
        "/api/v1/customers/1/shares/abc/",
        f"/api/v1/customers/1/shares/{HUGE}/",
        f"/api/v1/customers/{HUGE}/timeline/",
        "/api/v1/offboarding/transfers/abc/refuse/",
        f"/api/v1/offboarding/transfers/{HUGE}/refuse/",
        f"/api/v1/offboarding/cases/{HUGE}/",
        f"/api/v1/offboarding/revoked-shares/{HUGE}/reconfirm/",
        f"/api/v1/chats/conversations/{HUGE}/",
        f"/api/v1/audit/events/{HUGE}/",
        f"/api/v1/staff/{HUGE}/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_path_id_that_is_no_id_answers_json_404(url, method, admin_user, api_client_for):
    response = getattr(api_client_for(admin_user), method)(url, {}, format="json")

    assert response.status_code in (404, 405), (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    if response.status_code == 404:
        assert response.json()["code"] == "not_found"


def test_a_path_id_that_is_no_id_answers_404_without_authentication_too():
    response = Client().get("/api/v1/offboarding/transfers/abc/refuse/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/customers/transfer/",
            {"customers": [int(HUGE)], "to_staff": 1, "reason": "r"},
            "customers",
        ),
        (
            "/api/v1/customers/transfer/",
            {"customers": [1], "to_staff": int(HUGE), "reason": "r"},
            "to_staff",
        ),
        (
            "/api/v1/customers/transfer/",
            {"customers": [-1], "to_staff": 1, "reason": "r"},
            "customers",
        ),
        (
            "/api/v1/offboarding/cases/",
            {
                "leaver": int(HUGE),
                "successor": 1,
                "reason": "r",
                "effective_at": "2030-01-01T00:00:00Z",
            },
            "leaver",
        ),
        (
            "/api/v1/offboarding/cases/",
            {
                "leaver": 1,
                "plan": {"kind": "single", "successors": [int(HUGE)]},
                "reason": "r",
                "effective_at": "2030-01-01T00:00:00Z",
            },
            "plan",
        ),
        (
            "/api/v1/offboarding/cases/",
            {
                "leaver": 1,
                "plan": {"kind": "single", "successors": [1], "overrides": {HUGE: 1}},
                "reason": "r",
                "effective_at": "2030-01-01T00:00:00Z",
            },
            "plan",
        ),
    ],
)
def test_a_huge_id_in_a_body_answers_400_naming_the_field(
    url, body, field, admin_user, api_client_for
):
    response = api_client_for(admin_user).post(url, body, format="json")

    assert response.status_code == 400, response.content[:300]
    # Field errors are flat: "customers.0", "plan.successors.0" name the place in the body.
    errors = response.json()["errors"]
    assert any(key == field or key.startswith(f"{field}.") for key in errors), errors


def test_a_huge_share_colleague_answers_400(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    response = api_client_for(rep).post(
        f"/api/v1/customers/{customer.pk}/shares/", {"staff_id": int(HUGE)}, format="json"
    )
    assert response.status_code == 400
    assert "staff_id" in response.json()["errors"]


@pytest.mark.parametrize("page", [HUGE, "999999", "3"])
@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/staff/", "/api/v1/audit/events/"])
def test_a_page_beyond_the_end_answers_json_404(url, page, admin_user, api_client_for):
    CustomerFactory(owner=admin_user)
    response = api_client_for(admin_user).get(url, {"page": page, "page_size": 200})

    assert response.status_code == 404, response.content[:300]
    assert response.json()["code"] == "not_found"


def test_a_huge_page_size_is_refused_naming_it_not_a_crash(admin_user, api_client_for):
    response = api_client_for(admin_user).get("/api/v1/customers/", {"page_size": HUGE})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]

"""Lists that can be huge count with a bound (scrm.api.pagination.CappedCountPagination):
within the bound they answer exactly what they answered before, past it they say so."""

from unittest import mock

import pytest

from customers.api import CustomerViewSet
from scrm.api.pagination import CappedCountPaginator
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _customers_page(client, page: int = 1) -> dict:
    response = client.get("/api/v1/customers/", {"page": page, "page_size": 2})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_list_within_the_cap_answers_exactly_as_before(org, api_client_for):
    for _ in range(3):
        CustomerFactory(owner=org.rep)

    body = _customers_page(api_client_for(org.rep))

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


def test_a_list_past_the_cap_says_its_count_is_a_lower_bound(org, api_client_for):
    # given: five customers, a cap of three
    for _ in range(5):
        CustomerFactory(owner=org.rep)
    client = api_client_for(org.rep)

    # when
    with mock.patch.object(CustomerViewSet.pagination_class, "count_cap", 3):
        first = _customers_page(client)
        last = _customers_page(client, page=3)

    # then: page 1 says "at least 3"; page 3 counted that far, and a short page is exact
    assert first["count"] == 3 and first["count_exact"] is False
    assert "page=2" in first["next"]
    assert last["count"] == 5 and last["count_exact"] is True and last["next"] is None


def test_a_count_out_of_time_falls_back_to_what_the_page_saw(org, api_client_for):
    for _ in range(5):
        CustomerFactory(owner=org.rep)
    client = api_client_for(org.rep)

    with mock.patch.object(CappedCountPaginator, "_count_within_budget", return_value=None):
        first = _customers_page(client)
        last = _customers_page(client, page=3)

    assert first["count"] == 3 and first["count_exact"] is False  # 2 shown + 1 more seen
    assert len(first["results"]) == 2 and "page=2" in first["next"]
    assert last["count"] == 5 and last["count_exact"] is True and last["next"] is None


def _ids(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_page_last_is_the_real_last_page_past_the_cap(org, api_client_for):
    # given: eleven customers, a cap of three, pages of five. Before, "last" was the last page
    # of the rows counted: page 2 with one row (the 6th), no next, though 11 exist.
    created = [CustomerFactory(owner=org.rep) for _ in range(11)]
    client = api_client_for(org.rep)

    with mock.patch.object(CustomerViewSet.pagination_class, "count_cap", 3):
        response = client.get("/api/v1/customers/", {"page": "last", "page_size": 5})

    assert response.status_code == 200, response.content
    body = response.json()
    assert _ids(body) == [created[0].pk]  # newest first: the oldest is alone on page 3
    assert body["count"] == 11 and body["count_exact"] is True
    assert body["next"] is None and body["next_page"] is None
    assert body["previous_page"] == 2 and "page=2" in body["previous"]


def test_page_last_when_the_count_runs_out_of_time_says_so(org, api_client_for):
    CustomerFactory(owner=org.rep)
    with mock.patch.object(CappedCountPaginator, "_count_within_budget", return_value=None):
        response = api_client_for(org.rep).get("/api/v1/customers/", {"page": "last"})

    assert response.status_code == 400
    assert response.json()["code"] == "last_page_unknown"


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/staff/"])
def test_every_page_shape_gives_page_numbers_and_count_exact(url, org, api_client_for):
    for _ in range(5):
        CustomerFactory(owner=org.admin_user)
    client = api_client_for(org.admin_user)

    middle = client.get(url, {"page": 2, "page_size": 2}).json()

    assert middle["count_exact"] is True
    assert (middle["previous_page"], middle["next_page"]) == (1, 3)
    assert "page=3" in middle["next"]


def test_a_capped_page_gives_page_numbers_too(org, api_client_for):
    for _ in range(5):
        CustomerFactory(owner=org.rep)
    with mock.patch.object(CustomerViewSet.pagination_class, "count_cap", 3):
        first = _customers_page(api_client_for(org.rep))

    assert first["count_exact"] is False
    assert (first["previous_page"], first["next_page"]) == (None, 2)

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

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3


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
    assert last["count"] == 5 and "count_exact" not in last and last["next"] is None


def test_a_count_out_of_time_falls_back_to_what_the_page_saw(org, api_client_for):
    for _ in range(5):
        CustomerFactory(owner=org.rep)
    client = api_client_for(org.rep)

    with mock.patch.object(CappedCountPaginator, "_count_within_budget", return_value=None):
        first = _customers_page(client)
        last = _customers_page(client, page=3)

    assert first["count"] == 3 and first["count_exact"] is False  # 2 shown + 1 more seen
    assert len(first["results"]) == 2 and "page=2" in first["next"]
    assert last["count"] == 5 and "count_exact" not in last and last["next"] is None

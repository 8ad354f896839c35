"""Request bodies are taken as the schema declares them (scrm.api.strict): unknown fields and
numbers given for text are refused with 400 naming the field, and the schema says so."""

import pytest

from tests.api.test_schemathesis import served_schema
from tests.signin import api_client


@pytest.fixture
def rep_api(org):
    return api_client(org.rep)


def test_a_number_for_a_text_field_is_refused_not_turned_into_text(rep_api, customers):
    customer = customers.of_rep
    response = rep_api.post(
        f"/api/v1/customers/{customer.pk}/follow-ups/", {"note": 12345}, format="json"
    )
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    assert not customer.follow_ups.exists()


def test_a_number_in_a_list_of_names_is_refused_naming_the_item(rep_api):
    response = rep_api.post(
        "/api/v1/customers/", {"name": "张三", "tags": ["vip", 7]}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tags.1"]


def test_an_unknown_field_is_refused_and_the_schema_says_none_are_allowed(rep_api, customers):
    response = rep_api.post(
        f"/api/v1/customers/{customers.of_rep.pk}/follow-ups/",
        {"note": "回访", "mood": "good"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["mood"]
    components = served_schema()["components"]["schemas"]
    requests = {name: c for name, c in components.items() if name.endswith("Request")}
    assert requests, "no request components"
    open_ended = {n for n, c in requests.items() if c.get("additionalProperties") is not False}
    assert open_ended == set()

"""List filters narrow lists; on a detail route they are ignored (the record is answered)."""

import pytest

from scrm.audit.models import AccessAction, AccessEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_list_filter_on_a_customer_detail_is_ignored(rep, api_client_for):
    customer = CustomerFactory(owner=rep, stage="contacted")
    client = api_client_for(rep)

    response = client.get(f"/api/v1/customers/{customer.pk}/", {"stage": "won"})

    assert response.status_code == 200, response.content
    assert response.json()["id"] == customer.pk
    events = AccessEvent.objects.filter(actor=rep)
    assert not events.filter(action=AccessAction.DENIED).exists()
    views = [e.object_ids for e in events.filter(action=AccessAction.VIEW)]
    assert views == [[customer.pk]]


def test_a_list_filter_on_a_patch_is_ignored(rep, api_client_for):
    customer = CustomerFactory(owner=rep, stage="contacted")

    response = api_client_for(rep).patch(
        f"/api/v1/customers/{customer.pk}/?stage=won&owner=999", {"company": "Acme"}, format="json"
    )

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.company == "Acme"


def test_the_list_still_filters(rep, api_client_for):
    won = CustomerFactory(owner=rep, stage="won")
    CustomerFactory(owner=rep, stage="contacted")

    body = api_client_for(rep).get("/api/v1/customers/", {"stage": "won"}).json()

    assert [row["id"] for row in body["results"]] == [won.pk]


def test_a_customer_outside_the_scope_is_still_404_with_or_without_filters(
    rep, rep_other_team, api_client_for
):
    other = CustomerFactory(owner=rep_other_team, stage="won")

    response = api_client_for(rep).get(f"/api/v1/customers/{other.pk}/", {"stage": "won"})

    assert response.status_code == 404

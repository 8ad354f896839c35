"""Optimistic concurrency on customers: ETag on reads and writes, If-Match on writes."""

import pytest

from customers.services import add_follow_up, transfer_customers
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/"


def test_the_detail_and_the_write_answer_the_same_etag_a_read_would(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)

    first = client.get(url(customer))
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert client.get(url(customer))["ETag"] == first["ETag"]  # stable while nothing changes

    written = client.patch(url(customer), {"stage": "won"}, format="json")
    assert written.status_code == 200
    assert written["ETag"] != first["ETag"]
    assert client.get(url(customer))["ETag"] == written["ETag"]


def test_two_clients_read_both_write_with_if_match_the_second_gets_412(rep, lead, api_client_for):
    customer = CustomerFactory(owner=rep, company="Before")
    alice, bob = api_client_for(rep), api_client_for(lead)
    tag_a = alice.get(url(customer))["ETag"]
    tag_b = bob.get(url(customer))["ETag"]

    first = alice.patch(url(customer), {"company": "Alice"}, format="json", HTTP_IF_MATCH=tag_a)
    second = bob.patch(url(customer), {"company": "Bob"}, format="json", HTTP_IF_MATCH=tag_b)

    assert first.status_code == 200
    assert second.status_code == 412
    assert second["Content-Type"].startswith("application/json")
    assert second.json()["code"] == "precondition_failed"
    customer.refresh_from_db()
    assert customer.company == "Alice"


def test_put_honours_if_match_too(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)
    body = {"name": "王五", "stage": "won"}

    stale = client.put(url(customer), body, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    fresh = client.get(url(customer))["ETag"]
    assert client.put(url(customer), body, format="json", HTTP_IF_MATCH=fresh).status_code == 200


def test_without_if_match_the_write_proceeds(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)
    client.get(url(customer))
    client.patch(url(customer), {"company": "One"}, format="json")

    response = client.patch(url(customer), {"company": "Two"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.company == "Two"


def test_if_match_star_and_lists(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)
    tag = client.get(url(customer))["ETag"]

    assert (
        client.patch(url(customer), {"company": "A"}, format="json", HTTP_IF_MATCH="*").status_code
        == 200
    )
    tag = client.get(url(customer))["ETag"]
    listed = f'"other", {tag}'
    assert (
        client.patch(
            url(customer), {"company": "B"}, format="json", HTTP_IF_MATCH=listed
        ).status_code
        == 200
    )


@pytest.mark.parametrize("change", ["transfer", "tags", "follow_up_does_not_count"])
def test_the_etag_follows_changes_made_elsewhere(change, org, api_client_for):
    customer = CustomerFactory(owner=org.rep)
    client = api_client_for(org.lead)
    before = client.get(url(customer))["ETag"]

    if change == "transfer":
        transfer_customers(
            customers=type(customer).objects.filter(pk=customer.pk),
            to_staff=org.rep_b,
            actor=org.lead,
            reason="rebalance",
        )
    elif change == "tags":
        api_client_for(org.rep).patch(url(customer), {"tags": ["vip"]}, format="json")
    else:
        # not part of the customer's record: its follow-ups have their own endpoint
        add_follow_up(actor=org.rep, customer=customer, note="called")

    after = client.get(url(customer))["ETag"]
    assert (after != before) is (change != "follow_up_does_not_count")


def test_a_stale_if_match_outside_the_scope_is_still_404(rep, rep_other_team, api_client_for):
    other = CustomerFactory(owner=rep_other_team)
    response = api_client_for(rep).patch(
        url(other), {"company": "x"}, format="json", HTTP_IF_MATCH='"x"'
    )
    assert response.status_code == 404


def test_a_denied_write_with_if_match_is_still_recorded(rep, rep_other_team, api_client_for):
    from scrm.audit.models import AccessAction, AccessEvent

    other = CustomerFactory(owner=rep_other_team)
    api_client_for(rep).patch(url(other), {"company": "x"}, format="json", HTTP_IF_MATCH='"x"')

    denied = AccessEvent.objects.filter(actor=rep, action=AccessAction.DENIED)
    assert [e.object_ids for e in denied] == [[other.pk]]

"""In-service transfer (a territory change between two active colleagues) through
POST /api/v1/customers/transfer/, with the ownership history on the customer detail."""

import pytest

from customers.models import Customer, OwnershipTransfer
from scrm.staff import roles
from tests.factories import CustomerFactory, StaffFactory

TRANSFER_URL = "/api/v1/customers/transfer/"


def transfer(client, customers, to_staff, reason="Territory change: Pudong to Minhang"):
    return client.post(
        TRANSFER_URL,
        {"customers": [c.pk for c in customers], "to_staff": to_staff.pk, "reason": reason},
        format="json",
    )


def test_a_lead_moves_customers_within_the_team_with_ownership_history(
    org, customers, api_client_for
):
    # given
    second = CustomerFactory(owner=org.rep)
    lead = api_client_for(org.lead)

    # when
    response = transfer(lead, [customers.of_rep, second], org.rep_b)

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"transferred": 2, "unchanged": 0, "to_staff": org.rep_b.pk}
    assert set(Customer.objects.filter(owner=org.rep_b).values_list("pk", flat=True)) == {
        customers.of_rep_b.pk,
        customers.of_rep.pk,
        second.pk,
    }
    history = OwnershipTransfer.objects.filter(customer__in=[customers.of_rep, second])
    assert {(h.from_owner, h.to_owner, h.actor, h.case, h.reason) for h in history} == {
        (org.rep, org.rep_b, org.lead, None, "Territory change: Pudong to Minhang")
    }


def test_the_customer_detail_shows_owner_from_to_and_actor(org, customers, api_client_for):
    # given
    lead = api_client_for(org.lead)
    transfer(lead, [customers.of_rep], org.rep_b)
    transfer(lead, [customers.of_rep], org.rep)

    # when
    response = lead.get(f"/api/v1/customers/{customers.of_rep.pk}/")

    # then
    assert response.status_code == 200
    history = response.json()["ownership_history"]
    assert [(p["owner"], p["case"], p["actor"]) for p in history] == [
        (org.rep.pk, None, None),
        (org.rep_b.pk, None, org.lead.pk),
        (org.rep.pk, None, org.lead.pk),
    ]
    assert history[0]["to"] == history[1]["from"]
    assert history[1]["to"] == history[2]["from"]
    assert history[2]["to"] is None
    assert history[1]["reason"] == "Territory change: Pudong to Minhang"


def test_a_customer_never_transferred_has_one_period(org, customers, api_client_for):
    # when
    history = api_client_for(org.rep).get(f"/api/v1/customers/{customers.of_rep.pk}/").json()

    # then
    assert [(p["owner"], p["to"], p["case"], p["actor"]) for p in history["ownership_history"]] == [
        (org.rep.pk, None, None, None)
    ]


def test_a_transfer_to_the_current_owner_changes_nothing(org, customers, api_client_for):
    # when
    response = transfer(api_client_for(org.lead), [customers.of_rep], org.rep)

    # then
    assert response.json() == {"transferred": 0, "unchanged": 1, "to_staff": org.rep.pk}
    assert not OwnershipTransfer.objects.exists()


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("rep", "rep_b", 403),  # reps may not transfer
        ("lead", "rep_other_team", 400),  # outside the lead's team
        ("lead", "rep_leaving", 400),  # not active (notice period)
        ("lead", "hr", 400),  # not a sales colleague
    ],
)
def test_transfers_outside_the_rules_move_nothing(
    who, target, status, org, customers, api_client_for
):
    # when
    response = transfer(api_client_for(getattr(org, who)), [customers.of_rep], getattr(org, target))

    # then
    assert response.status_code == status, response.content
    customers.of_rep.refresh_from_db()
    assert customers.of_rep.owner == org.rep
    assert not OwnershipTransfer.objects.exists()


def test_one_customer_outside_the_scope_stops_the_whole_transfer(org, customers, api_client_for):
    # when: of_other_team belongs to another team
    response = transfer(
        api_client_for(org.lead), [customers.of_rep, customers.of_other_team], org.rep_b
    )

    # then
    assert response.status_code == 403
    assert Customer.objects.get(pk=customers.of_rep.pk).owner == org.rep
    assert not OwnershipTransfer.objects.exists()


def test_an_inactive_successor_is_refused(org, customers, api_client_for):
    # given
    gone = StaffFactory(roles=[roles.SALES_REP], team=org.team1, is_active=False)

    # when
    response = transfer(api_client_for(org.lead), [customers.of_rep], gone)

    # then
    assert response.status_code == 400
    assert "to_staff" in response.json()["errors"]
    assert not OwnershipTransfer.objects.exists()


def test_a_transfer_needs_a_reason(org, customers, api_client_for):
    # when
    response = transfer(api_client_for(org.lead), [customers.of_rep], org.rep_b, reason="")

    # then
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


# --- the transfer limit (the one rule offboarding applies too) -------------------------------


def test_a_third_move_within_the_window_is_refused_naming_the_customer(
    org, customers, api_client_for
):
    # given: the customer moved twice (the limit) in a few seconds
    lead = api_client_for(org.lead)
    assert transfer(lead, [customers.of_rep], org.rep_b).status_code == 200
    assert transfer(lead, [customers.of_rep], org.rep).status_code == 200

    # when: the attacker moves it a third time
    response = transfer(lead, [customers.of_rep], org.rep_b)

    # then
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "conflict"
    [message] = body["errors"]["customers"]
    assert str(customers.of_rep.pk) in message
    customers.of_rep.refresh_from_db()
    assert customers.of_rep.owner == org.rep
    assert OwnershipTransfer.objects.filter(customer=customers.of_rep).count() == 2


def test_one_customer_over_the_limit_stops_the_whole_batch(org, customers, api_client_for):
    lead = api_client_for(org.lead)
    fresh = CustomerFactory(owner=org.rep)
    transfer(lead, [customers.of_rep], org.rep_b)
    transfer(lead, [customers.of_rep], org.rep)

    response = transfer(lead, [fresh, customers.of_rep], org.rep_b)

    assert response.status_code == 409
    errors = response.json()["errors"]["customers"]
    assert len(errors) == 1 and str(customers.of_rep.pk) in errors[0]
    assert str(fresh.pk) not in errors[0].split("changed")[0].replace(str(customers.of_rep.pk), "")
    fresh.refresh_from_db()
    assert fresh.owner == org.rep  # nothing half-written
    assert not OwnershipTransfer.objects.filter(customer=fresh).exists()


def test_the_limit_follows_the_settings_and_skips_customers_that_stay(
    org, customers, api_client_for, settings
):
    settings.SCRM_TRANSFER_LIMIT = 1
    lead = api_client_for(org.lead)
    assert transfer(lead, [customers.of_rep], org.rep_b).status_code == 200

    # Already rep_b's: it does not move, so the limit does not apply to it.
    again = transfer(lead, [customers.of_rep], org.rep_b)
    assert again.status_code == 200 and again.json()["unchanged"] == 1
    assert transfer(lead, [customers.of_rep], org.rep).status_code == 409


def test_moves_older_than_the_window_do_not_count(org, customers, api_client_for, settings):
    from datetime import timedelta

    from django.utils import timezone

    lead = api_client_for(org.lead)
    transfer(lead, [customers.of_rep], org.rep_b)
    transfer(lead, [customers.of_rep], org.rep)
    OwnershipTransfer.objects.filter(customer=customers.of_rep).update(
        at=timezone.now() - timedelta(days=settings.SCRM_TRANSFER_LIMIT_DAYS + 1)
    )

    assert transfer(lead, [customers.of_rep], org.rep_b).status_code == 200

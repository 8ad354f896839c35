"""Follow-ups and deals of a customer through the API: list, log, correct one's own.

Scoped by the customer's visibility (404 outside it, recorded as denied), reads recorded as a
view of the customer, free text masked as on the timeline, writes through the services (change
log, author check)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from customers.models import FollowUp, Transaction
from customers.services import add_follow_up, add_transaction
from scrm.audit.models import AccessAction, AccessEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SECRET_MOBILE = "13912345678"


def follow_ups_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/follow-ups/"


def transactions_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/transactions/"


def test_a_rep_logs_lists_and_corrects_a_follow_up(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)

    created = client.post(
        follow_ups_url(customer),
        {"note": "Called, sending the quote", "due_at": "2030-01-02T03:00:00Z"},
        format="json",
    )
    assert created.status_code == 201, created.content
    row = created.json()
    assert row["staff"] == rep.pk and row["customer"] == customer.pk
    assert row["note"] == "Called, sending the quote" and row["done"] is False

    patched = client.patch(f"{follow_ups_url(customer)}{row['id']}/", {"done": True}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["done"] is True
    assert FollowUp.objects.get(pk=row["id"]).done is True

    listed = client.get(follow_ups_url(customer))
    assert listed.status_code == 200
    body = listed.json()
    assert [r["id"] for r in body["results"]] == [row["id"]]
    assert body["count"] == 1 and body["next_page"] is None


def test_the_follow_up_list_records_a_view_of_the_customer(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    add_follow_up(actor=rep, customer=customer, note="first")
    add_follow_up(actor=rep, customer=customer, note="second")
    before = AccessEvent.objects.count()

    api_client_for(rep).get(follow_ups_url(customer))

    [event] = AccessEvent.objects.order_by("-id")[: AccessEvent.objects.count() - before]
    assert event.action == AccessAction.VIEW
    assert event.object_ids == [customer.pk]
    assert event.query.get("view") == "follow_ups"
    assert event.row_count == 2


def test_notes_and_products_are_masked_for_viewers_without_the_raw_right(rep, lead, api_client_for):
    customer = CustomerFactory(owner=rep)
    add_follow_up(actor=rep, customer=customer, note=f"call him on {SECRET_MOBILE}")
    add_transaction(
        actor=rep,
        customer=customer,
        date=timezone.localdate(),
        product=f"plan for {SECRET_MOBILE}",
        amount=Decimal("10"),
    )

    for user in (rep, lead):
        client = api_client_for(user)
        for url in (follow_ups_url(customer), transactions_url(customer)):
            response = client.get(url)
            assert response.status_code == 200
            assert SECRET_MOBILE not in response.content.decode(), (user, url)


def test_someone_elses_follow_up_may_not_be_changed(rep, rep_b, lead, api_client_for):
    customer = CustomerFactory(owner=rep)
    follow_up = add_follow_up(actor=rep, customer=customer, note="mine")
    url = f"{follow_ups_url(customer)}{follow_up.pk}/"

    # the lead may change the customer, but the note is rep's
    assert api_client_for(lead).patch(url, {"note": "edited"}, format="json").status_code == 403
    # rep_b does not see the customer at all
    assert api_client_for(rep_b).patch(url, {"note": "edited"}, format="json").status_code == 404
    follow_up.refresh_from_db()
    assert follow_up.note == "mine"


def test_a_follow_up_of_another_customer_is_not_found_through_this_one(rep, api_client_for):
    mine, other = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    follow_up = add_follow_up(actor=rep, customer=other, note="elsewhere")

    response = api_client_for(rep).patch(
        f"{follow_ups_url(mine)}{follow_up.pk}/", {"note": "x"}, format="json"
    )

    assert response.status_code == 404


def test_outside_the_scope_the_lists_are_404_and_recorded_as_denied(
    rep, rep_other_team, api_client_for
):
    other = CustomerFactory(owner=rep_other_team)
    add_follow_up(actor=rep_other_team, customer=other, note="theirs")
    client = api_client_for(rep)

    for url in (follow_ups_url(other), transactions_url(other)):
        assert client.get(url).status_code == 404
        assert client.post(url, {"note": "x"}, format="json").status_code == 404
    denied = AccessEvent.objects.filter(actor=rep, action=AccessAction.DENIED)
    assert denied.count() == 4


def test_viewers_who_may_not_change_the_customer_may_not_log(legal, rep, api_client_for):
    customer = CustomerFactory(owner=rep)

    response = api_client_for(legal).post(follow_ups_url(customer), {"note": "x"}, format="json")

    assert response.status_code == 403
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": ""}, "note"),
        ({"note": "   "}, "note"),
        ({}, "note"),
        ({"note": "ok", "staff": 1}, "staff"),
        ({"note": "ok", "due_at": "tomorrow"}, "due_at"),
        ({"note": "x" * 5001}, "note"),
    ],
)
def test_bad_follow_ups_answer_400_per_field(body, field, rep, api_client_for):
    customer = CustomerFactory(owner=rep)

    response = api_client_for(rep).post(follow_ups_url(customer), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not FollowUp.objects.exists()


def test_a_rep_logs_and_corrects_a_deal(rep, api_client_for):
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)

    created = client.post(
        transactions_url(customer),
        {"date": "2026-11-30", "product": "Annual plan", "amount": "1200.50"},
        format="json",
    )
    assert created.status_code == 201, created.content
    row = created.json()
    assert row["recorded_by"] == rep.pk and row["amount"] == "1200.50"

    patched = client.patch(
        f"{transactions_url(customer)}{row['id']}/", {"amount": "1300.00"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert Transaction.objects.get(pk=row["id"]).amount == Decimal("1300.00")
    assert [r["id"] for r in client.get(transactions_url(customer)).json()["results"]] == [
        row["id"]
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2026-11-30", "product": "x", "amount": "0"}, "amount"),
        ({"date": "2026-11-30", "product": "x", "amount": "-5"}, "amount"),
        ({"date": "2026-11-30", "product": "x", "amount": "99999999999999999999"}, "amount"),
        ({"date": "2026-11-30", "product": "x", "amount": "abc"}, "amount"),
        ({"date": "2026-11-30", "product": "x", "amount": "1e3"}, "amount"),  # not a decimal
        ({"date": "2026-11-30", "product": "x", "amount": 12.5}, "amount"),  # a string, please
        ({"date": "2026-11-30", "product": "x", "amount": "0.001"}, "amount"),
        ({"date": "2026-11-30", "product": "", "amount": "5"}, "product"),
        ({"date": "soon", "product": "x", "amount": "5"}, "date"),
    ],
)
def test_bad_deals_answer_400_per_field(body, field, rep, api_client_for):
    customer = CustomerFactory(owner=rep)

    response = api_client_for(rep).post(transactions_url(customer), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Transaction.objects.exists()


def test_someone_elses_deal_may_not_be_changed(rep, lead, api_client_for):
    customer = CustomerFactory(owner=rep)
    deal = add_transaction(
        actor=rep, customer=customer, date=timezone.localdate(), product="p", amount=Decimal("5")
    )
    legacy = Transaction.objects.create(
        customer=customer, date=timezone.localdate(), product="old", amount=Decimal("1")
    )

    for row in (deal, legacy):
        response = api_client_for(lead).patch(
            f"{transactions_url(customer)}{row.pk}/", {"amount": "1.00"}, format="json"
        )
        assert response.status_code == 403
    # a deal logged before recorders were kept belongs to nobody: not even the owner edits it
    response = api_client_for(rep).patch(
        f"{transactions_url(customer)}{legacy.pk}/", {"amount": "2.00"}, format="json"
    )
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.amount == Decimal("5")


def test_corrections_are_in_the_change_log_with_their_actor(rep, jwt_client_for):
    customer = CustomerFactory(owner=rep)
    follow_up = add_follow_up(actor=rep, customer=customer, note="first")

    jwt_client_for(rep).patch(
        f"{follow_ups_url(customer)}{follow_up.pk}/",
        {"due_at": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )

    entry = LogEntry.objects.get_for_object(follow_up).order_by("-timestamp").first()
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == rep
    assert "due_at" in entry.changes_dict

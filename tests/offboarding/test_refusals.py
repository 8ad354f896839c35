"""Customers who cannot or will not go to the planned successor end up with the team lead:
the transfer limit (at most twice in 90 days, as WeCom does) and refusals recorded later."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import FollowUp, OwnershipTransfer
from offboarding.models import CustomerTransfer
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.offboarding.cases import CASES_URL, TRANSFERS_URL, run_to_completion


def moved(customer, *, days_ago: int, by) -> None:
    """A past change of owner of `customer` (history only)."""
    OwnershipTransfer.objects.create(
        customer=customer,
        from_owner=by,
        to_owner=customer.owner,
        at=timezone.now() - timedelta(days=days_ago),
        reason="Territory change",
    )


# --- the transfer limit -------------------------------------------------------------------------


def test_a_customer_transferred_twice_in_90_days_is_refused_and_goes_to_the_team_lead(
    org, leaver, book, api_client_for
):
    # given: customers[0] changed hands twice in the last 90 days, customers[1] once in them
    # (the other change is older), customers[2] once
    limited, older, once = book.customers[:3]
    moved(limited, days_ago=80, by=org.rep)
    moved(limited, days_ago=5, by=org.rep_b)
    moved(older, days_ago=120, by=org.rep)
    moved(older, days_ago=30, by=org.rep)
    moved(once, days_ago=1, by=org.rep)

    # when
    case = run_to_completion(org, leaver, successors=[org.rep_b])

    # then
    limited.refresh_from_db()
    assert limited.owner == org.lead
    refused = CustomerTransfer.objects.get(case=case, customer=limited)
    assert (refused.status, refused.to_owner) == ("refused", org.lead)
    assert refused.reason == "Transferred 2 times in 90 days (limit 2); routed to team lead"
    history = OwnershipTransfer.objects.get(case=case, customer=limited)
    assert history.to_owner == org.lead and "limit 2" in history.reason
    others = CustomerTransfer.objects.filter(case=case).exclude(customer=limited)
    assert {(t.status, t.to_owner_id) for t in others} == {("completed", org.rep_b.pk)}
    # Its conversation follows it to the lead.
    book.conversations[0].refresh_from_db()
    assert book.conversations[0].owner == org.lead
    report = api_client_for(org.hr).get(f"{CASES_URL}{case.pk}/report/").json()
    assert (report["completed"], report["refused"]) == (5, 1)
    assert report["by_successor"] == {"lead": 1, "rep_b": 5}
    [shown] = [t for t in report["transfers"] if t["status"] == "refused"]
    assert shown["customer"] == limited.pk and "limit 2" in shown["reason"]


def test_the_limit_is_a_setting(org, leaver, book, settings):
    # given
    settings.SCRM_TRANSFER_LIMIT = 3
    limited = book.customers[0]
    moved(limited, days_ago=80, by=org.rep)
    moved(limited, days_ago=5, by=org.rep_b)

    # when
    case = run_to_completion(org, leaver)

    # then
    assert CustomerTransfer.objects.get(case=case, customer=limited).status == "completed"
    limited.refresh_from_db()
    assert limited.owner == org.rep


def test_the_window_is_a_setting(org, leaver, book, settings):
    # given
    settings.SCRM_TRANSFER_LIMIT_DAYS = 30
    customer = book.customers[0]
    moved(customer, days_ago=80, by=org.rep)
    moved(customer, days_ago=5, by=org.rep_b)

    # when
    case = run_to_completion(org, leaver)

    # then
    assert CustomerTransfer.objects.get(case=case, customer=customer).status == "completed"


# --- refusals recorded later ----------------------------------------------------------------


@pytest.fixture
def handed_over(org, leaver, book):
    """A completed case to rep_b; customers[3] also chats with a colleague of another team."""
    customer = book.customers[3]
    side_chat = ConversationFactory(customer=customer, owner=org.rep_other_team)
    MessageFactory(conversation=side_chat, staff=org.rep_other_team)
    case = run_to_completion(org, leaver, successors=[org.rep_b])
    follow_up = FollowUp.objects.create(customer=customer, staff=org.rep_b, note="Intro call")
    return case, customer, side_chat, follow_up


def refuse(client, transfer, reason="Customer declined the new contact in WeCom"):
    return client.post(f"{TRANSFERS_URL}{transfer.pk}/refuse/", {"reason": reason}, format="json")


def test_recording_a_refusal_routes_the_customer_to_the_team_lead(org, handed_over, api_client_for):
    # given
    case, customer, side_chat, follow_up = handed_over
    transfer = CustomerTransfer.objects.get(case=case, customer=customer)
    hr = api_client_for(org.hr)

    # when
    response = refuse(hr, transfer)

    # then
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["to_owner"]) == ("refused", org.lead.pk)
    # Stored in the product language (zh-hans)
    assert data["reason"] == "客户拒绝：Customer declined the new contact in WeCom"
    assert data["refused_at"]
    customer.refresh_from_db()
    assert customer.owner == org.lead
    latest = customer.ownership.order_by("-at", "-id").first()
    assert (latest.from_owner, latest.to_owner, latest.case, latest.actor) == (
        org.rep_b,
        org.lead,
        case,
        org.hr,
    )
    # The handed-over conversation, its messages and the open follow-up go with the customer;
    # a colleague's own chat with the customer is not theirs to take.
    own_chat = next(c for c in customer.conversations.all() if c.pk != side_chat.pk)
    assert own_chat.owner == org.lead
    side_chat.refresh_from_db()
    assert side_chat.owner == org.rep_other_team
    follow_up.refresh_from_db()
    assert follow_up.staff == org.lead


def test_the_report_shows_a_recorded_refusal(org, handed_over, api_client_for):
    # given
    case, customer, *_ = handed_over
    hr = api_client_for(org.hr)
    refuse(hr, CustomerTransfer.objects.get(case=case, customer=customer))

    # when
    report = hr.get(f"{CASES_URL}{case.pk}/report/").json()
    download = b"".join(hr.get(f"{CASES_URL}{case.pk}/report/csv/").streaming_content).decode(
        "utf-8-sig"
    )

    # then
    assert (report["completed"], report["refused"]) == (5, 1)
    assert report["by_successor"] == {"lead": 1, "rep_b": 5}
    [line] = [row for row in download.splitlines() if ",refused," in row]
    assert line.startswith(f"{customer.pk},") and ",rep_b," not in line and ",lead," in line


def test_a_transfer_is_refused_only_once(org, handed_over, api_client_for):
    # given
    case, customer, *_ = handed_over
    transfer = CustomerTransfer.objects.get(case=case, customer=customer)
    hr = api_client_for(org.hr)
    refuse(hr, transfer)

    # when
    again = refuse(hr, transfer)

    # then
    assert again.status_code == 409
    assert again.json()["errors"] == {"status": ["此转移已是“被拒绝”状态。"]}
    assert OwnershipTransfer.objects.filter(customer=customer, case=case).count() == 2


def test_a_refusal_needs_a_reason(org, handed_over, api_client_for):
    # given
    case, customer, *_ = handed_over
    transfer = CustomerTransfer.objects.get(case=case, customer=customer)

    # when
    response = refuse(api_client_for(org.hr), transfer, reason="")

    # then
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.owner == org.rep_b


@pytest.mark.parametrize("who", ["lead", "manager"])
def test_only_hr_records_refusals(who, org, handed_over, api_client_for):
    # given: leads and managers read the transfers of their people
    case, customer, *_ = handed_over
    transfer = CustomerTransfer.objects.get(case=case, customer=customer)
    client = api_client_for(getattr(org, who))
    assert client.get(TRANSFERS_URL, {"case": case.pk}).json()["count"] == 6

    # when
    response = refuse(client, transfer)

    # then
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.owner == org.rep_b


def test_a_refusal_of_a_transfer_outside_ones_view_answers_404(org, handed_over, api_client_for):
    # given: manager_other heads an unrelated department
    case, customer, *_ = handed_over
    transfer = CustomerTransfer.objects.get(case=case, customer=customer)

    # when
    response = refuse(api_client_for(org.manager_other), transfer)

    # then
    assert response.status_code == 404
    assert CustomerTransfer.objects.get(pk=transfer.pk).status == "completed"
    customer.refresh_from_db()
    assert customer.owner == org.rep_b

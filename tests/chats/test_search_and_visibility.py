"""Who sees which messages, search for Chinese keywords of any length, masking, timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chats.models import HistoryWindow, Message
from scrm.audit.models import AccessAction, AccessEvent
from tests.factories import FollowUpFactory, TransactionFactory

SEARCH = "/api/v1/chats/search/"
MESSAGES = "/api/v1/chats/messages/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("rep", {"rep_today"}),  # own customer, 7-day window
        ("lead", {"rep_today", "rep_10d"}),  # team, 31-day window
        ("manager", {"rep_today", "rep_10d", "rep_40d", "other_team"}),  # department tree
        ("legal", {"rep_today", "rep_10d", "rep_40d", "other_team", "unrelated"}),
        ("auditor", {"rep_today", "rep_10d", "rep_40d", "other_team", "unrelated"}),
    ],
)
def test_visibility_follows_customer_scope_and_history_window(
    api_client_for, org, archive, role, expected
):
    response = api_client_for(getattr(org, role)).get(MESSAGES)

    assert ids(response) == {archive[key] for key in expected}


def test_history_window_is_configurable(api_client_for, org, archive):
    HistoryWindow.objects.filter(role="Sales rep").update(days=60)

    assert ids(api_client_for(org.rep).get(MESSAGES)) == {
        archive["rep_today"],
        archive["rep_10d"],
        archive["rep_40d"],
    }


def test_hr_and_security_cannot_read_chats(api_client_for, org, archive):
    for user in (org.hr, org.security):
        assert api_client_for(user).get(MESSAGES).status_code == 403
        assert api_client_for(user).get(SEARCH, {"q": "理赔"}).status_code == 403


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("赔", {"rep_today", "rep_10d", "rep_40d", "other_team"}),  # 1 character
        ("理赔", {"rep_today", "rep_10d", "rep_40d", "other_team"}),  # 2 characters
        ("理赔进度", {"rep_10d"}),  # 4 characters
        ("保险", {"rep_today", "unrelated"}),
        ("进理", set()),  # both characters present, never in this order
        ("理赔款已到账", {"other_team"}),
    ],
)
def test_search_finds_every_match_for_1_2_and_4_character_keywords(
    api_client_for, org, archive, keyword, expected
):
    response = api_client_for(org.legal).get(SEARCH, {"q": keyword})

    assert ids(response) == {archive[key] for key in expected}


def test_search_respects_scope_and_window(api_client_for, org, archive):
    assert ids(api_client_for(org.rep).get(SEARCH, {"q": "理赔"})) == {archive["rep_today"]}
    assert ids(api_client_for(org.lead).get(SEARCH, {"q": "理赔"})) == {
        archive["rep_today"],
        archive["rep_10d"],
    }


def test_search_filters_and_pagination(api_client_for, org, customers, archive):
    client = api_client_for(org.legal)

    by_customer = client.get(SEARCH, {"q": "理赔", "customer": customers.of_other_team.pk})
    by_staff = client.get(SEARCH, {"q": "理赔", "staff": org.rep.pk, "page_size": 1})

    assert ids(by_customer) == {archive["other_team"]}
    assert by_staff.json()["count"] == 3 and len(by_staff.json()["results"]) == 1


def test_search_is_recorded_with_its_query_and_masks_numbers(api_client_for, org, archive):
    client = api_client_for(org.lead)

    body = client.get(SEARCH, {"q": "13912345678"}).content.decode()

    assert "13912345678" not in body
    event = AccessEvent.objects.get(actor=org.lead, action=AccessAction.SEARCH)
    assert event.query == {"q": "139****5678"}
    # insider §2: the lead sees the number masked, so the full number finds nothing (it would
    # confirm the hidden digits); legal, who reads chats raw, finds it.
    assert event.object_ids == []
    found = api_client_for(org.legal).get(SEARCH, {"q": "13912345678"}).json()["results"]
    assert [row["id"] for row in found] == [archive["rep_10d"]]


def test_search_without_keyword_is_a_400(api_client_for, org, archive):
    response = api_client_for(org.legal).get(SEARCH)

    assert response.status_code == 400
    assert "q" in response.json()["errors"]


def test_message_content_masked_for_lead_raw_for_legal(api_client_for, org, archive):
    lead_body = api_client_for(org.lead).get(f"{MESSAGES}{archive['rep_10d']}/").json()
    legal_body = api_client_for(org.legal).get(f"{MESSAGES}{archive['rep_10d']}/").json()

    assert lead_body["text"] == "我的手机号是139****5678，理赔进度如何"
    assert legal_body["text"] == "我的手机号是13912345678，理赔进度如何"


def test_out_of_scope_message_is_404_and_recorded(api_client_for, org, archive):
    response = api_client_for(org.rep).get(f"{MESSAGES}{archive['unrelated']}/")

    assert response.status_code == 404
    assert AccessEvent.objects.filter(
        actor=org.rep, action="denied", object_ids=[archive["unrelated"]]
    ).exists()


def test_hiding_a_message_hides_it_only_for_me(api_client_for, org, archive):
    response = api_client_for(org.rep).post(f"{MESSAGES}{archive['rep_today']}/hide/")

    assert response.status_code == 204
    assert archive["rep_today"] not in ids(api_client_for(org.rep).get(MESSAGES))
    assert archive["rep_today"] in ids(api_client_for(org.lead).get(MESSAGES))
    assert Message.objects.filter(pk=archive["rep_today"]).exists()


def test_timeline_merges_messages_follow_ups_and_transactions_in_time_order(
    api_client_for, org, customers, archive
):
    customer = customers.of_rep
    FollowUpFactory(
        customer=customer,
        staff=org.rep,
        note="回访 13912345678",
        at=timezone.now() - timedelta(days=5),
    )
    TransactionFactory(customer=customer, date=(timezone.now() - timedelta(days=20)).date())

    response = api_client_for(org.lead).get(f"/api/v1/customers/{customer.pk}/timeline/")

    assert response.status_code == 200
    entries = response.json()["entries"]
    assert [e["kind"] for e in entries] == ["transaction", "message", "follow_up", "message"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert "13912345678" not in response.content.decode()
    assert AccessEvent.objects.filter(
        actor=org.lead, action="view", query={"view": "timeline"}
    ).exists()


def test_timeline_of_out_of_scope_customer_is_404(api_client_for, org, customers, archive):
    response = api_client_for(org.rep).get(
        f"/api/v1/customers/{customers.of_unrelated.pk}/timeline/"
    )

    assert response.status_code == 404
    assert AccessEvent.objects.filter(actor=org.rep, action="denied").exists()

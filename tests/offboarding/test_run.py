"""Running a case, step by step: freeze, transfer, conversations, grants, private data,
notifications and the report, and the counts before and after matching exactly."""

from collections import Counter

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.test import APIClient

from chats.models import Conversation, Message
from customers.models import (
    Customer,
    CustomerUserObjectPermission,
    FollowUp,
    OwnershipTransfer,
    PersonalNote,
)
from offboarding.models import CustomerTransfer, OffboardingCase
from offboarding.runner import run_case
from scrm.staff import roles
from scrm.staff.models import Device, Draft, Notification, SavedSearch, Staff
from tests.conftest import obtain_jwt
from tests.factories import CustomerFactory, StaffFactory
from tests.offboarding.cases import CASES_URL, approved_case, open_case, run_to_completion
from tests.offboarding.conftest import DEVICE_ID
from tests.signin import verified_login

ME_URL = "/api/v1/me/"
CUSTOMERS_URL = "/api/v1/customers/"


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- 1. freeze ----------------------------------------------------------------------------------


def test_freeze_deactivates_the_account_and_records_when_they_left(org, leaver, book):
    # when
    case = run_to_completion(org, leaver)

    # then
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert leaver.employment_status == "departed"
    assert leaver.departed_at is not None
    assert case.steps.get(name="freeze").detail["devices_marked_for_wipe"] == 1


def test_a_refresh_token_obtained_before_the_run_no_longer_works(org, leaver, book):
    # given
    anon = APIClient()
    tokens = obtain_jwt(anon, leaver.username)

    # when
    run_to_completion(org, leaver)
    refreshed = anon.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )

    # then
    assert refreshed.status_code == 401, refreshed.content
    assert "access" not in refreshed.json()


def test_an_access_token_issued_before_the_run_no_longer_works(org, leaver, book):
    # given
    access = obtain_jwt(APIClient(), leaver.username)["access"]
    assert _bearer(access).get(ME_URL).status_code == 200

    # when
    run_to_completion(org, leaver)

    # then
    response = _bearer(access).get(CUSTOMERS_URL)
    assert response.status_code == 401, response.content


def test_the_leaver_cannot_sign_in_again(org, leaver, book):
    # when
    run_to_completion(org, leaver)
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": leaver.username, "password": "pw-test-1234"},
        format="json",
    )

    # then
    assert response.status_code == 401


def test_the_leavers_browser_session_is_gone(org, leaver, book):
    # given: the leaver is signed in to the admin, and so is a colleague
    browser, colleague = Client(), Client()
    verified_login(browser, leaver)
    verified_login(colleague, org.rep)
    assert browser.get("/admin/").status_code == 200

    # when
    case = run_to_completion(org, leaver)

    # then
    sessions = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert sessions == [str(org.rep.pk)]
    response = browser.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert colleague.get("/admin/").status_code == 200
    assert case.steps.get(name="freeze").detail["sessions_ended"] == 1


def test_a_device_marked_for_wipe_gets_401_device_wiped_on_any_api_call(org, leaver, book):
    # given: the phone holds a valid access token issued before the run
    access = obtain_jwt(APIClient(), leaver.username)["access"]
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {access}", HTTP_X_DEVICE_ID=DEVICE_ID)
    assert phone.get(ME_URL).status_code == 200

    # when
    run_to_completion(org, leaver)

    # then: whatever it calls, with or without a token, it is told to erase its data
    for method, url in [
        ("get", ME_URL),
        ("get", CUSTOMERS_URL),
        ("get", f"{CUSTOMERS_URL}{book.customers[0].pk}/"),
        ("post", CUSTOMERS_URL),
        ("get", "/api/v1/chats/conversations/"),
    ]:
        response = getattr(phone, method)(url, {}, format="json")
        assert response.status_code == 401, (url, response.content)
        assert response.json()["code"] == "device_wiped", url
        assert response.json()["detail"]
    # insider §7: without a token it proves nothing, and learns nothing (tests/insider)
    anonymous_phone = APIClient(HTTP_X_DEVICE_ID=DEVICE_ID)
    assert anonymous_phone.get(ME_URL).json()["code"] == "not_authenticated"


def test_a_colleagues_device_keeps_working(org, leaver, book):
    # given
    Device.objects.create(staff=org.rep, device_id="android-rep")
    access = obtain_jwt(APIClient(), org.rep.username)["access"]
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {access}", HTTP_X_DEVICE_ID="android-rep")

    # when
    run_to_completion(org, leaver)

    # then
    assert phone.get(CUSTOMERS_URL).status_code == 200


# --- 2. transfer --------------------------------------------------------------------------------


def test_every_customer_moves_with_its_ownership_history_and_transfer_record(org, leaver, book):
    # given
    ids = {c.pk for c in book.customers}

    # when
    case = run_to_completion(org, leaver, successors=[org.rep_b])

    # then
    assert (
        set(Customer.objects.filter(owner=org.rep_b, pk__in=ids).values_list("pk", flat=True))
        == ids
    )
    history = OwnershipTransfer.objects.filter(case=case)
    assert Counter(history.values_list("customer_id", flat=True)) == Counter(ids)
    assert {(h.from_owner, h.to_owner, h.actor) for h in history} == {(leaver, org.rep_b, org.hr)}
    assert {h.reason for h in history} == {f"{leaver.display_name} 离职交接"}  # zh-hans, stored
    records = CustomerTransfer.objects.filter(case=case)
    assert {r.customer_id for r in records} == ids
    assert {(r.from_owner, r.to_owner, r.status, r.reason) for r in records} == {
        (leaver, org.rep_b, "completed", "")
    }


def test_the_customer_detail_shows_the_case_in_its_ownership_history(
    org, leaver, book, api_client_for
):
    # given
    customer = book.customers[0]
    case = run_to_completion(org, leaver, successors=[org.rep_b])

    # when
    response = api_client_for(org.rep_b).get(f"{CUSTOMERS_URL}{customer.pk}/")

    # then
    assert response.status_code == 200
    history = response.json()["ownership_history"]
    assert [(p["owner"], p["case"], p["actor"]) for p in history] == [
        (leaver.pk, None, None),
        (org.rep_b.pk, case.pk, org.hr.pk),
    ]
    assert history[0]["to"] == history[1]["from"]
    assert history[1]["to"] is None


def test_customers_of_colleagues_are_not_touched(org, leaver, book, customers):
    # given
    before = dict(Customer.objects.exclude(owner=leaver).values_list("pk", "owner_id"))

    # when
    run_to_completion(org, leaver)

    # then
    assert dict(Customer.objects.filter(pk__in=before).values_list("pk", "owner_id")) == before


# --- 3. conversations, messages, follow-ups -------------------------------------------------------


def test_conversations_follow_their_customer_to_the_new_owner(org, leaver, book):
    # given: a split, so the new owners differ per customer
    sent_by = dict(Message.objects.values_list("pk", "sender_staff_id"))
    staff_side = dict(Message.objects.values_list("pk", "staff_id"))

    # when
    run_to_completion(org, leaver, successors=[org.rep, org.rep_b], plan="split")

    # then
    for conversation in book.conversations:
        conversation.refresh_from_db()
        owner = Customer.objects.get(pk=conversation.customer_id).owner_id
        assert conversation.owner_id == owner
    assert {c.owner_id for c in book.conversations} == {org.rep.pk, org.rep_b.pk}
    # Who sent what, and who held the conversation then, is history: it does not change.
    assert dict(Message.objects.values_list("pk", "sender_staff_id")) == sent_by
    assert dict(Message.objects.values_list("pk", "staff_id")) == staff_side


def test_a_group_room_without_a_customer_goes_to_the_team_lead(org, leaver, book):
    # when
    run_to_completion(org, leaver)

    # then
    book.room.refresh_from_db()
    assert book.room.owner == org.lead


def test_open_follow_ups_move_to_the_new_owner_and_done_ones_stay(org, leaver, book):
    # when
    run_to_completion(org, leaver, successors=[org.rep_b])

    # then
    book.open_follow_up.refresh_from_db()
    book.done_follow_up.refresh_from_db()
    assert book.open_follow_up.staff == org.rep_b
    assert book.done_follow_up.staff == leaver
    assert not FollowUp.objects.filter(staff=leaver, done=False).exists()


def test_nothing_of_the_leaver_is_left_ownerless(org, leaver, book):
    # when
    run_to_completion(org, leaver)

    # then
    assert not Customer.objects.filter(owner=leaver).exists()
    assert not Conversation.objects.filter(owner=leaver).exists()
    assert not Customer.objects.filter(owner__isnull=True).exists()
    assert not Conversation.objects.filter(owner__isnull=True).exists()


# --- 4. grants ----------------------------------------------------------------------------------


def test_the_leavers_own_grants_go_and_so_do_the_shares_they_gave(
    org, leaver, book, api_client_for
):
    # given: rep_other_team sees one of the leaver's customers only through the leaver's share
    shared = book.customers[2]
    colleague = api_client_for(org.rep_other_team)
    assert colleague.get(f"{CUSTOMERS_URL}{shared.pk}/").status_code == 200

    # when
    case = run_to_completion(org, leaver, successors=[org.rep_b])

    # then (insider §7: the shares the leaver gave go too, until the new owner re-confirms)
    assert not CustomerUserObjectPermission.objects.filter(user=leaver).exists()
    assert not CustomerUserObjectPermission.objects.filter(pk=book.share_given.pk).exists()
    response = colleague.get(f"{CUSTOMERS_URL}{shared.pk}/")
    assert response.status_code == 404
    assert case.steps.get(name="grants").detail == {"grants_removed": 1}
    assert case.steps.get(name="shares").detail == {
        "shares_revoked": 1,
        "expired_or_owner_removed": 0,
    }


# --- 5. private data ------------------------------------------------------------------------------


def test_private_data_is_cleared_and_notes_on_customers_stay(org, leaver, book):
    # given
    Draft.objects.create(staff=org.rep, body="A colleague's draft")

    # when
    case = run_to_completion(org, leaver)

    # then
    assert not Draft.objects.filter(staff=leaver).exists()
    assert not SavedSearch.objects.filter(staff=leaver).exists()
    assert list(PersonalNote.objects.filter(staff=leaver)) == [book.customer_note]
    assert Draft.objects.filter(staff=org.rep).exists()
    device = Device.objects.get(device_id=DEVICE_ID)
    assert (device.name, device.platform) == ("", "")
    assert device.wipe_requested_at is not None
    assert case.steps.get(name="private_data").detail == {
        "drafts": 1,
        "saved_searches": 1,
        "personal_notes": 1,
        "device_registrations": 1,
    }


def test_the_wipe_answer_survives_the_clearing_of_the_device_registration(org, leaver, book):
    # given: the phone holds the leaver's access token
    phone = _bearer(obtain_jwt(APIClient(), leaver.username)["access"])
    phone.credentials(
        HTTP_AUTHORIZATION=phone._credentials["HTTP_AUTHORIZATION"], HTTP_X_DEVICE_ID=DEVICE_ID
    )

    # when
    run_to_completion(org, leaver)

    # then: the phone, with the token it still holds, is told to wipe
    response = phone.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "device_wiped"


# --- 6. notifications -------------------------------------------------------------------------


def test_successors_and_the_supervisor_are_notified_in_app_and_by_email(
    org, leaver, book, mailoutbox
):
    # when
    case = run_to_completion(org, leaver, successors=[org.rep, org.rep_b], plan="split")

    # then
    # (the supervisor's earlier approval request is a notification of its own)
    # Written once, in the product language (zh-hans), with the leaver's display name.
    name = case.leaver.display_name
    title = f"{name} 的交接（交接 #{case.pk}）"  # "Hand-over from … (case #…)"
    handovers = Notification.objects.filter(title=title)
    notes = {n.recipient.username: n for n in handovers.select_related("recipient")}
    assert set(notes) == {"rep", "rep_b", "lead"}
    per_successor = Counter(case.transfers.values_list("to_owner__username", flat=True))
    assert notes["rep"].body == f"您已接手 {name} 的 {per_successor['rep']} 位客户。"
    assert notes["rep_b"].body == f"您已接手 {name} 的 {per_successor['rep_b']} 位客户。"
    assert "离职交接已执行" in notes["lead"].body  # "… offboarding has run"
    assert {n.link for n in notes.values()} == {
        f"/admin/offboarding/offboardingcase/{case.pk}/report/"
    }
    assert sorted(m.to[0] for m in mailoutbox) == [
        "lead@staff.example.com",
        "rep@staff.example.com",
        "rep_b@staff.example.com",
    ]
    assert all(m.subject == title for m in mailoutbox)
    assert all(
        f"报告：/admin/offboarding/offboardingcase/{case.pk}/report/" in m.body for m in mailoutbox
    )


# --- 7. the report ------------------------------------------------------------------------------


def test_the_report_step_records_the_summary_on_the_case(org, leaver, book):
    # when
    case = run_to_completion(org, leaver)

    # then
    summary = case.steps.get(name="report").detail
    assert (summary["customers"], summary["completed"], summary["refused"]) == (6, 6, 0)
    assert summary["by_successor"] == {"rep": 6}


# --- counts before and after -------------------------------------------------------------------


def test_counts_before_and_after_match_exactly(org, leaver, book, customers):
    # given: a larger book split three ways, with one override to a fourth colleague
    extra = CustomerFactory.create_batch(30, owner=leaver)
    fourth = StaffFactory(username="rep_c", roles=[roles.SALES_REP], team=org.team1)
    mine = [c.pk for c in [*book.customers, *extra]]
    totals_before = (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
    )
    others_before = Counter(Customer.objects.exclude(owner=leaver).values_list("owner", flat=True))

    # when
    case = run_to_completion(
        org,
        leaver,
        plan="split",
        successors=[org.rep, org.rep_b, org.lead],
        overrides={extra[0]: fourth},
    )

    # then: every customer of the leaver has exactly one new owner: none ownerless, none twice
    owners = dict(Customer.objects.filter(pk__in=mine).values_list("pk", "owner_id"))
    assert len(owners) == len(mine)
    assert None not in owners.values() and leaver.pk not in owners.values()
    assert owners[extra[0].pk] == fourth.pk
    assert Counter(
        CustomerTransfer.objects.filter(case=case).values_list("customer", flat=True)
    ) == Counter(mine)
    assert Counter(
        OwnershipTransfer.objects.filter(case=case).values_list("customer", flat=True)
    ) == Counter(mine)
    after = Counter(Customer.objects.exclude(pk__in=mine).values_list("owner", flat=True))
    assert after == others_before
    assert totals_before == (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
    )
    summary = case.steps.get(name="report").detail
    assert summary["customers"] == summary["completed"] == len(mine)
    assert sum(summary["by_successor"].values()) == len(mine)


def test_a_draft_case_does_not_run(org, leaver, book):
    # given
    draft = open_case(org, leaver)

    # when
    untouched = run_case(draft.pk)

    # then
    assert untouched.status == "draft"
    assert Customer.objects.filter(owner=leaver).count() == 6
    assert Staff.objects.get(pk=leaver.pk).is_active


def test_running_a_completed_case_again_changes_nothing(org, leaver, book):
    # given
    case = run_to_completion(org, leaver)
    history = OwnershipTransfer.objects.count()

    # when
    again = run_case(case.pk)

    # then
    assert again.status == OffboardingCase.Status.COMPLETED
    assert OwnershipTransfer.objects.count() == history


@pytest.mark.parametrize("kind", ["round_robin", "least_loaded"])
def test_team_plans_run_to_completion(kind, org, leaver, book, api_client_for):
    # given
    case = approved_case(org, leaver, plan=kind)

    # when
    response = api_client_for(org.hr).post(f"{CASES_URL}{case.pk}/run/")

    # then
    assert response.json()["status"] == "completed", response.json()["error"]
    owners = set(
        Customer.objects.filter(pk__in=[c.pk for c in book.customers]).values_list(
            "owner__username", flat=True
        )
    )
    assert owners == {"rep", "rep_b"}

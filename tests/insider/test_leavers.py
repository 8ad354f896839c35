"""Insider §7: what leavers leave behind.

The attacks: a colleague keeps a customer through a share the leaver gave; a rep in their
notice period pages through lists instead of exporting; a rep reads the staff directory to learn
who is leaving; an anonymous caller tries device ids to learn whose phone was wiped. Each runs
through the real API (force-authenticated or a real JWT) or the admin (session) on the test
database (SQLite and PostgreSQL).
"""

import csv
import io
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from customers.models import CustomerUserObjectPermission
from customers.services import share_customer
from offboarding import runner, steps
from offboarding.models import CaseStep, RevokedShare
from offboarding.runner import run_case
from scrm.audit.models import AccessAction, AccessEvent, ReadBlock, SecurityAlert
from scrm.audit.read_budget import ALERT_KIND, BLOCK_KIND
from scrm.staff.models import Device
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.conftest import obtain_jwt
from tests.factories import CustomerFactory
from tests.offboarding.cases import CASES_URL, approved_case, run_to_completion
from tests.signin import verified_login

CUSTOMERS = "/api/v1/customers/"
REVOKED = "/api/v1/offboarding/revoked-shares/"
MESSAGES = "/api/v1/chats/messages/"
ALERTS = "/api/v1/alerts/"
STAFF = "/api/v1/staff/"


# --- shares a leaver gave ---------------------------------------------------------------------


@pytest.fixture
def shares(org, leaver, book):
    """Besides book.share_given (leaver's customer -> rep_other_team, view): a change share on a
    colleague's customer the leaver gave while they could, and an expired one."""
    on_colleagues = CustomerUserObjectPermission.objects.create(
        content_object=book.colleague_customer,
        user=org.rep_other_team,
        permission=Permission.objects.get(codename="change_customer"),
        granted_by=leaver,
    )
    expired = share_customer(actor=leaver, customer=book.customers[4], with_staff=org.rep)
    CustomerUserObjectPermission.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    return {"own": book.share_given, "colleagues": on_colleagues, "expired": expired}


def test_after_the_run_the_colleague_no_longer_sees_what_the_leaver_shared(
    org, leaver, book, shares, api_client_for
):
    # given: rep_other_team reads two customers only through the leaver's shares
    colleague = api_client_for(org.rep_other_team)
    shared = [book.customers[2].pk, book.colleague_customer.pk]
    listed = {row["id"] for row in colleague.get(CUSTOMERS).json()["results"]}
    assert set(shared) <= listed

    # when
    case = run_to_completion(org, leaver, successors=[org.rep_b])

    # then: neither in the list nor by id
    listed = {row["id"] for row in colleague.get(CUSTOMERS).json()["results"]}
    assert not set(shared) & listed
    for pk in shared:
        assert colleague.get(f"{CUSTOMERS}{pk}/").status_code == 404
    assert not CustomerUserObjectPermission.objects.filter(granted_by=leaver).exists()
    assert case.steps.get(name="shares").detail == {
        "shares_revoked": 2,
        "expired_or_owner_removed": 1,
    }


def test_the_report_lists_each_revoked_share_in_json_csv_and_the_admin_page(
    org, leaver, book, shares, api_client_for
):
    # given
    case = run_to_completion(org, leaver, successors=[org.rep_b])
    hr = api_client_for(org.hr)

    # when
    report = hr.get(f"{CASES_URL}{case.pk}/report/").json()
    text = b"".join(hr.get(f"{CASES_URL}{case.pk}/report/csv/").streaming_content).decode(
        "utf-8-sig"
    )
    browser = Client()
    verified_login(browser, org.hr)
    page = browser.get(f"/admin/offboarding/offboardingcase/{case.pk}/report/")

    # then
    expected = {
        (book.customers[2].pk, "rep_other_team", "view"),
        (book.colleague_customer.pk, "rep_other_team", "change"),
    }
    assert {
        (s["customer"], s["colleague_username"], s["level"]) for s in report["revoked_shares"]
    } == expected
    assert (report["shares_revoked"], report["shares_reconfirmed"]) == (2, 0)
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["status"] == "share_revoked"]
    assert {(int(r["customer_id"]), r["to"], r["reason"].split()[0]) for r in rows} == expected
    assert page.status_code == 200
    shares_table = page.content.decode().split('id="report-shares"')[1]
    assert shares_table.count("rep_other_team") == 2
    assert str(book.customers[2]) in shares_table  # masked name, as everywhere in the report
    assert book.customers[2].name not in page.content.decode()


def test_the_new_owner_reconfirms_a_share_and_the_colleague_sees_the_customer_again(
    org, leaver, book, shares, api_client_for
):
    # given
    run_to_completion(org, leaver, successors=[org.rep_b])
    successor = api_client_for(org.rep_b)
    [row] = [r for r in successor.get(REVOKED).json()["results"] if r["level"] == "view"]
    assert row["customer"] == book.customers[2].pk

    # when
    response = successor.post(f"{REVOKED}{row['id']}/reconfirm/")

    # then
    assert response.status_code == 201, response.content
    assert response.json()["reconfirmed_by"] == "rep_b"
    colleague = api_client_for(org.rep_other_team)
    assert colleague.get(f"{CUSTOMERS}{book.customers[2].pk}/").status_code == 200
    grant = CustomerUserObjectPermission.objects.get(pk=response.json()["share_id"])
    assert (grant.granted_by, grant.permission.codename) == (org.rep_b, "view_customer")
    again = successor.post(f"{REVOKED}{row['id']}/reconfirm/")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


@pytest.mark.parametrize("who", ["rep_other_team", "rep", "hr", "lead"])
def test_nobody_but_the_customers_owner_reconfirms(who, org, leaver, book, shares, api_client_for):
    # given: the colleague who lost the share, another rep, HR and the lead (who see the case)
    case = run_to_completion(org, leaver, successors=[org.rep_b])
    share = RevokedShare.objects.get(case=case, customer=book.customers[2])

    # when
    response = api_client_for(getattr(org, who)).post(f"{REVOKED}{share.pk}/reconfirm/")

    # then: 404 for who cannot see the row, 403 for case readers; nothing granted
    assert response.status_code in (403, 404), response.content
    assert response.status_code == (403 if who in ("hr", "lead") else 404)
    assert not CustomerUserObjectPermission.objects.filter(
        content_object=book.customers[2], user=org.rep_other_team
    ).exists()


def test_the_successor_reconfirms_in_the_admin(org, leaver, book, shares, api_client_for):
    # given
    case = run_to_completion(org, leaver, successors=[org.rep_b])
    share = RevokedShare.objects.get(case=case, customer=book.customers[2])
    browser = Client()
    verified_login(browser, org.rep_b)
    page = browser.get("/admin/offboarding/revokedshare/")
    assert page.status_code == 200 and "rep_other_team" in page.content.decode()

    # when
    response = browser.post(
        "/admin/offboarding/revokedshare/",
        {"action": "reconfirm_action", "_selected_action": [share.pk]},
    )

    # then
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.reconfirmed_by == org.rep_b
    colleague = api_client_for(org.rep_other_team)
    assert colleague.get(f"{CUSTOMERS}{book.customers[2].pk}/").status_code == 200


def test_the_shares_step_resumes_after_a_crash_without_losing_or_repeating_a_share(
    org, leaver, book, shares, monkeypatch
):
    # given: the step dies after its transaction committed, before it was marked done
    real = steps.shares
    calls = []

    def crash_once(case, step):
        real(case, step)
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker lost")

    crashing = [(name, crash_once if fn is real else fn) for name, fn in steps.STEPS]
    monkeypatch.setattr(runner, "STEPS", crashing)
    case = approved_case(org, leaver, successors=[org.rep_b])
    assert run_case(case.pk).status == "failed"

    # when
    monkeypatch.undo()
    resumed = run_case(case.pk)

    # then
    assert resumed.status == "completed", resumed.error
    assert RevokedShare.objects.filter(case=case).count() == 2
    assert resumed.steps.get(name="shares").detail["shares_revoked"] == 2
    assert not CustomerUserObjectPermission.objects.filter(granted_by=leaver).exists()


def test_an_open_case_created_before_the_shares_step_gets_it_in_its_place(
    org, leaver, book, shares
):
    # given: a case opened by the release before (its steps have no `shares`, positions 0-6)
    case = approved_case(org, leaver, successors=[org.rep_b])
    case.steps.filter(name="shares").delete()
    for position, step in enumerate(case.steps.order_by("position")):
        CaseStep.objects.filter(pk=step.pk).update(position=position)

    # when
    done = run_case(case.pk)

    # then
    assert done.status == "completed", done.error
    names = list(done.steps.order_by("position").values_list("name", flat=True))
    assert names == [name for name, _ in steps.STEPS]
    assert not CustomerUserObjectPermission.objects.filter(granted_by=leaver).exists()


# --- the notice-period read budget --------------------------------------------------------------


@pytest.fixture
def budget(settings):
    settings.SCRM_NOTICE_READS_ALERT_PER_HOUR = 5
    settings.SCRM_NOTICE_READS_BLOCK_PER_HOUR = 10


@pytest.fixture
def notice_book(org):
    """rep_leaving (notice period) owns 12 customers, each with one chat message."""
    customers = CustomerFactory.create_batch(12, owner=org.rep_leaving)
    messages = [MessageFactory(conversation=ConversationFactory(customer=c)) for c in customers]
    return customers, messages


def _alerts(kind: str, staff) -> int:
    return SecurityAlert.objects.filter(kind=kind, actor=staff).count()


def test_a_notice_rep_paging_customers_is_alerted_then_blocked_until_security_releases(
    org, budget, notice_book, api_client_for
):
    leaver = api_client_for(org.rep_leaving)

    # when: 4 rows, then 8 (over the alert threshold of 5)
    assert leaver.get(f"{CUSTOMERS}?page_size=4&page=1").status_code == 200
    assert _alerts(ALERT_KIND, org.rep_leaving) == 0
    assert leaver.get(f"{CUSTOMERS}?page_size=4&page=2").status_code == 200

    # then: one alert, still reading
    assert _alerts(ALERT_KIND, org.rep_leaving) == 1

    # when: 12 rows (over the block threshold of 10)
    assert leaver.get(f"{CUSTOMERS}?page_size=4&page=3").status_code == 200

    # then: blocked on every list path, one alert per hour, a single record still opens
    assert _alerts(ALERT_KIND, org.rep_leaving) == 1
    assert _alerts(BLOCK_KIND, org.rep_leaving) == 1
    for url in (
        f"{CUSTOMERS}?page_size=4&page=1",
        MESSAGES,
        "/api/v1/chats/conversations/",
        "/api/v1/chats/search/?q=报价",
        f"{CUSTOMERS}{notice_book[0][0].pk}/timeline/",
    ):
        response = leaver.get(url)
        assert response.status_code == 403, (url, response.content)
        assert response.json()["code"] == "reads_blocked", url
        assert "安全专员" in response.json()["detail"]  # "a security officer ... can release"
    assert leaver.get(f"{CUSTOMERS}{notice_book[0][0].pk}/").status_code == 200
    denied = AccessEvent.objects.filter(actor=org.rep_leaving, action=AccessAction.DENIED)
    assert denied.count() == 5

    # when: the rep tries to release themselves, then security does
    alert = SecurityAlert.objects.get(kind=BLOCK_KIND, actor=org.rep_leaving)
    body = {"reason": "Hand-over list agreed with the team lead"}
    own = leaver.post(f"{ALERTS}{alert.pk}/release-reads/", body, format="json")
    released = api_client_for(org.security).post(
        f"{ALERTS}{alert.pk}/release-reads/", body, format="json"
    )

    # then
    assert own.status_code == 403
    assert released.status_code == 200, released.content
    assert leaver.get(f"{CUSTOMERS}?page_size=4&page=1").status_code == 200
    assert leaver.get(MESSAGES).status_code == 200
    block = ReadBlock.objects.get(staff=org.rep_leaving, released_at__isnull=False)
    assert (block.released_by, block.release_reason) == (org.security, body["reason"])


def test_a_notice_rep_paging_messages_is_blocked(org, budget, notice_book, jwt_client_for):
    # given: a real JWT, as the phone would send
    leaver = jwt_client_for(org.rep_leaving)

    # when
    pages = [leaver.get(f"{MESSAGES}?page_size=4&page={n}").status_code for n in (1, 2, 3, 1)]

    # then
    assert pages == [200, 200, 200, 403]
    assert leaver.get(MESSAGES).json()["code"] == "reads_blocked"
    assert _alerts(ALERT_KIND, org.rep_leaving) == 1


@pytest.mark.parametrize("who", ["rep_leaving", "rep", "admin_user", "auditor"])
def test_only_a_security_officer_releases_a_block(who, org, budget, notice_book, api_client_for):
    # given: rep_leaving is blocked
    leaver = api_client_for(org.rep_leaving)
    for page in (1, 2, 3):
        leaver.get(f"{CUSTOMERS}?page_size=4&page={page}")
    alert = SecurityAlert.objects.get(kind=BLOCK_KIND)

    # when
    response = api_client_for(getattr(org, who)).post(
        f"{ALERTS}{alert.pk}/release-reads/", {"reason": "please"}, format="json"
    )

    # then
    assert response.status_code == 403, response.content
    assert leaver.get(CUSTOMERS).status_code == 403


def test_a_release_needs_a_reason(org, budget, notice_book, api_client_for):
    leaver = api_client_for(org.rep_leaving)
    for page in (1, 2, 3):
        leaver.get(f"{CUSTOMERS}?page_size=4&page={page}")
    alert = SecurityAlert.objects.get(kind=BLOCK_KIND)

    response = api_client_for(org.security).post(
        f"{ALERTS}{alert.pk}/release-reads/", {"reason": "  "}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_an_alert_about_nobody_releases_nothing(org, api_client_for):
    alert = SecurityAlert.objects.create(kind="sensitive_word", message="Message #1 matches.")
    url = f"{ALERTS}{alert.pk}/release-reads/"

    officer = api_client_for(org.security).post(url, {"reason": "x"}, format="json")
    auditor = api_client_for(org.auditor).post(url, {"reason": "x"}, format="json")

    assert (officer.status_code, officer.json()["code"]) == (400, "invalid")
    assert auditor.status_code == 403


def test_the_admin_changelist_is_blocked_with_a_clear_page_and_security_releases_there(
    org, budget, notice_book
):
    # given: the admin shows 100 per page: one page of the book (12) spends the budget (10)
    browser = Client()
    verified_login(browser, org.rep_leaving)
    url = "/admin/customers/customer/"
    assert browser.get(url).status_code == 200

    # when
    blocked = browser.get(url)
    search = browser.get("/admin/chats/message/search/?q=报价")
    messages = browser.get("/admin/chats/message/")

    # then
    assert blocked.status_code == 403
    assert "列表读取已被限制" in blocked.content.decode()  # "List reads blocked"
    assert (search.status_code, messages.status_code) == (403, 403)

    # when: security releases it from the alerts page
    officer = Client()
    verified_login(officer, org.security)
    alert = SecurityAlert.objects.get(kind=BLOCK_KIND, actor=org.rep_leaving)
    officer.post(
        "/admin/audit/securityalert/",
        {"action": "release_reads", "_selected_action": [alert.pk], "reason": "checked"},
    )

    # then
    assert browser.get(url).status_code == 200


def test_colleagues_not_in_notice_are_never_counted(org, budget, notice_book, api_client_for):
    # given: the lead reads the same rows many times over
    lead = api_client_for(org.lead)

    # when
    statuses = {lead.get(f"{CUSTOMERS}?page_size=4&page={p % 3 + 1}").status_code for p in range(9)}

    # then
    assert statuses == {200}
    assert not SecurityAlert.objects.exists() and not ReadBlock.objects.exists()


# --- the staff directory -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "lead", "manager", "legal", "auditor", "security"])
def test_colleagues_do_not_see_who_is_serving_notice(role, org, api_client_for):
    client = api_client_for(getattr(org, role))

    listed = client.get(f"{STAFF}?page_size=100")
    detail = client.get(f"{STAFF}{org.rep_leaving.pk}/")
    probe = client.get(f"{STAFF}?employment_status=notice")

    assert listed.status_code == 200
    assert all("employment_status" not in row for row in listed.json()["results"])
    assert "employment_status" not in detail.json()
    assert "notice" not in listed.content.decode() + detail.content.decode()
    assert probe.status_code == 403
    assert "rep_leaving" not in probe.content.decode()
    assert client.get("/api/v1/me/").json()["employment_status"] == "active"


@pytest.mark.parametrize("role", ["hr", "admin_user"])
def test_hr_and_administrators_see_and_filter_employment_status(role, org, api_client_for):
    client = api_client_for(getattr(org, role))

    probe = client.get(f"{STAFF}?employment_status=notice")

    assert probe.status_code == 200
    assert [row["username"] for row in probe.json()["results"]] == ["rep_leaving"]
    assert probe.json()["results"][0]["employment_status"] == "notice"


def test_the_leaver_sees_their_own_status_at_me(org, api_client_for):
    me = api_client_for(org.rep_leaving).get("/api/v1/me/")

    assert me.json()["employment_status"] == "notice"


# --- wiped devices --------------------------------------------------------------------------------

WIPED = "ios-leaver-wiped"


@pytest.fixture
def wiped(org, leaver, book):
    """The leaver's phone, signed in before the run, then wiped by it."""
    access = obtain_jwt(APIClient(), leaver.username)["access"]
    Device.objects.create(staff=leaver, device_id=WIPED)
    run_to_completion(org, leaver)
    return access


@pytest.mark.parametrize("url", ["/api/v1/me/", CUSTOMERS, "/api/v1/", "/api/v1/auth/token/"])
def test_an_anonymous_caller_cannot_tell_a_wiped_device_from_an_unknown_one(url, wiped):
    responses = [
        APIClient(HTTP_X_DEVICE_ID=device).get(url) for device in (WIPED, "never-registered")
    ]

    wiped_answer, unknown_answer = responses
    assert wiped_answer.status_code == unknown_answer.status_code
    assert wiped_answer.content == unknown_answer.content
    assert b"device_wiped" not in wiped_answer.content


def test_a_forged_token_learns_nothing_either(wiped, leaver):
    # given: a token for the leaver signed with a key that is not ours
    forged = AccessToken.for_user(leaver)
    key = "not-our-key-but-long-enough-for-hs256!"
    forged_text = jwt.encode(dict(forged.payload), key, algorithm="HS256")

    responses = [
        APIClient(HTTP_X_DEVICE_ID=device, HTTP_AUTHORIZATION=f"Bearer {forged_text}").get(
            CUSTOMERS
        )
        for device in (WIPED, "never-registered")
    ]

    assert responses[0].status_code == responses[1].status_code == 401
    assert responses[0].content == responses[1].content


def test_the_wiped_phone_with_its_token_still_learns_to_wipe_even_when_it_expired(wiped, leaver):
    # given: the token the phone held, and one long expired (the phone was off for days)
    expired = AccessToken.for_user(leaver)
    expired.set_exp(from_time=timezone.now() - timedelta(days=3))

    for token in (wiped, str(expired)):
        phone = APIClient(HTTP_X_DEVICE_ID=WIPED, HTTP_AUTHORIZATION=f"Bearer {token}")

        response = phone.get(CUSTOMERS)

        assert response.status_code == 401
        assert response.json()["code"] == "device_wiped"


def test_a_colleague_signing_in_on_a_wiped_phone_is_told_to_wipe(org, wiped):
    token = obtain_jwt(APIClient(), org.rep.username)["access"]
    phone = APIClient(HTTP_X_DEVICE_ID=WIPED, HTTP_AUTHORIZATION=f"Bearer {token}")

    response = phone.get("/api/v1/me/")

    assert (response.status_code, response.json()["code"]) == (401, "device_wiped")

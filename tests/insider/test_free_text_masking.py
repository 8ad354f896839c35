"""§4 attacks: what a colleague types into free text reaches every reader masked.

A customer writes their mobile with hyphens, a WeChat ID after "vx:" and an ID number in
6-8-4 groups with a wrong check digit; a file is named after the ID card it shows; a lead
pastes a mobile into an in-service transfer's reason; old rows were stored with the weaker
detectors. Each is read back the way an insider would, through the API and the admin, and
the raw value must be nowhere in the response.
"""

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone

from chats.holds import place_legal_hold
from chats.models import Message
from offboarding.models import CustomerTransfer, OffboardingCase
from scrm.audit.models import AccessAction, AccessEvent
from scrm.masking.masks import mask_mobile, mask_name
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.endpoints.harness import response_text
from tests.signin import verified_login

CHAT_TEXT = "我电话139-8765-4321，微信 vx: zhangsan_88，身份证 310101 19900307 1235（校验位错的）"
RAW_IN_CHAT = ("139-8765-4321", "13987654321", "zhangsan_88", "310101 19900307 1235")
MASKED_IN_CHAT = ("139****4321", "zh***88", "3101**********1235")
FILE_NAME = "身份证正反面_310101199003071234_13987654321.jpg"
RAW_IN_FILE = ("310101199003071234", "13987654321")
MASKED_FILE = "身份证正反面_3101**********1234_139****4321.jpg"


def _squeezed(text: str) -> str:
    return text.replace("-", "").replace(" ", "")


def assert_masked(text: str, raw: tuple[str, ...], shown: tuple[str, ...]) -> None:
    leaks = [value for value in raw if value in text or _squeezed(value) in _squeezed(text)]
    assert leaks == [], f"raw values in the response: {leaks}"
    missing = [value for value in shown if value not in text]
    assert missing == [], f"masked values not found (vacuous scan?): {missing}"


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


@pytest.fixture
def chat(org, customers):
    conversation = ConversationFactory(customer=customers.of_rep, owner=org.rep)
    said = MessageFactory(conversation=conversation, text=CHAT_TEXT, sender_staff=None)
    sent = MessageFactory(
        conversation=conversation,
        text="",
        msg_type=Message.Type.FILE,
        attachment_name=FILE_NAME,
        search_tokens="",
    )
    return said, sent


# --- what people type in a chat ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/chats/messages/",
        "/api/v1/chats/search/?q=电话",
        "/api/v1/chats/search/?q=校验位",
    ],
)
def test_a_rep_reads_the_typed_numbers_masked_in_the_api(url, org, chat, api_client_for):
    response = api_client_for(org.rep).get(url)

    assert response.status_code == 200, response.content
    assert_masked(response_text(response), RAW_IN_CHAT, MASKED_IN_CHAT)


def test_a_rep_reads_the_typed_numbers_masked_in_the_timeline(org, customers, chat, api_client_for):
    url = f"/api/v1/customers/{customers.of_rep.pk}/timeline/"

    entries = api_client_for(org.rep).get(url).json()["entries"]

    summaries = "\n".join(e["summary"] for e in entries if e["kind"] == "message")
    assert_masked(summaries, RAW_IN_CHAT + RAW_IN_FILE, (*MASKED_IN_CHAT, MASKED_FILE))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_lead_exports_the_chat_and_the_file_name_masked(fmt, org, chat, api_client_for):
    response = api_client_for(org.lead).get("/api/v1/chats/export/", {"format": fmt})

    assert response.status_code == 200
    assert_masked(
        response_text(response), RAW_IN_CHAT + RAW_IN_FILE, (*MASKED_IN_CHAT, MASKED_FILE)
    )


@pytest.mark.parametrize(
    "url",
    [
        lambda said, sent: "/admin/chats/message/",
        lambda said, sent: f"/admin/chats/message/{said.pk}/change/",
        lambda said, sent: "/admin/chats/message/search/?q=电话",
    ],
)
def test_the_admin_message_pages_show_the_typed_numbers_masked(url, org, chat):
    response = admin_client(org.rep).get(url(*chat))

    assert response.status_code == 200
    assert_masked(response_text(response), RAW_IN_CHAT, MASKED_IN_CHAT)


def test_an_attachment_name_is_masked_in_the_message_api(org, chat, api_client_for):
    _, sent = chat
    client = api_client_for(org.rep)

    detail = client.get(f"/api/v1/chats/messages/{sent.pk}/").json()
    listing = response_text(client.get("/api/v1/chats/messages/"))

    assert detail["attachment_name"] == MASKED_FILE
    assert_masked(listing, RAW_IN_FILE, (MASKED_FILE,))


def test_an_attachment_name_is_masked_on_the_admin_message_page(org, chat):
    _, sent = chat

    response = admin_client(org.rep).get(f"/admin/chats/message/{sent.pk}/change/")

    assert response.status_code == 200
    assert_masked(response_text(response), RAW_IN_FILE, (MASKED_FILE,))


def test_the_admin_timeline_page_shows_the_file_name_masked(org, customers, chat):
    url = f"/admin/chats/message/timeline/{customers.of_rep.pk}/"

    response = admin_client(org.lead).get(url)

    assert response.status_code == 200
    assert_masked(response_text(response), RAW_IN_CHAT + RAW_IN_FILE, (MASKED_FILE,))


def test_a_raw_reader_still_sees_the_attachment_name(org, chat, api_client_for):
    """Legal holds chats.reveal_message: the file name is content like the text."""
    _, sent = chat

    detail = api_client_for(org.legal).get(f"/api/v1/chats/messages/{sent.pk}/").json()

    assert detail["attachment_name"] == FILE_NAME


# --- reasons ----------------------------------------------------------------------------

TRANSFER_REASON = "客户要求换人，回电 139 8765 4321"


@pytest.fixture
def moved(org, customers, api_client_for):
    response = api_client_for(org.lead).post(
        "/api/v1/customers/transfer/",
        {"customers": [customers.of_rep.pk], "to_staff": org.rep_b.pk, "reason": TRANSFER_REASON},
        format="json",
    )
    assert response.status_code == 200, response.content
    return customers.of_rep


def test_an_in_service_transfer_reason_is_masked_in_ownership_history(org, moved, api_client_for):
    detail = api_client_for(org.lead).get(f"/api/v1/customers/{moved.pk}/").json()

    reasons = [p.get("reason") for p in detail["ownership_history"] if p.get("reason")]
    assert reasons == [f"客户要求换人，回电 {mask_mobile('13987654321')}"]


def test_an_in_service_transfer_reason_is_masked_in_the_admin(org, moved):
    # The inline needs customers.view_ownershiptransfer: an administrator's page.
    response = admin_client(org.admin_user).get(f"/admin/customers/customer/{moved.pk}/change/")

    assert response.status_code == 200
    assert_masked(response_text(response), ("139 8765 4321", "13987654321"), ("139****4321",))


@pytest.fixture
def old_case(org, customers):
    """A case and a refused transfer stored before the detectors knew these formats."""
    case = OffboardingCase.objects.create(
        leaver=org.rep_leaving,
        reason="辞职，新号码 139-8765-4321",
        notice_date=timezone.localdate(),
        effective_at=timezone.now(),
        handover_notes="客户只接 +86 139 8765 4321，身份证 310101 19900307 1235",
        created_by=org.hr,
        status=OffboardingCase.Status.CANCELLED,
        cancel_summary="Cancelled by hr: 打 0139 8765 4321",
    )
    CustomerTransfer.objects.create(
        case=case,
        customer=customers.of_leaver,
        from_owner=org.rep_leaving,
        to_owner=org.lead,
        status=CustomerTransfer.Status.REFUSED,
        reason="Refused by the customer: 以后打 139 8765 4321 或加 vx: zhangsan_88",
    )
    return case


RAW_IN_CASE = ("13987654321", "zhangsan_88", "310101199003071235")


@pytest.mark.parametrize(
    "url",
    [
        lambda case: f"/api/v1/offboarding/cases/{case.pk}/",
        lambda case: f"/api/v1/offboarding/cases/{case.pk}/report/",
        lambda case: f"/api/v1/offboarding/cases/{case.pk}/report/csv/",
        lambda case: "/api/v1/offboarding/transfers/",
    ],
)
def test_stored_case_text_is_masked_again_on_the_way_out_in_the_api(
    url, org, old_case, api_client_for
):
    response = api_client_for(org.hr).get(url(old_case))

    assert response.status_code == 200, response.content
    assert_masked(response_text(response), RAW_IN_CASE, ("139****4321",))


@pytest.mark.parametrize(
    "url",
    [
        lambda case: f"/admin/offboarding/offboardingcase/{case.pk}/change/",
        lambda case: f"/admin/offboarding/offboardingcase/{case.pk}/report/",
        lambda case: f"/admin/offboarding/offboardingcase/{case.pk}/report.csv",
        lambda case: "/admin/offboarding/customertransfer/",
    ],
)
def test_stored_case_text_is_masked_again_on_the_way_out_in_the_admin(url, org, old_case):
    response = admin_client(org.hr).get(url(old_case))

    assert response.status_code == 200
    assert_masked(response_text(response), RAW_IN_CASE, ("139****4321",))


def test_an_access_event_reason_stored_before_is_masked_on_the_way_out(org, api_client_for):
    event = AccessEvent.objects.create(
        actor=org.legal,
        action=AccessAction.REVEAL,
        model="customers.customer",
        reason="court order, 客户电话 139-8765-4321",
    )
    client = api_client_for(org.auditor)

    listing = response_text(client.get("/api/v1/audit/events/"))
    export = response_text(client.get("/api/v1/audit/events/export/"))
    page = response_text(
        admin_client(org.auditor).get(f"/admin/audit/accessevent/{event.pk}/change/")
    )

    for text in (listing, export, page):
        assert_masked(text, ("139-8765-4321", "13987654321"), ("139****4321",))


def test_a_legal_hold_reason_is_masked_on_its_admin_page(org, customers):
    hold = place_legal_hold(
        actor=org.legal, customer=customers.of_rep, reason="诉讼，对方律师 139-8765-4321"
    )

    response = admin_client(org.legal).get(f"/admin/chats/legalhold/{hold.pk}/change/")

    assert response.status_code == 200
    assert_masked(response_text(response), ("139-8765-4321", "13987654321"), ("139****4321",))


# --- the change log ---------------------------------------------------------------------


def test_a_renamed_customer_shows_the_policy_masks_in_the_change_log(
    org, customers, api_client_for
):
    customer = customers.of_rep
    old_name = customer.name
    response = api_client_for(org.rep).patch(
        f"/api/v1/customers/{customer.pk}/",
        {"name": "诸葛孔明", "mobile": "13698765432"},
        format="json",
    )
    assert response.status_code == 200, response.content

    entry = LogEntry.objects.get_for_object(customer).latest("id")
    page = response_text(
        admin_client(org.auditor).get(f"/admin/auditlog/logentry/{entry.pk}/change/")
    )

    assert old_name != "诸葛孔明"
    assert entry.changes["name"] == [mask_name(old_name), "诸葛**"]
    assert entry.changes["mobile"][1] == "136****5432"
    assert "诸葛**" in page and "136****5432" in page
    # Not the raw name, nor the generic stub that kept the last character (诸***明).
    assert "诸葛孔明" not in page and "诸***明" not in page and "13698765432" not in page


def test_a_created_customer_is_logged_with_each_fields_mask(org, api_client_for):
    response = api_client_for(org.rep).post(
        "/api/v1/customers/",
        {
            "name": "欧阳娜娜",
            "mobile": "13812345678",
            "wechat_id": "zhangsan_88",
            "address": "上海市浦东新区张江路100号",
        },
        format="json",
    )
    assert response.status_code == 201, response.content

    entry = LogEntry.objects.filter(action=LogEntry.Action.CREATE).latest("id")

    assert {
        field: entry.changes[field][1] for field in ("name", "mobile", "wechat_id", "address")
    } == {
        "name": "欧阳**",
        "mobile": "138****5678",
        "wechat_id": "zh***88",
        "address": "上海市浦东新区***",
    }

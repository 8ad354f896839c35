"""No response shows a raw sensitive value unless it is an explicit, audited reveal.

`SURFACES` lists every read (and write response) a role can reach; each is requested as every
role and the whole body is scanned for the raw values of every customer in the database (read
back through the ORM, i.e. decrypted) and for the sensitive values hidden in chat messages and
follow-up notes (`CONTENT_SECRETS`: a mobile number, a checksummed ID number, an email and a
bank card inside free text). Add a surface (e.g. an admin page) by appending a
`Surface(..., client="admin")`; `assert_no_raw_values(response)` is usable on its own.

A surface that some roles may read raw by an explicit right (chat content for holders of
chats.reveal_message, raw exports for customers.export_raw) names that right in `raw_for`; it
is scanned for every other role, and `test_raw_readers_really_see_raw_content` proves the
secrets are really there to be found.
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from chats.export import RAW, XLSX_CONTENT_TYPE, presentation_for
from chats.ingest import ingest_records
from chats.models import Message, SensitiveWordRule
from customers.models import Customer, OwnershipTransfer
from customers.services import share_customer
from offboarding.services import approve_case, create_case, record_refusal, run_now
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.masking.free_text import shows_raw_content
from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_wechat_id,
)
from scrm.masking.reveal import reveal_field
from scrm.staff import roles
from tests.chats.factories import MessageFactory
from tests.chats.wecom_records import text_record
from tests.conftest import ORG_USERS
from tests.factories import CustomerFactory, FollowUpFactory, StaffFactory
from tests.signin import verified_login

SCANNED_FIELDS = ("name", "mobile", "id_number", "email", "wechat_id", "address")

# Sensitive values people type into free text: chat messages, follow-up notes, handover notes.
CHAT_MOBILE = "15012345678"
CHAT_ID_NUMBER = "440305198506123419"  # passes the GB 11643 checksum
CHAT_EMAIL = "li.lei@corp-mail.example.org"
CHAT_BANK_CARD = "6222021234567890128"  # passes Luhn
CONTENT_SECRETS = {CHAT_MOBILE, CHAT_ID_NUMBER, CHAT_EMAIL, CHAT_BANK_CARD}
SECRET_TEXT = (
    f"我的手机号是{CHAT_MOBILE}，身份证{CHAT_ID_NUMBER}，邮箱{CHAT_EMAIL}，"
    f"卡号{CHAT_BANK_CARD}，请把报价发给我"
)
# --- insider §4: what people actually type ---
# Separators, a wrong check digit, a WeChat ID after "vx:", a card in groups of four and
# full-width digits, in the same message; values that only live in an attachment's file name
# and an in-service transfer's reason are scanned too (OTHER_SECRETS: no raw right shows them
# all on one page, so they stay out of test_raw_readers_really_see_raw_content).
TYPED_MOBILE = "139-8765-4321"
TYPED_ID_NUMBER = "310101 19900307 1235"  # the check digit is wrong: still an ID number
TYPED_WECHAT = "zhangsan_88"
SPACED_CARD = "6225 8812 3456 7898"  # passes Luhn
FULL_WIDTH_MOBILE = "１８６１２３４５６７８"
CONTENT_SECRETS |= {TYPED_MOBILE, TYPED_ID_NUMBER, TYPED_WECHAT, SPACED_CARD, FULL_WIDTH_MOBILE}
SECRET_TEXT += (
    f"；我电话{TYPED_MOBILE}，微信 vx: {TYPED_WECHAT}，身份证 {TYPED_ID_NUMBER}（校验位错的），"
    f"卡 {SPACED_CARD}，备用{FULL_WIDTH_MOBILE}"
)
FILE_ID_NUMBER, FILE_MOBILE = "320106198512120019", "15987654321"
FILE_NAME = f"身份证正反面_{FILE_ID_NUMBER}_{FILE_MOBILE}.jpg"
REASON_MOBILE = "177 1234 5678"
OTHER_SECRETS = {FILE_ID_NUMBER, FILE_MOBILE, REASON_MOBILE}

UrlBuilder = Callable[[SimpleNamespace], str]


# --- the scanner ----------------------------------------------------------------------------


def response_text(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if response.get("Content-Type") == XLSX_CONTENT_TYPE:
        return xlsx_text(content)
    return content.decode()


def xlsx_text(content: bytes) -> str:
    """Every cell of a workbook, one line per row (the file itself is zipped XML)."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        "\t".join("" if value is None else str(value) for value in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def raw_values() -> set[str]:
    """Every raw sensitive value in the customers table, decrypted, and the free-text secrets."""
    values = set(CONTENT_SECRETS) | OTHER_SECRETS
    for customer in Customer.objects.all():
        values.update(getattr(customer, field) for field in SCANNED_FIELDS)
    values.discard("")
    return values


def leaked_values(text: str, values: set[str]) -> set[str]:
    """Raw values found in `text`, as written or as JSON \\u-escapes."""
    escaped = {value: json.dumps(value)[1:-1] for value in values}
    return {value for value in values if value in text or escaped[value] in text}


def assert_no_raw_values(response, values: set[str] | None = None) -> None:
    values = raw_values() if values is None else values
    assert leaked_values(response_text(response), values) == set()


# --- the surfaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    label: str
    url: UrlBuilder
    method: str = "GET"
    body: Callable[[SimpleNamespace], dict] | None = None
    client: str = "api"  # "api": DRF APIClient; "admin": Django test Client, session login
    # Who reads this surface raw by an explicit right (None: nobody); skipped for them.
    raw_for: Callable[[object], bool] | None = None


def fixed(url: str) -> UrlBuilder:
    return lambda w: url


def customer_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/customers/{getattr(w.customers, attr).pk}/{suffix}"


def admin_customer_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/admin/customers/customer/{getattr(w.customers, attr).pk}/{suffix}"


def case_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/api/v1/offboarding/cases/{getattr(w, attr).pk}/{suffix}"


def admin_case_url(attr: str, suffix: str = "") -> UrlBuilder:
    return lambda w: f"/admin/offboarding/offboardingcase/{getattr(w, attr).pk}/{suffix}"


def exports_raw(user) -> bool:
    return presentation_for(user) is RAW


def chat(label: str, url: UrlBuilder, client: str = "api") -> Surface:
    """A surface showing chat content (or notes): raw for holders of chats.reveal_message."""
    return Surface(label, url, client=client, raw_for=shows_raw_content)


CUSTOMER_ATTRS = ("of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated")
NEW_CUSTOMER = {
    # Not one of the factories' names: a creator sees their new customer's name (insider §5),
    # and the scan must not mistake it for another customer's.
    "name": "上官婉儿",
    "mobile": "13812345678",
    "id_number": "11010519491231002X",
    "email": "zhang@example.com",
    "wechat_id": "wxid_ab12389",
    "address": "上海市浦东新区张江路100号",
}

SURFACES: list[Surface] = [
    Surface("customer list", fixed("/api/v1/customers/")),
    Surface("customer list, one per page", fixed("/api/v1/customers/?page_size=1&page=2")),
    Surface("search by name", fixed("/api/v1/customers/?q=张")),
    Surface(
        "search by exact mobile",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_rep.mobile}",
    ),
    *(Surface(f"detail {attr}", customer_url(attr)) for attr in CUSTOMER_ATTRS),
    *(Surface(f"shares of {attr}", customer_url(attr, "shares/")) for attr in CUSTOMER_ATTRS),
    Surface("create", fixed("/api/v1/customers/"), "POST", lambda w: NEW_CUSTOMER),
    Surface(
        "update",
        customer_url("of_rep"),
        "PATCH",
        lambda w: {"mobile": "13698765432", "email": "new.mail@example.com"},
    ),
    Surface("me", fixed("/api/v1/me/")),
    Surface("staff directory", fixed("/api/v1/staff/")),
    Surface("audit events", fixed("/api/v1/audit/events/")),
    Surface("audit events export", fixed("/api/v1/audit/events/export/")),
    Surface("security alerts", fixed("/api/v1/alerts/")),
    # --- chats (API) ---------------------------------------------------------------------
    chat("chat messages", fixed("/api/v1/chats/messages/")),
    chat("chat message with of_rep", lambda w: f"/api/v1/chats/messages/{w.message.pk}/"),
    Surface("chat conversations", fixed("/api/v1/chats/conversations/")),
    Surface(
        "conversation with of_rep", lambda w: f"/api/v1/chats/conversations/{w.conversation.pk}/"
    ),
    chat("chat search, 2 characters", fixed("/api/v1/chats/search/?q=报价")),
    chat("chat search, 3 characters", fixed("/api/v1/chats/search/?q=手机号")),
    Surface("chat export csv", fixed("/api/v1/chats/export/?format=csv"), raw_for=exports_raw),
    Surface("chat export xlsx", fixed("/api/v1/chats/export/?format=xlsx"), raw_for=exports_raw),
    *(chat(f"timeline of {attr}", customer_url(attr, "timeline/")) for attr in CUSTOMER_ATTRS),
    # The follow-up notes and deal products of the timeline, page by page.
    *(chat(f"follow-ups of {attr}", customer_url(attr, "follow-ups/")) for attr in CUSTOMER_ATTRS),
    *(chat(f"deals of {attr}", customer_url(attr, "transactions/")) for attr in CUSTOMER_ATTRS),
    # --- offboarding (API) ---------------------------------------------------------------
    Surface("offboarding cases", fixed("/api/v1/offboarding/cases/")),
    Surface("offboarding case", case_url("case_draft")),
    Surface("offboarding preview", case_url("case_draft", "preview/")),
    Surface("handover report", case_url("case_done", "report/")),
    Surface("handover report csv", case_url("case_done", "report/csv/")),
    Surface("offboarding transfers", fixed("/api/v1/offboarding/transfers/")),
    # --- the admin -----------------------------------------------------------------------
    Surface("admin: customer changelist", fixed("/admin/customers/customer/"), client="admin"),
    Surface(
        "admin: customer name search", fixed("/admin/customers/customer/?q=张"), client="admin"
    ),
    *(
        Surface(
            f"admin: change form of {attr}", admin_customer_url(attr, "change/"), client="admin"
        )
        for attr in CUSTOMER_ATTRS
    ),
    Surface(
        "admin: customer dashboard", fixed("/admin/customers/customer/dashboard/"), client="admin"
    ),
    chat("admin: message changelist", fixed("/admin/chats/message/"), client="admin"),
    chat(
        "admin: message with of_rep",
        lambda w: f"/admin/chats/message/{w.message.pk}/change/",
        client="admin",
    ),
    chat("admin: chat search page", fixed("/admin/chats/message/search/?q=报价"), client="admin"),
    *(
        chat(
            f"admin: timeline page of {attr}",
            lambda w, attr=attr: f"/admin/chats/message/timeline/{getattr(w.customers, attr).pk}/",
            client="admin",
        )
        for attr in CUSTOMER_ATTRS
    ),
    chat(
        "admin: conversation thread with of_rep",
        lambda w: f"/admin/chats/message/thread/{w.conversation.pk}/",
        client="admin",
    ),
    *(
        Surface(
            f"admin: follow-up form of {attr}",
            admin_customer_url(attr, "follow-up/"),
            client="admin",
        )
        for attr in CUSTOMER_ATTRS
    ),
    Surface("admin: conversation changelist", fixed("/admin/chats/conversation/"), client="admin"),
    Surface(
        "admin: conversation with of_rep",
        lambda w: f"/admin/chats/conversation/{w.conversation.pk}/change/",
        client="admin",
    ),
    Surface("admin: access events", fixed("/admin/audit/accessevent/"), client="admin"),
    Surface(
        "admin: access events export", fixed("/admin/audit/accessevent/export/"), client="admin"
    ),
    Surface(
        "admin: a reveal's access event",
        lambda w: f"/admin/audit/accessevent/{w.reveal_event.pk}/change/",
        client="admin",
    ),
    Surface("admin: security alerts", fixed("/admin/audit/securityalert/"), client="admin"),
    Surface("admin: change log", fixed("/admin/auditlog/logentry/"), client="admin"),
    Surface(
        "admin: change log of one customer",
        lambda w: f"/admin/auditlog/logentry/?customer_id={w.customers.of_rep.pk}",
        client="admin",
    ),
    Surface(
        "admin: ownership history",
        fixed("/admin/customers/ownershiptransfer/"),
        client="admin",
    ),
    Surface(
        "admin: a security alert",
        lambda w: f"/admin/audit/securityalert/{w.alert.pk}/change/",
        client="admin",
    ),
    chat(
        "admin: the message of a security alert",
        lambda w: f"/admin/chats/message/alert/{w.alert.pk}/",
        client="admin",
    ),
    *(
        Surface(
            f"admin: change log entry of {name}",
            lambda w, name=name: f"/admin/auditlog/logentry/{w.log_entries[name].pk}/change/",
            client="admin",
        )
        for name in ("customer", "follow-up", "offboarding case", "transfer")
    ),
    Surface(
        "admin: offboarding cases", fixed("/admin/offboarding/offboardingcase/"), client="admin"
    ),
    Surface("admin: offboarding case", admin_case_url("case_draft", "change/"), client="admin"),
    Surface("admin: offboarding preview", admin_case_url("case_draft", "preview/"), client="admin"),
    Surface("admin: handover report", admin_case_url("case_done", "report/"), client="admin"),
    Surface(
        "admin: handover report csv", admin_case_url("case_done", "report.csv"), client="admin"
    ),
    Surface(
        "admin: offboarding transfers",
        fixed("/admin/offboarding/customertransfer/"),
        client="admin",
    ),
    # --- insider §4: attachment names (the transfer reason is on the detail surfaces) ---
    chat("chat file message", lambda w: f"/api/v1/chats/messages/{w.file_message.pk}/"),
    chat(
        "admin: file message",
        lambda w: f"/admin/chats/message/{w.file_message.pk}/change/",
        client="admin",
    ),
    # --- insider §6: group rooms (their messages also run through every list above) ---------
    chat("chat message in a group room", lambda w: f"/api/v1/chats/messages/{w.room_message.pk}/"),
    Surface("group room conversation", lambda w: f"/api/v1/chats/conversations/{w.room.pk}/"),
    chat("chat search in a group room", fixed("/api/v1/chats/search/?q=群里说")),
    chat(
        "admin: message in a group room",
        lambda w: f"/admin/chats/message/{w.room_message.pk}/change/",
        client="admin",
    ),
    Surface(
        "admin: group room conversation",
        lambda w: f"/admin/chats/conversation/{w.room.pk}/change/",
        client="admin",
    ),
    # --- insider §2: lookups and searches ---
    Surface(
        "search by exact ID number",
        lambda w: f"/api/v1/customers/?id_number={w.customers.of_rep.id_number}",
    ),
    chat("chat search for digits of a hidden middle", fixed("/api/v1/chats/search/?q=1234")),
    # --- insider §5 ---
    Surface("admin: masking matrix", fixed("/admin/masking-matrix/"), client="admin"),
    # --- identity change log: the API over the same entries ---
    Surface("change log", fixed("/api/v1/audit/changes/?page_size=200")),
    Surface("change log of customers", fixed("/api/v1/audit/changes/?model=customers.customer")),
    *(
        Surface(
            f"change log entry of {name}",
            lambda w, name=name: f"/api/v1/audit/changes/{w.log_entries[name].pk}/",
        )
        for name in ("customer", "follow-up", "offboarding case", "transfer")
    ),
    Surface(
        "admin: change log of one staff member",
        lambda w: f"/admin/auditlog/logentry/?staff={w.org.rep.pk}",
        client="admin",
    ),
    Surface(
        "admin: reassign owner page",
        fixed("/admin/customers/customer/"),
        "POST",
        lambda w: {
            "action": "reassign_owner",
            "_selected_action": [getattr(w.customers, a).pk for a in CUSTOMER_ATTRS],
        },
        client="admin",
    ),
]


@pytest.fixture
def world(org, customers):
    """The org with some history: a share, searches and reveals already in the audit trail."""
    share_customer(actor=org.rep_b, customer=customers.of_rep_b, with_staff=org.rep)
    raw_mobile = customers.of_rep.mobile
    for user in (org.rep, org.legal):
        client = APIClient()
        client.force_authenticate(user=user)
        client.get("/api/v1/customers/", {"mobile": raw_mobile})
        client.get("/api/v1/customers/", {"mobile": f"+86 {raw_mobile[:3]} {raw_mobile[3:]}"})
    reveal_field(
        actor=org.legal,
        obj=customers.of_rep,
        field="id_number",
        reason=f"court order about {raw_mobile}, id {customers.of_rep.id_number}",
        channel="api",
    )
    reveal_event = AccessEvent.objects.filter(action=AccessAction.REVEAL).latest("id")
    chats = chat_archive(org, customers)
    chats.update(insider_s4_content(org, customers, chats["conversation"]))
    cases = offboarding_cases(org, customers)
    # Searching the archive for a raw number puts it in the audit trail's query (masked there).
    for user in (org.rep, org.legal):
        client = APIClient()
        client.force_authenticate(user=user)
        client.get("/api/v1/chats/search/", {"q": CHAT_MOBILE})
        client.get("/api/v1/chats/search/", {"q": raw_mobile})
    # insider §2: names typed by a role that sees names masked land in the trail masked.
    client = APIClient()
    client.force_authenticate(user=org.auditor)
    client.get("/api/v1/chats/search/", {"q": customers.of_rep.name})
    client.get("/api/v1/customers/", {"q": customers.of_rep.name})  # refused, recorded
    return SimpleNamespace(
        org=org,
        customers=customers,
        reveal_event=reveal_event,
        log_entries=log_entries(customers, cases),
        **chats,
        **cases,
    )


def chat_archive(org, customers) -> dict:
    """Each sales customer writes the secrets (and their own raw contacts) into a chat, through
    the real ingest, which also raises a sensitive-word alert; each has a follow-up note with
    the same values."""
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    SensitiveWordRule.objects.create(pattern="身份证", severity="high")
    records = []
    owners = {"of_rep": org.rep, "of_other_team": org.rep_other_team, "of_unrelated": None}
    owners["of_unrelated"] = customers.of_unrelated.owner
    for attr, owner in owners.items():
        customer = getattr(customers, attr)
        owner.wecom_userid = owner.username
        owner.save()
        customer.wecom_external_userid = f"wm-{attr}"
        customer.save()
        own = f"。备用号码{customer.mobile}，邮箱{customer.email}"
        records.append(text_record(owner.username, f"wm-{attr}", "您好，报价单已发送"))
        records.append(text_record(f"wm-{attr}", owner.username, SECRET_TEXT + own))
        FollowUpFactory(
            customer=customer,
            note=f"客户留了手机{CHAT_MOBILE}、邮箱{CHAT_EMAIL}、身份证{CHAT_ID_NUMBER}{own}",
        )
    # --- insider §6: a group room (rep_other_team, of_rep, of_other_team) where the secrets
    # and a customer's raw contacts are typed too; its messages are filed under the room.
    members = ["rep_other_team", "wm-of_rep", "wm-of_other_team"]
    for sender, content in (
        ("wm-of_other_team", SECRET_TEXT + f"，备用{customers.of_other_team.mobile}"),
        ("wm-of_rep", f"群里说：{customers.of_rep.email}，{CHAT_BANK_CARD}"),
    ):
        room = text_record(sender, "", content, roomid="room-masking")
        room["tolist"] = [m for m in members if m != sender]
        records.append(room)
    results = ingest_records(records=records, actor=sync)
    assert {r.status for r in results} == {"created"}, [r.as_dict() for r in results]
    message = Message.objects.get(pk=results[1].id)  # of_rep's secrets
    room_message = Message.objects.get(pk=results[-2].id)
    return {
        "message": message,
        "alert": SecurityAlert.objects.filter(model="chats.message", object_id=message.pk).first(),
        "conversation": message.conversation,
        "room_message": room_message,
        "room": room_message.conversation,
    }


def insider_s4_content(org, customers, conversation) -> dict:
    """A file named after the ID card it shows, and an in-service transfer of of_rep (stored
    as its history row: the owner stays, so the other surfaces keep their scope) whose reason
    quotes a mobile."""
    file_message = MessageFactory(
        conversation=conversation,
        text="",
        msg_type=Message.Type.FILE,
        attachment_name=FILE_NAME,
        search_tokens="",
    )
    OwnershipTransfer.objects.create(
        customer=customers.of_rep,
        from_owner=org.rep_b,
        to_owner=org.rep,
        actor=org.lead,
        reason=f"客户要求换人，回电 {REASON_MOBILE}",
    )
    return {"file_message": file_message}


def offboarding_cases(org, customers) -> dict:
    """A draft case whose handover notes quote a customer's raw mobile (names cannot be detected
    in prose; numbers and emails can), and a case that ran, with one transfer the customer
    refused (the reason quotes a number too)."""
    today = timezone.localdate()
    effective_at = timezone.now() + timedelta(days=30)
    leaver_done = StaffFactory(username="leaver_done", roles=[roles.SALES_REP], team=org.team1)
    CustomerFactory(owner=leaver_done)
    for leaver in (org.rep_leaving, leaver_done):
        leaver.supervisor = org.lead
        leaver.save()

    def case_of(leaver, notes=""):
        return create_case(
            actor=org.hr,
            leaver=leaver,
            reason="resigned",
            notice_date=today,
            effective_at=effective_at,
            successors=[org.rep_b],
            handover_notes=notes,
        )

    of_leaver = customers.of_leaver
    draft = case_of(
        org.rep_leaving,
        f"客户#{of_leaver.pk}只接{of_leaver.mobile}的电话，身份证{CHAT_ID_NUMBER}，邮箱{CHAT_EMAIL}",
    )
    done = run_now(actor=org.hr, case=approve_case(actor=org.lead, case=case_of(leaver_done)))
    assert done.status == "completed", done.error
    record_refusal(
        actor=org.hr, transfer=done.transfers.get(), reason=f"客户要求以后打{CHAT_MOBILE}联系"
    )
    return {"case_draft": draft, "case_done": done}


def log_entries(customers, cases) -> dict:
    from auditlog.models import LogEntry

    def latest(obj):
        return LogEntry.objects.get_for_object(obj).latest("id")

    return {
        "customer": latest(customers.of_rep),
        "follow-up": latest(customers.of_rep.follow_ups.get()),
        "offboarding case": latest(cases["case_draft"]),
        "transfer": latest(cases["case_done"].transfers.get()),
    }


def request(surface: Surface, user, world):
    if surface.client == "admin":
        client = Client()
        verified_login(client, user)
    else:
        client = APIClient()
        client.force_authenticate(user=user)
    call = getattr(client, surface.method.lower())
    url = surface.url(world)
    if surface.body is None:
        return call(url)
    if surface.client == "admin":
        return call(url, surface.body(world))
    return call(url, surface.body(world), format="json")


@pytest.mark.parametrize("role", ORG_USERS)
def test_no_response_shows_a_raw_value(role, world):
    user = getattr(world.org, role)
    leaks = []
    for surface in SURFACES:
        if surface.raw_for is not None and surface.raw_for(user):
            continue  # read raw by right: test_raw_readers_really_see_raw_content
        with transaction.atomic():
            response = request(surface, user, world)
            # Read the values inside the savepoint, so a create/update's new values count.
            found = leaked_values(response_text(response), raw_values() - book_names(user))
            transaction.set_rollback(True)
        if found:
            leaks.append(f"{surface.label} ({response.status_code}): {sorted(found)}")
    assert not leaks, "\n".join(leaks)


def test_surfaces_were_really_reached(world, api_client_for):
    """Guard against a vacuous scan: the owner gets real data back from the customer surfaces."""
    client = api_client_for(world.org.admin_user)

    listing = client.get("/api/v1/customers/").json()
    events = client.get("/api/v1/audit/events/").json()

    assert listing["count"] == Customer.objects.count() == 6  # five + the leaver_done's one
    assert events["count"] > 0


MASKED_SECRETS = (
    "150****5678",
    "4403**********3419",
    "l***@corp-mail.example.org",
    "6222***********0128",
)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("rep", "/api/v1/chats/messages/"),
        ("rep", "/api/v1/chats/search/?q=报价"),
        ("lead", "/api/v1/chats/export/?format=csv"),
        ("auditor", "/api/v1/chats/export/?format=csv"),
        ("manager_other", "/admin/chats/message/"),
        ("lead", "/admin/chats/message/search/?q=报价"),
    ],
)
def test_chat_surfaces_show_the_secrets_masked(role, url, world):
    """Guard against a vacuous scan: the secrets are there, in their masked shape."""
    client = Client()
    verified_login(client, getattr(world.org, role))

    text = response_text(client.get(url))

    for shown in MASKED_SECRETS:
        assert shown in text


def test_timeline_shows_the_follow_up_note_masked(world, api_client_for):
    url = f"/api/v1/customers/{world.customers.of_rep.pk}/timeline/"

    entries = api_client_for(world.org.lead).get(url).json()["entries"]

    [note] = [e["summary"] for e in entries if e["kind"] == "follow_up"]
    assert "150****5678" in note and "4403**********3419" in note


def test_offboarding_free_text_is_masked_and_the_preview_lists_masked_names(world, api_client_for):
    client = api_client_for(world.org.lead)
    of_leaver = world.customers.of_leaver

    case = client.get(f"/api/v1/offboarding/cases/{world.case_draft.pk}/").json()
    preview = client.get(f"/api/v1/offboarding/cases/{world.case_draft.pk}/preview/").json()
    report = client.get(f"/api/v1/offboarding/cases/{world.case_done.pk}/report/").json()

    assert mask_mobile(of_leaver.mobile) in case["handover_notes"]
    # insider §5: the leaver's lead sees the names of the team's customers; str() stays masked.
    assert preview["assignments"] == [
        {
            "customer_id": of_leaver.pk,
            "customer": f"{of_leaver.name} (#{of_leaver.pk})",
            "to": "rep_b",
        }
    ]
    assert str(of_leaver) == f"{mask_name(of_leaver.name)} (#{of_leaver.pk})"
    [transfer] = report["transfers"]
    assert transfer["status"] == "refused"
    assert "150****5678" in transfer["reason"]


@pytest.mark.parametrize("role", ["legal", "admin_user"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/chats/messages/",
        "/api/v1/chats/export/?format=csv",
        "/admin/chats/message/search/?q=报价",
    ],
)
def test_raw_readers_really_see_raw_content(role, url, world):
    """The skipped (role, surface) pairs are skipped for a reason: they hold the raw right."""
    user = getattr(world.org, role)
    assert shows_raw_content(user) and exports_raw(user)
    client = Client()
    verified_login(client, user)

    text = response_text(client.get(url))

    assert leaked_values(text, CONTENT_SECRETS) >= CONTENT_SECRETS


# --- the masks' exact shapes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "raw", "shown"),
    [
        (mask_mobile, "13812345678", "138****5678"),
        (mask_id_number, "11010519491231002X", "1101**********002X"),
        (mask_email, "zhang@example.com", "z***@example.com"),
        (mask_wechat_id, "wxid_ab12389", "wx***89"),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧阳**"),
        (mask_address, "上海市浦东新区张江路100号", "上海市浦东新区***"),
    ],
)
def test_mask_shapes(mask, raw, shown):
    assert mask(raw) == shown


def test_api_renders_every_field_through_its_mask(rep, api_client_for):
    response = api_client_for(rep).post(
        "/api/v1/customers/", {**NEW_CUSTOMER, "name": "张三"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {field: body[field] for field in NEW_CUSTOMER} == {
        "name": "张三",  # insider §5: the creator owns it, and a rep sees their own names
        "mobile": "138****5678",
        "id_number": "1101**********002X",
        "email": "z***@example.com",
        "wechat_id": "wx***89",
        "address": "上海市浦东新区***",
    }


def test_compound_surname_keeps_both_characters_in_lists(rep, auditor, api_client_for):
    CustomerFactory(owner=rep, name="欧阳娜娜")

    # The auditor: a role that sees names masked (insider §5: the owner sees them raw).
    rows = api_client_for(auditor).get("/api/v1/customers/").json()["results"]

    assert [row["name"] for row in rows] == ["欧阳**"]


def test_owner_sees_masked_values_until_an_explicit_reveal(rep, api_client_for):
    customer = CustomerFactory(owner=rep, mobile="13812345678")
    client = api_client_for(rep)

    detail = client.get(f"/api/v1/customers/{customer.pk}/")
    revealed = client.post(
        f"/api/v1/customers/{customer.pk}/reveal/",
        {"field": "mobile", "reason": "calling back"},
        format="json",
    )

    assert detail.json()["mobile"] == "138****5678"
    assert revealed.json() == {"field": "mobile", "value": "13812345678"}


# --- insider §4: the typed variants are there, masked (guard against a vacuous scan) ---


def test_typed_variants_file_names_and_transfer_reasons_are_shown_masked(world, api_client_for):
    client = api_client_for(world.org.lead)

    messages = response_text(client.get("/api/v1/chats/messages/"))
    detail = client.get(f"/api/v1/customers/{world.customers.of_rep.pk}/").json()

    for shown in ("139****4321", "zh***88", "3101**********1235", "6225********7898"):
        assert shown in messages
    assert "186****5678" in messages
    assert "身份证正反面_3201**********0019_159****4321.jpg" in messages
    reasons = [p.get("reason") or "" for p in detail["ownership_history"]]
    assert "客户要求换人，回电 177****5678" in reasons


# --- insider §6: group rooms ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_other_team", "manager", "legal"])
def test_group_room_messages_are_there_to_be_scanned(role, world, api_client_for):
    """The room surfaces are not vacuous: the room's members' scopes read its messages, with
    the secrets raw for legal (chats.reveal_message) and masked for the others."""
    user = getattr(world.org, role)

    response = api_client_for(user).get(f"/api/v1/chats/messages/{world.room_message.pk}/")

    assert response.status_code == 200
    found = leaked_values(response_text(response), CONTENT_SECRETS)
    assert found == (CONTENT_SECRETS if shows_raw_content(user) else set())


# --- insider §5 ---
# The masking matrix shows sales roles the names of their book's customers (own / team /
# department, not shares; not in the notice period): the scan allows exactly those names for
# that viewer, worked out here from the org chart (not through the code under test). A name
# also borne by a customer outside the book stays forbidden: the scan cannot tell them apart.


def book_names(user) -> set[str]:
    from django.db.models import Q

    from scrm.staff.models import Staff

    if user.employment_status != "active":
        return set()
    owners = Q(pk__in=[])
    if roles.SALES_REP in user.role_names:
        owners |= Q(pk=user.pk)
    if roles.TEAM_LEAD in user.role_names and user.team_id:
        owners |= Q(team_id=user.team_id)
    if roles.SALES_MANAGER in user.role_names and user.department_id:
        tree = user.department.descendant_ids()
        owners |= Q(department_id__in=tree) | Q(team__department_id__in=tree)
    book = Staff.objects.filter(owners)
    inside = set(Customer.objects.filter(owner__in=book).values_list("name", flat=True))
    outside = set(Customer.objects.exclude(owner__in=book).values_list("name", flat=True))
    return inside - outside


@pytest.mark.parametrize(
    ("role", "raw_names"),
    [
        ("rep", {"of_rep"}),
        ("rep_b", {"of_rep_b"}),  # "done" was refused and routed to the lead
        ("rep_other_team", {"of_other_team"}),
        ("lead", {"of_rep", "of_rep_b", "of_leaver", "done"}),
        ("manager", {"of_rep", "of_rep_b", "of_leaver", "of_other_team", "done"}),
        ("manager_other", {"of_unrelated"}),
        *((role, set()) for role in ("hr", "legal", "auditor", "security", "admin_user")),
    ],
)
def test_book_names_are_the_matrix_not_everyone(role, raw_names, world):
    """Guard against a scan that allows too much: the allowed names are exactly the book's."""
    done = world.case_done.transfers.get().customer
    named = {attr: getattr(world.customers, attr).name for attr in CUSTOMER_ATTRS}
    named["done"] = done.name

    assert book_names(getattr(world.org, role)) == {named[attr] for attr in raw_names}

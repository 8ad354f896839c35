"""The one world every endpoint battery runs in (tests/endpoints/registry.py names its objects).

Built in layers, each through the real services where the services matter:
- `base_world`: the organisation and one customer per owner (tests/conftest.py); rep_b has
  shared of_rep_b with rep (`share`); rep logged a follow-up and a deal on of_rep; a chat with
  of_rep (`conversation`, two messages: `message` is the first, sent now, so inside every
  history window) and one with of_unrelated (`unrelated_conversation`); an access event and a
  sensitive-word alert; rep_other_team's group room in which of_rep spoke (`room`).
- `world`: the base plus offboarding, all of team1 leavers whose supervisor is `lead`:
  `case_draft` (rep_leaving, draft, handover notes quoting raw values), `case_approved`
  (approved, ready to schedule or run) and `case_done` (run: its one customer `transferred`
  went to rep_b by `transfer`, its `ownership_change`; a share the leaver gave was revoked:
  `revoked_share`); and a legal `hold` on the unrelated department's chat.
- `masking_world`: the world plus `world.secrets`, free text full of sensitive values (chats
  through the real ingest, follow-up notes, a file name, a transfer reason, a refused transfer)
  and an audit trail of searches and reveals, for the masking battery.

The offboarding layer costs a run of the offboarding task, so the audit battery builds it only
for the endpoints that need it (`Endpoint.needs`).
"""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from chats.holds import place_legal_hold
from chats.ingest import ingest_records
from chats.models import ConversationCustomer, Message, SensitiveWordRule
from customers.models import Customer, OwnershipTransfer
from customers.services import add_follow_up, add_transaction, share_customer
from offboarding.services import approve_case, create_case, record_refusal, run_now
from scrm.audit.models import AccessAction, AccessEvent, Channel
from scrm.audit.services import raise_alert, record_access
from scrm.masking.reveal import reveal_field
from scrm.staff import roles
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.chats.wecom_records import text_record
from tests.factories import CustomerFactory, FollowUpFactory, StaffFactory
from tests.signin import api_client

CUSTOMER_ATTRS = ("of_rep", "of_rep_b", "of_leaver", "of_other_team", "of_unrelated")

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


# --- the base ---------------------------------------------------------------------------------


def build_base(org, customers) -> SimpleNamespace:
    share = share_customer(actor=org.rep_b, customer=customers.of_rep_b, with_staff=org.rep)
    follow_up = add_follow_up(actor=org.rep, customer=customers.of_rep, note="called")
    deal = add_transaction(
        actor=org.rep,
        customer=customers.of_rep,
        date=timezone.localdate(),
        product="plan",
        amount=Decimal("10.00"),
    )
    conversation = ConversationFactory(customer=customers.of_rep)
    rep_messages = [
        MessageFactory(conversation=conversation, text="您好，报价单已发送"),
        MessageFactory(conversation=conversation, text="报价收到了，谢谢"),
    ]
    unrelated_conversation = ConversationFactory(customer=customers.of_unrelated)
    unrelated_message = MessageFactory(conversation=unrelated_conversation, text="报价单第二版")
    event = record_access(
        actor=org.rep,
        action=AccessAction.VIEW,
        model=Customer,
        object_ids=[customers.of_rep.pk],
        channel=Channel.API,
    )
    alert = raise_alert(
        kind="sensitive_word",
        message=f"Message #{rep_messages[0].pk} matches a rule.",
        obj=rep_messages[0],
    )
    # insider §6: a group room of rep_other_team in which rep's customer spoke
    room = ConversationFactory(customer=None, owner=org.rep_other_team, room_id="room-matrix")
    room.staff.add(org.rep_other_team)
    ConversationCustomer.objects.create(conversation=room, customer=customers.of_rep)
    room_message = MessageFactory(
        conversation=room, sender_customer=customers.of_rep, sender_staff=None
    )
    return SimpleNamespace(
        org=org,
        customers=customers,
        share=share,
        follow_up=follow_up,
        deal=deal,
        conversation=conversation,
        message=rep_messages[0],
        rep_messages=rep_messages,
        unrelated_conversation=unrelated_conversation,
        unrelated_message=unrelated_message,
        event=event,
        alert=alert,
        room=room,
        room_message=room_message,
    )


# --- offboarding ------------------------------------------------------------------------------


def add_cases(world: SimpleNamespace) -> SimpleNamespace:
    """Three cases of team1 leavers (supervisor: lead), through the real services."""
    org, of_leaver = world.org, world.customers.of_leaver
    today = timezone.localdate()
    effective_at = timezone.now() + timedelta(days=30)

    def case_of(leaver, notes: str = ""):
        leaver.supervisor = org.lead
        leaver.save()
        return create_case(
            actor=org.hr,
            leaver=leaver,
            reason="resigned",
            notice_date=today,
            effective_at=effective_at,
            successors=[org.rep_b],
            handover_notes=notes,
        )

    def new_leaver(username):
        return StaffFactory(username=username, roles=[roles.SALES_REP], team=org.team1)

    # The leaver of "open an offboarding case" needs a supervisor to approve it (insider §1).
    org.rep.supervisor = org.lead
    org.rep.save()
    approved = approve_case(actor=org.lead, case=case_of(new_leaver("leaver_approved")))
    done_leaver = new_leaver("leaver_done")
    transferred = CustomerFactory(owner=done_leaver)
    # insider §7: a share the leaver gave, revoked by the run (case_done.revoked_shares)
    share_customer(actor=done_leaver, customer=transferred, with_staff=org.rep_other_team)
    done = run_now(actor=org.hr, case=approve_case(actor=org.lead, case=case_of(done_leaver)))
    assert done.status == "completed", done.error
    # The handover notes quote a customer's raw mobile (names cannot be detected in prose;
    # numbers and emails can): the masking battery reads them back masked.
    notes = (
        f"客户#{of_leaver.pk}只接{of_leaver.mobile}的电话，身份证{CHAT_ID_NUMBER}，邮箱{CHAT_EMAIL}"
    )
    vars(world).update(
        case_draft=case_of(org.rep_leaving, notes),
        case_approved=approved,
        case_done=done,
        transfer=done.transfers.get(),
        transferred=transferred,
        ownership_change=OwnershipTransfer.objects.get(customer=transferred),
        revoked_share=done.revoked_shares.get(),
        # a hold on the unrelated department's chat: its admin pages are scoped reads too
        hold=place_legal_hold(
            actor=org.legal, conversation=world.unrelated_conversation, reason="litigation"
        ),
    )
    return world


# --- the secrets the masking battery looks for -----------------------------------------------


def add_secrets(world: SimpleNamespace) -> SimpleNamespace:
    """`world.secrets`: chats, notes and an audit trail full of raw sensitive values."""
    org, customers = world.org, world.customers
    # The org with some history: searches and reveals already in the audit trail.
    raw_mobile = customers.of_rep.mobile
    for user in (org.rep, org.legal):
        client = api_client(user)
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
    secrets = SimpleNamespace(reveal_event=reveal_event, **_chat_archive(org, customers))
    secrets.file_message = _insider_s4_content(org, customers, secrets.conversation)
    # A refused transfer whose reason quotes a number: the customer is routed to the lead.
    record_refusal(actor=org.hr, transfer=world.transfer, reason=f"客户要求以后打{CHAT_MOBILE}联系")
    # Searching the archive for a raw number puts it in the audit trail's query (masked there).
    for user in (org.rep, org.legal):
        client = api_client(user)
        client.get("/api/v1/chats/search/", {"q": CHAT_MOBILE})
        client.get("/api/v1/chats/search/", {"q": raw_mobile})
    # insider §2: names typed by a role that sees names masked land in the trail masked.
    client = api_client(org.auditor)
    client.get("/api/v1/chats/search/", {"q": customers.of_rep.name})
    client.get("/api/v1/customers/", {"q": customers.of_rep.name})  # refused, recorded

    def latest(obj) -> LogEntry:
        return LogEntry.objects.get_for_object(obj).latest("id")

    secrets.log_entries = {
        "customer": latest(customers.of_rep),
        "follow-up": latest(secrets.follow_up),
        "offboarding case": latest(world.case_draft),
        "transfer": latest(world.transfer),
    }
    world.secrets = secrets
    return world


def _chat_archive(org, customers) -> dict:
    """Each sales customer writes the secrets (and their own raw contacts) into a chat, through
    the real ingest, which also raises a sensitive-word alert; each has a follow-up note with
    the same values."""
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    SensitiveWordRule.objects.create(pattern="身份证", severity="high")
    records = []
    follow_ups = {}
    owners = {
        "of_rep": org.rep,
        "of_other_team": org.rep_other_team,
        "of_unrelated": customers.of_unrelated.owner,
    }
    for attr, owner in owners.items():
        customer = getattr(customers, attr)
        owner.wecom_userid = owner.username
        owner.save()
        customer.wecom_external_userid = f"wm-{attr}"
        customer.save()
        own = f"。备用号码{customer.mobile}，邮箱{customer.email}"
        records.append(text_record(owner.username, f"wm-{attr}", "您好，报价单已发送"))
        records.append(text_record(f"wm-{attr}", owner.username, SECRET_TEXT + own))
        follow_ups[attr] = FollowUpFactory(
            customer=customer,
            note=f"客户留了手机{CHAT_MOBILE}、邮箱{CHAT_EMAIL}、身份证{CHAT_ID_NUMBER}{own}",
        )
    # insider §6: a group room (rep_other_team, of_rep, of_other_team) where the secrets
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
        "alert": message_alert(message),
        "conversation": message.conversation,
        "room_message": room_message,
        "room": room_message.conversation,
        "follow_up": follow_ups["of_rep"],
    }


def message_alert(message):
    from scrm.audit.models import SecurityAlert

    return SecurityAlert.objects.filter(model="chats.message", object_id=message.pk).first()


def _insider_s4_content(org, customers, conversation) -> Message:
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
    return file_message


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def base_world(org, customers) -> SimpleNamespace:
    return build_base(org, customers)


@pytest.fixture
def world(base_world) -> SimpleNamespace:
    return add_cases(base_world)


@pytest.fixture
def masking_world(world) -> SimpleNamespace:
    return add_secrets(world)

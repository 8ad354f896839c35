"""`manage.py seed_demo`: the demo organisation every role signs in to, created idempotently,
with a chat archive stored through ingest and the stories told through the services.

Seeding the archive takes seconds, so the tests that only read the demo share one seed per
module (`demo`, rolled back at the end); each test still runs in its own savepoint."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from chats.models import (
    Conversation,
    ConversationCustomer,
    LegalHold,
    Message,
    SensitiveWordRule,
)
from chats.retention import purge_expired_messages
from customers.management.demo.archive import split
from customers.management.demo.stories import LEAVERS
from customers.models import Customer, FollowUp, Tag, Transaction, mobile_index
from offboarding.models import CaseStep, CustomerTransfer, OffboardingCase, RevokedShare
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.masking.masks import mask_mobile
from scrm.masking.validation import is_valid_id_number, validate_mobile
from scrm.staff import roles
from scrm.staff.models import Department, Notification, Staff, Team
from tests.signin import api_client

EXPECTED_ROLES = {
    "manager1": roles.SALES_MANAGER,
    "lead1": roles.TEAM_LEAD,
    "lead2": roles.TEAM_LEAD,
    "rep1": roles.SALES_REP,
    "rep10": roles.SALES_REP,
    "rep11": roles.SALES_REP,
    "rep20": roles.SALES_REP,
    "hr1": roles.HR,
    "legal1": roles.LEGAL,
    "auditor1": roles.AUDITOR,
    "security1": roles.SECURITY_OFFICER,
}
CUSTOMERS = 30
LEAVER_CUSTOMERS = sum(leaver.customers for leaver in LEAVERS)
README_REPS = [f"rep{number}" for number in range(1, 21)]
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", **{"customers": CUSTOMERS, **options}, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo seeded once for this module (--customers 30, the default archive), inside a
    transaction rolled back after the module's last test."""
    media = tmp_path_factory.mktemp("demo-media")
    # DEBUG: seed_demo refuses to run without it (pytest turns it off).
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, PASSWORD_HASHERS=FAST_HASHER, MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        output = seed()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off (pytest turns it off)
    settings.PASSWORD_HASHERS = FAST_HASHER  # speed
    settings.MEDIA_ROOT = str(tmp_path)
    return settings


def row_counts() -> dict[str, int]:
    models = [
        Department,
        Team,
        Staff,
        Tag,
        Customer,
        FollowUp,
        Transaction,
        Customer.tags.through,
        Message,
        Conversation,
        ConversationCustomer,
        SensitiveWordRule,
        OffboardingCase,
        CaseStep,
        CustomerTransfer,
        RevokedShare,
        LegalHold,
        AccessEvent,
        SecurityAlert,
        Notification,
    ]
    return {model._meta.label: model.objects.count() for model in models}


def staff(username: str) -> Staff:
    return Staff.objects.get(username=username)


def demo_messages():
    return Message.objects.filter(external_id__startswith="demo-")


# --- on an empty database ------------------------------------------------------------------
# These come first: the module's shared `demo` is set up at its first use and stays until the
# module's last test.


def test_without_demo_customers_the_leavers_still_chat_and_leave(db, demo_settings):
    # `--customers 0` (tests/identity seeds that way): only the leavers have customers.
    seed(customers=0, messages=1000)

    assert Customer.objects.count() == LEAVER_CUSTOMERS
    assert demo_messages().count() == 1000
    leavers = {leaver.username for leaver in LEAVERS}
    assert set(demo_messages().values_list("staff__username", flat=True)) <= leavers
    assert set(OffboardingCase.objects.values_list("status", flat=True)) == set(
        OffboardingCase.Status.values
    )
    # No rep1 customer to reveal on: only legal's reveal of the held customer.
    reveals = AccessEvent.objects.filter(action=AccessAction.REVEAL)
    assert set(reveals.values_list("actor__username", flat=True)) == {"legal1"}


def test_split_divides_exactly_in_proportion():
    assert split(10, [1, 1, 3]) == [2, 2, 6]
    assert sum(split(6000, [1.0] * 7 + [3.0] * 5)) == 6000
    assert split(5, []) == []


def test_seed_demo_rejects_a_negative_customer_count(db, demo_settings):
    with pytest.raises(CommandError, match="--customers"):
        call_command("seed_demo", customers=-5, stdout=StringIO())
    with pytest.raises(CommandError, match="--messages"):
        call_command("seed_demo", messages=-1, stdout=StringIO())
    assert not Staff.objects.exists()


def test_seed_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", customers=1, stdout=StringIO())


# --- the organisation ----------------------------------------------------------------------


def test_seed_demo_creates_every_role_with_its_group(db, demo):
    for username, role in EXPECTED_ROLES.items():
        member = staff(username)
        assert set(member.groups.values_list("name", flat=True)) == {role}, username
        assert member.is_staff and member.is_active
        assert member.check_password("scrm-demo-2026")
    admin = staff("admin")
    assert admin.is_superuser and admin.is_staff
    # rep1-rep20 (the README's logins) and the seven leavers rep21-rep27.
    assert Staff.objects.filter(username__regex=r"^rep\d+$").count() == 27
    assert Group.objects.get(name=roles.SALES_REP).user_set.count() == 27


def test_the_readme_reps_are_untouched_by_offboarding(db, demo):
    reps = Staff.objects.filter(username__in=README_REPS)
    assert reps.count() == 20
    assert all(rep.is_active and rep.employment_status == "active" for rep in reps)
    assert not OffboardingCase.objects.filter(leaver__in=reps).exists()
    leavers = set(OffboardingCase.objects.values_list("leaver__username", flat=True))
    assert leavers == {leaver.username for leaver in LEAVERS}
    assert leavers == {f"rep{number}" for number in range(21, 28)}


def test_seed_demo_builds_the_sales_hierarchy(db, demo):
    manager, lead1, rep1, rep11 = (staff(name) for name in ("manager1", "lead1", "rep1", "rep11"))
    assert manager.department.name == "销售部"
    assert lead1.supervisor == manager and lead1.team.name == "一组"
    assert rep1.supervisor == lead1 and rep1.team == lead1.team
    assert rep1.department == rep1.team.department
    assert rep1.department.parent == manager.department
    assert rep11.supervisor.username == "lead2" and rep11.team.name == "二组"
    assert staff("rep24").supervisor.username == "lead2"
    # The manager's department scope reaches every rep's customers through the tree, the
    # leavers' (and what they handed over) included.
    assert Customer.objects.visible_to(manager).count() == CUSTOMERS + LEAVER_CUSTOMERS
    assert Customer.objects.visible_to(rep1).count() == 2  # 30 round-robin over 20 reps


def test_staff_wecom_userid_is_the_username_and_the_service_account_has_none(db, demo):
    for member in Staff.objects.exclude(username="wecom-sync"):
        assert member.wecom_userid == member.username
    service = staff("wecom-sync")
    assert service.wecom_userid is None
    assert not service.is_staff and service.has_usable_password()
    assert not service.groups.exists()
    assert service.has_perm("chats.ingest_message")
    assert not service.has_perm("customers.view_customer")


def test_demo_customers_have_valid_mainland_mobiles_and_id_numbers(db, demo):
    customers = list(Customer.objects.all())
    assert len(customers) == CUSTOMERS + LEAVER_CUSTOMERS  # ingest created no unknown sender
    for customer in customers:
        validate_mobile(customer.mobile)
        assert is_valid_id_number(customer.id_number), customer.id_number
        assert customer.mobile_bidx == mobile_index(customer.mobile)
        assert customer.wecom_external_userid.startswith("wm")
    assert Customer.objects.filter(mobile_bidx=mobile_index(customers[0].mobile)).count() == 1


def test_demo_mobiles_are_encrypted_in_the_table(db, demo):
    mobiles = list(Customer.objects.values_list("mobile", flat=True))

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer")
        table = repr(cursor.fetchall())

    assert mobiles and not [mobile for mobile in mobiles if mobile in table]


# --- the chat archive ------------------------------------------------------------------------


def test_the_archive_holds_thousands_of_messages_over_two_hundred_days(db, demo):
    messages = demo_messages()
    now = timezone.now()
    cutoff = now - timedelta(days=settings.SCRM_CHAT_RETENTION_DAYS)

    assert messages.count() == Message.objects.count() >= 5000
    oldest = messages.order_by("sent_at").first().sent_at
    newest = messages.order_by("-sent_at").first().sent_at
    assert now - timedelta(days=200) <= oldest <= now - timedelta(days=180)
    assert now - timedelta(days=1) <= newest <= now
    assert messages.filter(sent_at__lt=cutoff).count() >= 50  # the retention purge's
    # Every rep's last week has something for their 7-day history window.
    for username in ("rep1", "rep11", "rep20"):
        recent = messages.filter(sent_at__gte=now - timedelta(days=7), staff__username=username)
        assert recent.count() >= 5, username
    # Chinese text, from both sides of each conversation.
    text = messages.filter(msg_type=Message.Type.TEXT)
    assert text.filter(text__contains="报价").exists()
    assert text.filter(sender_staff__isnull=True).exists()
    assert text.filter(sender_staff__isnull=False).exists()


def test_the_archive_went_through_ingest(db, demo):
    messages = demo_messages()
    text = messages.exclude(text="")
    assert not text.filter(search_tokens="").exists()
    assert not messages.filter(masked_text__isnull=True).exists()  # masked search computed
    assert not messages.filter(digest="").exists()
    assert all(len(digest) == 64 for digest in messages.values_list("digest", flat=True)[:50])
    # Private chats: the rep's conversation with one customer, owned by whoever holds it now.
    private = Conversation.objects.filter(room_id="")
    assert not private.filter(customer__isnull=True).exists()
    assert not private.filter(owner__isnull=True).exists()


def test_group_rooms_have_several_customers_and_their_staff(db, demo):
    rooms = Conversation.objects.exclude(room_id="")
    assert rooms.count() >= 2
    for room in rooms:
        assert room.title and room.customer_id is None
        linked = ConversationCustomer.objects.filter(conversation=room).count()
        assert linked >= 2, room.title
        assert room.staff.exists()
        assert Message.objects.filter(conversation=room).count() >= 20
    rep1_room = rooms.get(staff__username="rep1")
    assert set(rep1_room.staff.values_list("username", flat=True)) == {"rep1", "lead1"}


def test_the_archive_has_images_files_and_revoked_messages(db, demo):
    messages = demo_messages()
    images = messages.filter(msg_type=Message.Type.IMAGE)
    files = messages.filter(msg_type=Message.Type.FILE)
    assert images.count() >= 20 and files.count() >= 20
    for message in [*images[:3], *files[:3]]:
        assert message.attachment.name and len(message.attachment_sha256) == 64
        content = message.attachment.read()
        assert len(content) == message.attachment_size
        assert content.startswith(b"\x89PNG" if message.msg_type == "image" else b"%PDF")
    assert files.filter(attachment_name__endswith=".pdf").count() == files.count()
    assert files.filter(attachment_content_type="application/pdf").count() == files.count()
    revoked = messages.filter(revoked_at__isnull=False)
    assert revoked.count() >= 5
    assert messages.filter(msg_type=Message.Type.REVOKE).count() == revoked.count()
    for message in revoked[:5]:
        assert message.revoked_at > message.sent_at


def test_the_retention_purge_has_something_to_purge_and_the_hold_keeps_some(db, demo):
    hold = LegalHold.objects.get()
    assert hold.placed_by.username == "legal1" and hold.released_at is None

    dry = purge_expired_messages(dry_run=True)

    assert dry.deleted >= 50
    assert dry.held >= 1
    assert dry.attachments_deleted >= 1


@pytest.mark.parametrize("keyword", ["报价", "合同", "发货"])
def test_a_rep_finds_chinese_keywords_through_the_search_api(db, demo, keyword):
    rep = staff("rep1")

    response = api_client(rep, second_factor=False).get("/api/v1/chats/search/", {"q": keyword})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results
    for row in results:
        assert keyword in row["text"] or keyword in row["attachment_name"]
    # Only their own conversations: their customers' chats and their rooms.
    visible = set(Message.objects.visible_to(rep).values_list("pk", flat=True))
    assert {row["id"] for row in results} <= visible


def test_phone_numbers_in_chat_text_are_masked_for_a_rep(db, demo):
    recent = timezone.now() - timedelta(days=6)
    candidates = demo_messages().filter(
        sent_at__gte=recent,
        msg_type=Message.Type.TEXT,
        customer__owner__username__in=README_REPS,
    )
    message = next(m for m in candidates.order_by("-sent_at") if m.customer.mobile in m.text)
    number = message.customer.mobile
    rep = message.customer.owner
    client = api_client(rep, second_factor=False)

    timeline = client.get(f"/api/v1/customers/{message.customer_id}/timeline/")
    listed = client.get(f"/api/v1/chats/messages/{message.pk}/")

    assert timeline.status_code == 200 and listed.status_code == 200
    entry = next(e for e in timeline.json()["entries"] if e["id"] == message.pk)
    assert number not in timeline.content.decode()
    assert mask_mobile(number) in entry["summary"]
    assert number not in listed.content.decode()
    assert mask_mobile(number) in listed.json()["text"]


def test_id_numbers_emails_and_addresses_in_chat_text_are_masked(db, demo):
    with_id = demo_messages().filter(text__contains="身份证号是", sender_customer__isnull=False)
    assert with_id.exists()
    for message in with_id:
        assert message.sender_customer.id_number in message.text
        assert message.sender_customer.id_number not in message.masked_text
    assert demo_messages().filter(text__contains="邮箱", masked_text__contains="***").exists()
    assert demo_messages().filter(text__contains="地址是", masked_text__contains="***").exists()


# --- follow-ups, cases, alerts, access events ----------------------------------------------


def test_several_reps_have_follow_ups_due_today_and_some_overdue(db, demo):
    today = timezone.localdate()
    open_ = FollowUp.objects.filter(done=False, staff__username__in=README_REPS)
    due_today = open_.filter(due_at__date=today)
    overdue = open_.filter(due_at__lt=timezone.now() - timedelta(days=1))

    assert len(set(due_today.values_list("staff__username", flat=True))) >= 5
    assert len(set(overdue.values_list("staff__username", flat=True))) >= 2
    # Each on the rep's own customer.
    assert all(f.customer.owner_id == f.staff_id for f in due_today.select_related("customer"))


def test_an_offboarding_case_in_every_state_with_its_history(db, demo):
    cases = {case.status: case for case in OffboardingCase.objects.select_related("leaver")}
    hr1 = staff("hr1")

    assert set(cases) == set(OffboardingCase.Status.values)
    for status, case in cases.items():
        assert case.created_by == hr1, status
        assert case.approver == case.leaver.supervisor, status
        assert case.steps.count() == len(CaseStep.Name.values)
        if status != OffboardingCase.Status.DRAFT:
            assert case.approved_by == case.approver, status  # the leaver's supervisor
        actors = set(
            LogEntry.objects.get_for_object(case).values_list("actor__username", flat=True)
        )
        assert "hr1" in actors, status
    assert cases["draft"].approved_by is None
    assert cases["scheduled"].scheduled_task.enabled
    completed = cases["completed"]
    assert set(completed.steps.values_list("status", flat=True)) == {CaseStep.Status.DONE}
    assert not Customer.objects.filter(owner=completed.leaver).exists()
    assert completed.transfers.filter(status=CustomerTransfer.Status.REFUSED).exists()
    assert completed.revoked_shares.exists()
    assert not completed.leaver.is_active and completed.leaver.employment_status == "departed"
    running = cases["running"]
    transfer = running.steps.get(name=CaseStep.Name.TRANSFER)
    assert (transfer.status, running.steps.get(name=CaseStep.Name.FREEZE).status) == (
        CaseStep.Status.RUNNING,
        CaseStep.Status.DONE,
    )
    assert 0 < transfer.done < transfer.total
    assert Customer.objects.filter(owner=running.leaver).count() == transfer.total - transfer.done
    failed = cases["failed"]
    assert "也在离职中" in failed.error  # "leaving too"
    assert Customer.objects.filter(owner=failed.leaver).exists()  # nothing moved
    cancelled = cases["cancelled"]
    assert cancelled.cancel_summary and cancelled.leaver.employment_status == "active"
    assert cases["approved"].leaver.employment_status == "notice"


def test_security_alerts_come_from_ingest_the_read_budget_and_the_lockout(db, demo):
    assert SensitiveWordRule.objects.filter(active=True).count() >= 2
    alerts = SecurityAlert.objects.all()
    kinds = set(alerts.values_list("kind", flat=True))

    assert {"sensitive_word", "login_lockout", "notice_bulk_reads"} <= kinds
    words = alerts.filter(kind="sensitive_word")
    assert words.count() >= 5
    assert words.filter(severity="high").exists()
    flagged = Message.objects.filter(pk__in=words.values_list("object_id", flat=True))
    assert all(
        any(word in m.text for word in ("回扣", "私下转账", "私人微信", "返点")) for m in flagged
    )
    assert alerts.get(kind="login_lockout").actor.username == "rep21"
    assert alerts.get(kind="notice_bulk_reads").actor.username == "rep24"


def test_auditors_see_reveals_and_exports_of_today(db, demo):
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = AccessEvent.objects.filter(at__gte=start_of_today)

    reveals = today.filter(action=AccessAction.REVEAL)
    exports = today.filter(action=AccessAction.EXPORT)
    assert {"legal1", "rep1"} <= set(reveals.values_list("actor__username", flat=True))
    assert all(event.reason for event in reveals)
    assert {"lead1", "legal1"} <= set(exports.values_list("actor__username", flat=True))
    assert today.filter(action=AccessAction.LOGIN_FAILED).count() >= 5
    assert today.filter(flagged=True, actor__username="rep24").exists()


def test_the_summary_counts_each_kind(db, demo):
    for label in (
        "customers",
        "leavers' customers",
        "chat messages",
        "group rooms",
        "due follow-ups",
        "offboarding cases",
        "security alerts",
        "access events",
    ):
        assert re.search(rf"^  {re.escape(label)} +\d+ created", demo, re.MULTILINE), label
    assert "Offboarding cases: rep21 completed, rep22 running" in demo
    assert "rep21..rep27" in demo


# --- idempotency and guards ------------------------------------------------------------------


def test_running_seed_demo_twice_creates_nothing_new(db, demo, demo_settings):
    first = row_counts()

    output = seed()

    assert row_counts() == first
    assert "0 created, 30 already there" in output
    assert re.search(r"chat messages +0 created, \d+ already there", output)


def test_if_empty_skips_a_seeded_database(db, demo, demo_settings):
    first = row_counts()

    output = seed(if_empty=True)

    assert "demo data not seeded" in output
    assert row_counts() == first

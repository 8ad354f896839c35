"""Investigation pages (issue 11 item 5): who read a customer, who moved it, what changed, and
the message behind an alert; each scoped, masked and recorded."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from chats.alerts import alerts_for_messages
from chats.models import SensitiveWordRule
from customers.models import OwnershipTransfer
from customers.services import update_customer
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.audit.services import record_access
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.signin import verified_login

EVENTS = "/admin/audit/accessevent/"
HISTORY = "/admin/customers/ownershiptransfer/"
CHANGE_LOG = "/admin/auditlog/logentry/"
RAW_PHONE = "13912345678"


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def read(actor, customer, action=AccessAction.VIEW) -> AccessEvent:
    return record_access(
        actor=actor,
        action=action,
        model="customers.customer",
        object_ids=[customer.pk],
        channel="admin",
    )


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {event.pk for event in response.context["cl"].result_list}


# --- 1. the access-event list ------------------------------------------------------------------


def test_events_filter_by_customer_id_actor_action_and_time(org, customers):
    by_rep = read(org.rep, customers.of_rep)
    by_lead = read(org.lead, customers.of_rep_b)
    listed_by_rep = record_access(
        actor=org.rep,
        action=AccessAction.LIST,
        model="customers.customer",
        object_ids=[customers.of_rep_b.pk, customers.of_rep.pk],
        channel="admin",
    )
    old = AccessEvent.objects.create(
        at=timezone.now() - timedelta(days=10),
        actor=org.rep,
        action=AccessAction.VIEW,
        model="customers.customer",
        object_ids=[customers.of_rep.pk],
        channel="admin",
    )
    client = admin_client(org.auditor)
    mine = {by_rep.pk, by_lead.pk, listed_by_rep.pk, old.pk}

    assert listed(client.get(EVENTS, {"customer_id": customers.of_rep.pk})) == {
        by_rep.pk,
        listed_by_rep.pk,
        old.pk,
    }
    assert listed(client.get(EVENTS, {"actor__id__exact": org.lead.pk})) & mine == {by_lead.pk}
    assert listed(client.get(EVENTS, {"action__exact": "list"})) & mine == {listed_by_rep.pk}
    since = timezone.localtime() - timedelta(days=1)
    recent = client.get(
        EVENTS,
        {
            "customer_id": customers.of_rep.pk,
            "at_from_0": since.strftime("%Y-%m-%d"),
            "at_from_1": since.strftime("%H:%M:%S"),
        },
    )
    assert listed(recent) == {by_rep.pk, listed_by_rep.pk}
    assert listed(client.get(EVENTS, {"customer_id": "abc"})) == set()  # no 500


def test_event_list_shows_names_short_columns_and_links_the_customer(org, customers):
    read(org.rep, customers.of_rep)

    page = admin_client(org.auditor).get(EVENTS, {"customer_id": customers.of_rep.pk})

    html = page.content.decode()
    assert org.rep.display_name in html
    assert f"/admin/customers/customer/{customers.of_rep.pk}/change/" in html  # auditor may open
    assert "访问记录" in html  # Chinese
    headers = page.context["cl"].list_display
    assert len(headers) <= 6


def test_security_sees_the_event_but_no_link_to_a_customer_it_may_not_open(org, customers):
    read(org.rep, customers.of_rep)

    html = admin_client(org.security).get(EVENTS).content.decode()

    assert f"#{customers.of_rep.pk}" in html
    assert f"/admin/customers/customer/{customers.of_rep.pk}/change/" not in html


# --- 2. ownership history ----------------------------------------------------------------------


def moved(customer, from_owner, to_owner, actor, reason="reassigned") -> OwnershipTransfer:
    return OwnershipTransfer.objects.create(
        customer=customer, from_owner=from_owner, to_owner=to_owner, actor=actor, reason=reason
    )


def history_of(user, customer):
    return admin_client(user).get(HISTORY, {"customer_id": customer.pk})


def test_rep_cannot_open_ownership_history(org, customers):
    moved(customers.of_other_team, org.rep_b, org.rep_other_team, org.manager)

    assert history_of(org.rep, customers.of_other_team).status_code == 403
    assert history_of(org.rep, customers.of_rep).status_code == 403


def test_lead_sees_own_team_history_only_manager_and_auditor_see_it(org, customers):
    other = moved(customers.of_other_team, org.rep_b, org.rep_other_team, org.manager)
    own = moved(customers.of_rep, org.rep_b, org.rep, org.lead, reason=f"客户电话{RAW_PHONE}")

    assert listed(history_of(org.lead, customers.of_other_team)) == set()
    assert listed(history_of(org.lead, customers.of_rep)) == {own.pk}
    lead = admin_client(org.lead)
    assert lead.get(f"{HISTORY}{other.pk}/change/").status_code == 302  # not found for them
    for reader in (org.manager, org.auditor):
        page = history_of(reader, customers.of_other_team)
        assert listed(page) == {other.pk}
        assert org.manager.display_name in page.content.decode()
    page = history_of(org.auditor, customers.of_rep)
    assert RAW_PHONE not in page.content.decode()  # the reason is masked


def test_reading_ownership_history_is_recorded_against_the_customer(org, customers):
    move = moved(customers.of_rep, org.rep_b, org.rep, org.lead)

    history_of(org.auditor, customers.of_rep)
    admin_client(org.auditor).get(f"{HISTORY}{move.pk}/change/")

    events = AccessEvent.objects.filter(actor=org.auditor, model="customers.customer")
    assert [(e.action, e.object_ids, e.query["view"]) for e in events.order_by("id")] == [
        (AccessAction.LIST, [customers.of_rep.pk], "ownership history"),
        (AccessAction.VIEW, [customers.of_rep.pk], "ownership history"),
    ]


def test_customer_page_links_its_history_for_readers_only(org, customers):
    link = f"{HISTORY}?customer_id={customers.of_rep.pk}"
    url = f"/admin/customers/customer/{customers.of_rep.pk}/change/"

    assert link in admin_client(org.lead).get(url).content.decode()
    assert link not in admin_client(org.rep).get(url).content.decode()


# --- 3. alerts -----------------------------------------------------------------------------------


def alerted_message(org, customers):
    conversation = ConversationFactory(customer=customers.of_rep)
    MessageFactory(conversation=conversation, text="您好，报价单已发送")
    message = MessageFactory(
        conversation=conversation, text=f"私下转账给我，代付，手机{RAW_PHONE}联系"
    )
    rule = SensitiveWordRule.objects.create(pattern="代付", severity="high")
    row = {"id": message.pk, "text": message.text, "sender_staff_id": message.sender_staff_id}
    (alert,) = alerts_for_messages([row])
    return message, rule, alert


def test_alert_shows_rule_word_and_a_masked_excerpt(org, customers):
    message, rule, alert = alerted_message(org, customers)

    page = admin_client(org.security).get(f"/admin/audit/securityalert/{alert.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f"规则 #{rule.pk}" in html and "代付" in html and "私下转账" in html
    assert RAW_PHONE not in html
    assert f"/admin/chats/message/alert/{alert.pk}/" in html
    assert RAW_PHONE not in SecurityAlert.objects.get(pk=alert.pk).message


def test_security_opens_the_alerted_message_masked_and_the_read_is_recorded(org, customers):
    message, _rule, alert = alerted_message(org, customers)

    page = admin_client(org.security).get(f"/admin/chats/message/alert/{alert.pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "私下转账" in html and "报价单已发送" in html  # the message in its conversation
    assert RAW_PHONE not in html
    event = AccessEvent.objects.filter(actor=org.security, model="chats.message").latest("id")
    assert (event.action, event.allowed) == (AccessAction.VIEW, True)
    assert message.pk in event.object_ids
    # Their access is not widened: the message itself is still outside their archive scope.
    security = admin_client(org.security)
    assert security.get(f"/admin/chats/message/{message.pk}/change/").status_code in (302, 403)


def test_a_rep_cannot_open_the_alerted_message_page(org, customers):
    _message, _rule, alert = alerted_message(org, customers)

    assert admin_client(org.rep).get(f"/admin/chats/message/alert/{alert.pk}/").status_code == 403
    denied = AccessEvent.objects.filter(actor=org.rep, model="chats.message").latest("id")
    assert denied.allowed is False


def test_an_alert_about_no_message_answers_404(org):
    alert = SecurityAlert.objects.create(kind="login_lockout", message="locked")

    response = admin_client(org.security).get(f"/admin/chats/message/alert/{alert.pk}/")

    assert response.status_code == 404


# --- 4. the change log per customer --------------------------------------------------------------


def test_change_log_per_customer_shows_translated_fields_and_masks(org, customers):
    new_mobile = "13700001111"
    update_customer(actor=org.rep, customer=customers.of_rep, company="新公司", mobile=new_mobile)
    update_customer(actor=org.rep_b, customer=customers.of_rep_b, company="别的公司")

    page = admin_client(org.auditor).get(CHANGE_LOG, {"customer_id": customers.of_rep.pk})

    assert page.status_code == 200
    entries = list(page.context["cl"].result_list)
    assert entries and {e.object_id for e in entries} == {customers.of_rep.pk}
    html = page.content.decode()
    assert "公司" in html and "新公司" in html  # field names in Chinese
    assert "手机" in html
    assert new_mobile not in html  # stored and shown masked
    assert "别的公司" not in html

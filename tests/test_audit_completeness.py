"""Every read of customer data leaves one access event; every change leaves a change-log entry.

Reads are recorded by the API's scoped viewsets (`scrm.api.viewsets`) and the admin's
changelist/change views, changes by django-auditlog. Nobody can edit or delete either kind of
row through any interface, and on PostgreSQL not even with raw SQL.

`READS` is the table of every read path (API and admin): who reads what, the status they get,
and the one event it must leave (action, model, the ids it showed, allowed or denied). Add a
read path by appending a `Read`; `test_every_read_path_writes_exactly_one_event` runs them all.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from customers.models import (
    Customer,
    CustomerUserObjectPermission,
    OwnershipTransfer,
    mobile_index,
)
from customers.services import share_customer
from offboarding.services import approve_case, create_case, run_now
from scrm.audit.models import AccessAction, AccessEvent, Channel, ReadBlock, SecurityAlert
from scrm.staff import roles
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.factories import CustomerFactory, StaffFactory
from tests.signin import verified_login

USER_AGENT = "scrm-mobile/1.0 (test)"
CLIENT_IP = "10.1.2.3"


def new_events(since_id: int, **filters):
    return list(AccessEvent.objects.filter(pk__gt=since_id, **filters).order_by("id"))


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def client_of(api_client_for):
    """An API client that also sends a user agent and a client address, like a phone would."""

    def build(user):
        client = api_client_for(user)
        client.defaults.update(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR=CLIENT_IP)
        return client

    return build


# --- reads ----------------------------------------------------------------------------------


def test_a_list_writes_one_event_with_exactly_the_ids_on_the_page(org, customers, client_of):
    since = last_event_id()

    response = client_of(org.admin_user).get("/api/v1/customers/?page_size=2&page=2")

    shown = [row["id"] for row in response.json()["results"]]
    assert len(shown) == 2
    events = new_events(since)
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.object_ids, event.allowed) == (AccessAction.LIST, shown, True)
    assert event.actor == org.admin_user
    assert event.model == "customers.customer"
    assert event.query == {"page_size": "2", "page": "2"}


def test_an_empty_list_is_recorded_too(org, client_of):
    since = last_event_id()

    client_of(org.rep).get("/api/v1/customers/")

    [event] = new_events(since)
    assert (event.action, event.object_ids) == (AccessAction.LIST, [])


def test_a_detail_writes_a_view_event(org, customers, client_of):
    since = last_event_id()

    response = client_of(org.rep).get(f"/api/v1/customers/{customers.of_rep.pk}/")

    assert response.status_code == 200
    [event] = new_events(since)
    assert (event.action, event.object_ids, event.allowed) == (
        AccessAction.VIEW,
        [customers.of_rep.pk],
        True,
    )


def test_events_carry_ip_user_agent_path_and_channel(org, customers, client_of):
    since = last_event_id()
    url = f"/api/v1/customers/{customers.of_rep.pk}/"

    client_of(org.rep).get(url)

    [event] = new_events(since)
    assert (event.channel, event.ip, event.user_agent, event.path) == (
        Channel.API,
        CLIENT_IP,
        USER_AGENT,
        url,
    )


def test_a_reveal_writes_a_reveal_event_with_field_and_reason(org, customers, client_of):
    since = last_event_id()

    response = client_of(org.rep).post(
        f"/api/v1/customers/{customers.of_rep.pk}/reveal/",
        {"field": "wechat_id", "reason": "adding the customer on WeChat"},
        format="json",
    )

    assert response.status_code == 200
    [event] = new_events(since)
    assert event.action == AccessAction.REVEAL
    assert event.allowed is True
    assert event.fields == ["wechat_id"]
    assert event.reason == "adding the customer on WeChat"
    assert event.object_ids == [customers.of_rep.pk]


def test_an_out_of_scope_detail_answers_404_and_is_recorded_as_denied(org, customers, client_of):
    since = last_event_id()

    response = client_of(org.rep).get(f"/api/v1/customers/{customers.of_unrelated.pk}/")

    assert response.status_code == 404
    [event] = new_events(since)
    assert (event.action, event.allowed, event.object_ids) == (
        AccessAction.DENIED,
        False,
        [customers.of_unrelated.pk],
    )
    assert event.actor == org.rep


def test_a_nonexistent_id_answers_like_an_out_of_scope_one(org, customers, client_of):
    missing = Customer.objects.order_by("-pk").first().pk + 1000
    client = client_of(org.rep)

    hidden = client.get(f"/api/v1/customers/{customers.of_unrelated.pk}/")
    absent = client.get(f"/api/v1/customers/{missing}/")

    assert (hidden.status_code, hidden.json()) == (absent.status_code, absent.json())


@pytest.mark.parametrize(
    ("role", "status"),
    [("auditor", 403), ("rep_other_team", 404)],
    ids=["visible-without-reveal-right", "out-of-scope"],
)
def test_a_denied_reveal_is_recorded(role, status, org, customers, client_of):
    since = last_event_id()

    response = client_of(getattr(org, role)).post(
        f"/api/v1/customers/{customers.of_rep.pk}/reveal/",
        {"field": "mobile", "reason": "curious"},
        format="json",
    )

    assert response.status_code == status
    [event] = new_events(since)
    assert (event.action, event.allowed, event.object_ids) == (
        AccessAction.DENIED,
        False,
        [customers.of_rep.pk],
    )


@pytest.mark.parametrize(
    "typed", ["13912345678", "+86 139 1234 5678", "139-1234-5678", "+8613912345678"]
)
def test_a_mobile_search_is_stored_masked(typed, org, client_of):
    CustomerFactory(owner=org.rep, mobile="13912345678")
    since = last_event_id()

    response = client_of(org.rep).get(f"/api/v1/customers/?{urlencode({'mobile': typed})}")

    assert response.json()["count"] == 1
    [event] = new_events(since)
    # The blind index (a keyed HMAC, insider §2) is the investigator's handle on the number;
    # its hex digits are not the number and are left out of the scan.
    assert event.query["mobile_bidx"] == mobile_index("13912345678")
    shown = {k: v for k, v in event.query.items() if not k.endswith("_bidx")}
    stored = json.dumps(shown, ensure_ascii=False)
    digits = "".join(ch for ch in stored if ch.isdigit())
    assert "13912345678" not in digits
    assert "1234" not in stored  # the hidden middle digits are gone in any formatting
    assert event.query["mobile"].endswith("5678")


def test_a_reveal_reason_is_stored_without_raw_numbers(org, customers, client_of):
    since = last_event_id()
    raw_mobile = customers.of_rep.mobile

    client_of(org.rep).post(
        f"/api/v1/customers/{customers.of_rep.pk}/reveal/",
        {"field": "mobile", "reason": f"customer says {raw_mobile} is outdated"},
        format="json",
    )

    [event] = new_events(since)
    assert raw_mobile not in event.reason
    assert event.reason.startswith("customer says ")


def test_reads_by_staff_in_their_notice_period_are_flagged(org, customers, client_of):
    since = last_event_id()

    client_of(org.rep_leaving).get(f"/api/v1/customers/{customers.of_leaver.pk}/")
    client_of(org.rep).get(f"/api/v1/customers/{customers.of_rep.pk}/")

    assert [(e.actor, e.flagged) for e in new_events(since)] == [
        (org.rep_leaving, True),
        (org.rep, False),
    ]


def test_auditors_can_find_every_event_that_touched_a_customer(org, customers, client_of):
    client_of(org.rep).get("/api/v1/customers/")  # a list showing of_rep among others
    client_of(org.lead).get(f"/api/v1/customers/{customers.of_rep.pk}/")
    client_of(org.rep_b).get(f"/api/v1/customers/{customers.of_rep.pk}/")  # denied
    client_of(org.rep_b).get(f"/api/v1/customers/{customers.of_rep_b.pk}/")  # another customer

    response = client_of(org.auditor).get(f"/api/v1/audit/events/?customer={customers.of_rep.pk}")

    rows = response.json()["results"]
    assert sorted((row["actor_username"], row["action"]) for row in rows) == [
        ("lead", "view"),
        ("rep", "list"),
        ("rep_b", "denied"),
    ]


# --- every read path, API and admin ---------------------------------------------------------

LIST, VIEW, SEARCH, EXPORT, DENIED, REVEAL = (
    AccessAction.LIST,
    AccessAction.VIEW,
    AccessAction.SEARCH,
    AccessAction.EXPORT,
    AccessAction.DENIED,
    AccessAction.REVEAL,
)
CUSTOMER, MESSAGE, CONVERSATION = "customers.customer", "chats.message", "chats.conversation"
Ids = Callable[[SimpleNamespace], list[int]]


@dataclass(frozen=True)
class Read:
    label: str
    role: str
    url: Callable[[SimpleNamespace], str]
    status: int
    action: str
    model: str
    ids: Ids  # world -> the ids the event must hold (order aside)
    client: str = "api"  # "api": DRF APIClient; "admin": Django test Client, session login
    method: str = "GET"
    body: Callable[[SimpleNamespace], dict] | None = None
    query: dict = field(default_factory=dict)  # must be contained in the event's query
    offboarding: bool = False  # needs the offboarding cases in the world (`cases` fixture)

    @property
    def allowed(self) -> bool:
        return self.action != DENIED


def pk(path: str) -> Ids:
    """The id of one world object, e.g. pk("customers.of_rep")."""

    def ids(w) -> list[int]:
        obj = w
        for name in path.split("."):
            obj = obj[int(name)] if name.isdigit() else getattr(obj, name)
        return [obj.pk]

    return ids


def rep_messages(w) -> list[int]:
    return [m.pk for m in w.rep_messages]


def team1_customers(w) -> list[int]:
    return [w.customers.of_rep.pk, w.customers.of_rep_b.pk, w.customers.of_leaver.pk]


def nothing(w) -> list[int]:
    return []


ALERT = "audit.securityalert"


def earlier_events() -> list[int]:
    """The access events that existed before the read (all but the read's own, the newest)."""
    return list(AccessEvent.objects.order_by("-id").values_list("id", flat=True)[1:])


def messages_url(suffix: str = "") -> Callable[[SimpleNamespace], str]:
    return lambda w: f"/api/v1/chats/messages/{suffix}"


def admin_change(model: str, path: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: f"/admin/{model}/{pk(path)(w)[0]}/change/"


def alert_page(w) -> str:
    """The page of a sensitive-word alert about rep's first message (created on first use)."""
    alert, _ = SecurityAlert.objects.get_or_create(
        kind="sensitive_word",
        model="chats.message",
        object_id=w.rep_messages[0].pk,
        defaults={"message": "matches"},
    )
    return f"/admin/chats/message/alert/{alert.pk}/"


CASES = "/api/v1/offboarding/cases/"
CASES_ADMIN = "/admin/offboarding/offboardingcase/"

READS: list[Read] = [
    # --- chats, API ------------------------------------------------------------------------
    Read("api chat messages", "lead", messages_url(), 200, LIST, MESSAGE, rep_messages),
    Read(
        "api chat message",
        "rep",
        lambda w: f"/api/v1/chats/messages/{w.rep_messages[0].pk}/",
        200,
        VIEW,
        MESSAGE,
        pk("rep_messages.0"),
    ),
    Read(
        "api chat message out of scope",
        "rep_b",
        lambda w: f"/api/v1/chats/messages/{w.rep_messages[0].pk}/",
        404,
        DENIED,
        MESSAGE,
        pk("rep_messages.0"),
    ),
    Read(
        "api hide a message out of scope",
        "rep",
        lambda w: f"/api/v1/chats/messages/{w.unrelated_message.pk}/hide/",
        404,
        DENIED,
        MESSAGE,
        pk("unrelated_message"),
        method="POST",
    ),
    Read(
        "api chat search",
        "manager",
        lambda w: "/api/v1/chats/search/?q=报价",
        200,
        SEARCH,
        MESSAGE,
        rep_messages,
        query={"q": "报价"},
    ),
    Read(
        "api chat export",
        "lead",
        lambda w: f"/api/v1/chats/export/?format=csv&customer={w.customers.of_rep.pk}",
        200,
        EXPORT,
        MESSAGE,
        nothing,  # an export records its filters and row count, not millions of ids
        query={"format": "csv", "row_count": 2},
    ),
    Read(
        "api timeline",
        "lead",
        lambda w: f"/api/v1/customers/{w.customers.of_rep.pk}/timeline/",
        200,
        VIEW,
        CUSTOMER,
        pk("customers.of_rep"),
        query={"view": "timeline"},
    ),
    *(
        Read(
            f"api {view.replace('_', '-')}",
            "lead",
            lambda w, view=view: (
                f"/api/v1/customers/{w.customers.of_rep.pk}/{view.replace('_', '-')}/"
            ),
            200,
            VIEW,
            CUSTOMER,
            pk("customers.of_rep"),
            query={"view": view},
        )
        for view in ("follow_ups", "transactions")
    ),
    *(
        Read(
            f"api {view.replace('_', '-')} out of scope",
            "rep",
            lambda w, view=view: (
                f"/api/v1/customers/{w.customers.of_unrelated.pk}/{view.replace('_', '-')}/"
            ),
            404,
            DENIED,
            CUSTOMER,
            pk("customers.of_unrelated"),
            query={"attempt": view},
        )
        for view in ("follow_ups", "transactions")
    ),
    Read(
        "api timeline out of scope",
        "rep",
        lambda w: f"/api/v1/customers/{w.customers.of_unrelated.pk}/timeline/",
        404,
        DENIED,
        CUSTOMER,
        pk("customers.of_unrelated"),
        query={"attempt": "timeline"},
    ),
    Read(
        "api conversations",
        "rep",
        lambda w: "/api/v1/chats/conversations/",
        200,
        LIST,
        CONVERSATION,
        pk("conversation"),
    ),
    Read(
        "api conversation",
        "rep",
        lambda w: f"/api/v1/chats/conversations/{w.conversation.pk}/",
        200,
        VIEW,
        CONVERSATION,
        pk("conversation"),
    ),
    Read(
        "api conversation out of scope",
        "rep",
        lambda w: f"/api/v1/chats/conversations/{w.unrelated_conversation.pk}/",
        404,
        DENIED,
        CONVERSATION,
        pk("unrelated_conversation"),
    ),
    # --- offboarding, API: the hand-over pages list customers ------------------------------
    Read(
        "api offboarding preview",
        "hr",
        lambda w: f"{CASES}{w.case_draft.pk}/preview/",
        200,
        LIST,
        CUSTOMER,
        pk("customers.of_leaver"),
        query={"view": "preview"},
        offboarding=True,
    ),
    Read(
        "api handover report",
        "lead",
        lambda w: f"{CASES}{w.case_done.pk}/report/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        query={"view": "report"},
        offboarding=True,
    ),
    Read(
        "api handover report csv",
        "hr",
        lambda w: f"{CASES}{w.case_done.pk}/report/csv/",
        200,
        EXPORT,
        CUSTOMER,
        nothing,
        query={"row_count": 1},
        offboarding=True,
    ),
    Read(
        "api offboarding transfers",
        "manager",
        lambda w: "/api/v1/offboarding/transfers/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        offboarding=True,
    ),
    # --- the admin -------------------------------------------------------------------------
    Read(
        "admin customer changelist",
        "lead",
        lambda w: "/admin/customers/customer/",
        200,
        LIST,
        CUSTOMER,
        team1_customers,
        client="admin",
    ),
    Read(
        "admin customer change view",
        "rep",
        admin_change("customers/customer", "customers.of_rep"),
        200,
        VIEW,
        CUSTOMER,
        pk("customers.of_rep"),
        client="admin",
    ),
    Read(
        "admin customer change view out of scope",
        "rep",
        admin_change("customers/customer", "customers.of_unrelated"),
        302,
        DENIED,
        CUSTOMER,
        pk("customers.of_unrelated"),
        client="admin",
    ),
    Read(
        "admin customer dashboard",
        "lead",
        lambda w: "/admin/customers/customer/dashboard/",
        200,
        LIST,
        CUSTOMER,
        nothing,  # counts per owner/team/week, no customer shown
        client="admin",
        query={"view": "dashboard"},
    ),
    Read(
        "admin reveal button",
        "rep",
        lambda w: f"/admin/customers/customer/{w.customers.of_rep.pk}/reveal/",
        200,
        REVEAL,
        CUSTOMER,
        pk("customers.of_rep"),
        client="admin",
        method="POST",
        body=lambda w: {"field": "mobile", "reason": "calling back"},
    ),
    Read(
        "admin message changelist",
        "lead",
        lambda w: "/admin/chats/message/",
        200,
        LIST,
        MESSAGE,
        rep_messages,
        client="admin",
    ),
    Read(
        "admin message change view",
        "rep",
        admin_change("chats/message", "rep_messages.0"),
        200,
        VIEW,
        MESSAGE,
        pk("rep_messages.0"),
        client="admin",
    ),
    Read(
        "admin message change view out of scope",
        "rep_b",
        admin_change("chats/message", "rep_messages.0"),
        302,
        DENIED,
        MESSAGE,
        pk("rep_messages.0"),
        client="admin",
    ),
    Read(
        "admin export action",
        "lead",
        lambda w: "/admin/chats/message/",
        200,
        EXPORT,
        MESSAGE,
        nothing,
        client="admin",
        method="POST",
        body=lambda w: {"action": "export_csv", "_selected_action": rep_messages(w)},
        query={"format": "csv", "row_count": 2},
    ),
    Read(
        "admin conversation changelist",
        "lead",
        lambda w: "/admin/chats/conversation/",
        200,
        LIST,
        CONVERSATION,
        pk("conversation"),
        client="admin",
    ),
    Read(
        "admin conversation change view",
        "rep",
        admin_change("chats/conversation", "conversation"),
        200,
        VIEW,
        CONVERSATION,
        pk("conversation"),
        client="admin",
    ),
    Read(
        "admin conversation change view out of scope",
        "rep",
        admin_change("chats/conversation", "unrelated_conversation"),
        302,
        DENIED,
        CONVERSATION,
        pk("unrelated_conversation"),
        client="admin",
    ),
    Read(
        "admin chat search page",
        "manager",
        lambda w: "/admin/chats/message/search/?q=报价",
        200,
        SEARCH,
        MESSAGE,
        rep_messages,
        client="admin",
        query={"q": "报价"},
    ),
    Read(
        "admin timeline page",
        "lead",
        lambda w: f"/admin/chats/message/timeline/{w.customers.of_rep.pk}/",
        200,
        VIEW,
        CUSTOMER,
        pk("customers.of_rep"),
        client="admin",
        query={"view": "timeline"},
    ),
    Read(
        "admin conversation thread",
        "rep",
        lambda w: f"/admin/chats/message/thread/{w.conversation.pk}/",
        200,
        VIEW,
        MESSAGE,
        rep_messages,
        client="admin",
        query={"view": "thread"},
    ),
    Read(
        "admin conversation thread out of scope",
        "rep",
        lambda w: f"/admin/chats/message/thread/{w.unrelated_conversation.pk}/",
        403,
        DENIED,
        CONVERSATION,
        pk("unrelated_conversation"),
        client="admin",
        query={"attempt": "thread"},
    ),
    Read(
        "admin follow-up form names the customer",
        "rep",
        lambda w: f"/admin/customers/customer/{w.customers.of_rep.pk}/follow-up/",
        200,
        VIEW,
        CUSTOMER,
        pk("customers.of_rep"),
        client="admin",
        query={"view": "follow_up"},
    ),
    Read(
        "admin transaction form out of scope",
        "rep",
        lambda w: f"/admin/customers/customer/{w.customers.of_unrelated.pk}/transaction/",
        404,
        DENIED,
        CUSTOMER,
        pk("customers.of_unrelated"),
        client="admin",
        query={"attempt": "transaction"},
    ),
    Read(
        "admin timeline page out of scope",
        "rep",
        lambda w: f"/admin/chats/message/timeline/{w.customers.of_unrelated.pk}/",
        403,
        DENIED,
        CUSTOMER,
        pk("customers.of_unrelated"),
        client="admin",
        query={"attempt": "timeline"},
    ),
    Read(
        "admin offboarding preview",
        "hr",
        lambda w: f"{CASES_ADMIN}{w.case_draft.pk}/preview/",
        200,
        LIST,
        CUSTOMER,
        pk("customers.of_leaver"),
        client="admin",
        query={"view": "preview"},
        offboarding=True,
    ),
    Read(
        "admin handover report",
        "hr",
        lambda w: f"{CASES_ADMIN}{w.case_done.pk}/report/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        client="admin",
        query={"view": "report"},
        offboarding=True,
    ),
    Read(
        "admin handover report csv",
        "lead",
        lambda w: f"{CASES_ADMIN}{w.case_done.pk}/report.csv",
        200,
        EXPORT,
        CUSTOMER,
        nothing,
        client="admin",
        query={"row_count": 1},
        offboarding=True,
    ),
    Read(
        "admin offboarding transfers",
        "hr",
        lambda w: "/admin/offboarding/customertransfer/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        client="admin",
        offboarding=True,
    ),
    # --- insider §3: read door (history, the audit trail itself) ---------------------------
    Read(
        "admin customer history",
        "rep",
        lambda w: f"/admin/customers/customer/{w.customers.of_rep.pk}/history/",
        200,
        VIEW,
        CUSTOMER,
        pk("customers.of_rep"),
        client="admin",
        query={"view": "history"},
    ),
    Read(
        "admin customer history out of scope",
        "rep",
        lambda w: f"/admin/customers/customer/{w.customers.of_unrelated.pk}/history/",
        302,
        DENIED,
        CUSTOMER,
        pk("customers.of_unrelated"),
        client="admin",
        query={"attempt": "history"},
    ),
    Read(
        "api audit events",
        "auditor",
        lambda w: "/api/v1/audit/events/",
        200,
        LIST,
        "audit.accessevent",
        lambda w: earlier_events(),
    ),
    Read(
        "api audit events export",
        "auditor",
        lambda w: "/api/v1/audit/events/export/",
        200,
        EXPORT,
        "audit.accessevent",
        nothing,
    ),
    Read("api security alerts", "security", lambda w: "/api/v1/alerts/", 200, LIST, ALERT, nothing),
    Read(
        "admin access events",
        "auditor",
        lambda w: "/admin/audit/accessevent/",
        200,
        LIST,
        "audit.accessevent",
        lambda w: earlier_events(),
        client="admin",
    ),
    Read(
        "admin security alerts",
        "security",
        lambda w: "/admin/audit/securityalert/",
        200,
        LIST,
        ALERT,
        nothing,
        client="admin",
    ),
    # --- investigation: the alerted message, ownership history ---
    Read(
        "admin message of a security alert",
        "security",
        alert_page,
        200,
        VIEW,
        MESSAGE,
        rep_messages,  # the message and its conversation around it
        client="admin",
        query={"view": "alert"},
    ),
    Read(
        "admin message of a security alert refused to a rep",
        "rep",
        alert_page,
        403,
        DENIED,
        MESSAGE,
        pk("rep_messages.0"),
        client="admin",
    ),
    Read(
        "admin ownership history",
        "lead",
        lambda w: "/admin/customers/ownershiptransfer/",
        200,
        LIST,
        CUSTOMER,
        lambda w: [w.transferred.pk],
        client="admin",
        query={"view": "ownership history"},
        offboarding=True,
    ),
    Read(
        "admin ownership history of one customer",
        "auditor",
        lambda w: f"/admin/customers/ownershiptransfer/?customer_id={w.transferred.pk}",
        200,
        LIST,
        CUSTOMER,
        lambda w: [w.transferred.pk],
        client="admin",
        query={"view": "ownership history"},
        offboarding=True,
    ),
    # --- insider §2: lookups and refused searches ---
    # (the blind index's value: tests/insider/test_no_oracles.py, test_rep_may_look_up_a_mobile_*)
    Read(
        "api customer lookup by mobile",
        "rep",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_rep.mobile}",
        200,
        LIST,
        CUSTOMER,
        pk("customers.of_rep"),
        query={"lookup": "mobile"},
    ),
    Read(
        "api customer lookup by mobile refused",
        "auditor",
        lambda w: f"/api/v1/customers/?mobile={w.customers.of_rep.mobile}",
        403,
        DENIED,
        CUSTOMER,
        nothing,
        query={"lookup": "mobile"},
    ),
    Read(
        "api customer name search refused",
        "auditor",
        lambda w: f"/api/v1/customers/?q={w.customers.of_rep.name}",
        403,
        DENIED,
        CUSTOMER,
        nothing,
    ),
    Read(
        "admin customer search by mobile",
        "lead",
        lambda w: f"/admin/customers/customer/?q={w.customers.of_rep.mobile}",
        200,
        LIST,
        CUSTOMER,
        pk("customers.of_rep"),
        client="admin",
        query={"lookup": "mobile"},
    ),
    Read(
        "admin customer name search refused",
        "auditor",
        lambda w: f"/admin/customers/customer/?q={w.customers.of_rep.name}",
        302,
        DENIED,
        CUSTOMER,
        nothing,
        client="admin",
    ),
    Read(
        "api offboarding cases",
        "hr",
        lambda w: CASES,
        200,
        LIST,
        "offboarding.offboardingcase",
        lambda w: [w.case_draft.pk, w.case_done.pk],
        offboarding=True,
    ),
    Read(
        "admin change log",
        "auditor",
        lambda w: "/admin/auditlog/logentry/",
        200,
        LIST,
        "auditlog.logentry",
        lambda w: list(LogEntry.objects.values_list("id", flat=True)),
        client="admin",
    ),
    # --- identity change log: reading who may do what is recorded too ----------------------
    Read(
        "api change log",
        "auditor",
        lambda w: "/api/v1/audit/changes/",
        200,
        LIST,
        "auditlog.logentry",
        lambda w: newest_log_entries(50),
    ),
    Read(
        "api change log of one staff member",
        "security",
        lambda w: f"/api/v1/audit/changes/?staff={w.org.rep.pk}",
        200,
        LIST,
        "auditlog.logentry",
        lambda w: [e.pk for e in LogEntry.objects.get_for_object(w.org.rep)],
    ),
    Read(
        "api change log entry",
        "security",
        lambda w: f"/api/v1/audit/changes/{LogEntry.objects.get_for_object(w.org.rep)[0].pk}/",
        200,
        VIEW,
        "auditlog.logentry",
        lambda w: [LogEntry.objects.get_for_object(w.org.rep)[0].pk],
    ),
    Read(
        "api change log entry of a customer out of scope",
        "security",
        lambda w: f"/api/v1/audit/changes/{customer_log(w.customers.of_rep)[0].pk}/",
        404,
        DENIED,
        "auditlog.logentry",
        lambda w: [customer_log(w.customers.of_rep)[0].pk],
    ),
    Read(
        "admin change log of one staff member",
        "auditor",
        lambda w: f"/admin/auditlog/logentry/?staff={w.org.rep.pk}",
        200,
        LIST,
        "auditlog.logentry",
        lambda w: [e.pk for e in LogEntry.objects.get_for_object(w.org.rep)],
        client="admin",
    ),
    # --- insider §7: what leavers leave behind ----------------------------------------------
    Read(
        "api revoked shares",
        "rep_b",
        lambda w: "/api/v1/offboarding/revoked-shares/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        query={"view": "revoked_shares"},
        offboarding=True,
    ),
    Read(
        "admin revoked shares",
        "rep_b",
        lambda w: "/admin/offboarding/revokedshare/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        client="admin",
        query={"view": "revoked_shares"},
        offboarding=True,
    ),
    Read(
        "api handover report lists the revoked share's customer once",
        "hr",
        lambda w: f"{CASES}{w.case_done.pk}/report/",
        200,
        LIST,
        CUSTOMER,
        pk("transferred"),
        query={"view": "report"},
        offboarding=True,
    ),
    Read(
        "api customer list while list reads are blocked",
        "rep_leaving",
        lambda w: _blocked(w, "/api/v1/customers/"),
        403,
        DENIED,
        CUSTOMER,
        nothing,
        query={"refused": "reads_blocked"},
    ),
    Read(
        "api chat search while list reads are blocked",
        "rep_leaving",
        lambda w: _blocked(w, "/api/v1/chats/search/?q=报价"),
        403,
        DENIED,
        MESSAGE,
        nothing,
        query={"refused": "reads_blocked"},
    ),
    Read(
        "admin changelist while list reads are blocked",
        "rep_leaving",
        lambda w: _blocked(w, "/admin/customers/customer/"),
        403,
        DENIED,
        CUSTOMER,
        nothing,
        client="admin",
        query={"refused": "reads_blocked"},
    ),
    Read(
        "admin customer lookup on a sensitive field refused",
        "lead",
        lambda w: "/admin/customers/customer/?name__regex=.",
        302,
        DENIED,
        CUSTOMER,
        nothing,
        client="admin",
        query={"attempt": "lookup"},
    ),
    Read(
        "admin message lookup on the text refused",
        "lead",
        lambda w: "/admin/chats/message/?text__contains=2345",
        302,
        DENIED,
        MESSAGE,
        nothing,
        client="admin",
        query={"attempt": "lookup"},
    ),
]


def newest_log_entries(count: int) -> list[int]:
    """The first page of the change log (newest first)."""
    newest = LogEntry.objects.order_by("-timestamp", "-id").values_list("id", flat=True)
    return list(newest[:count])


def _blocked(w, url: str) -> str:
    """rep_leaving's list reads blocked (as after paging past the budget), then `url`."""
    ReadBlock.objects.get_or_create(
        staff=w.org.rep_leaving, released_at=None, defaults={"rows": 501}
    )
    return url


@pytest.fixture
def world(org, customers):
    """Two messages with rep's customer and one with the unrelated department's."""
    conversation = ConversationFactory(customer=customers.of_rep)
    rep_messages = [
        MessageFactory(conversation=conversation, text="您好，报价单已发送"),
        MessageFactory(conversation=conversation, text="报价收到了，谢谢"),
    ]
    unrelated_conversation = ConversationFactory(customer=customers.of_unrelated)
    unrelated_message = MessageFactory(conversation=unrelated_conversation, text="报价单第二版")
    return SimpleNamespace(
        org=org,
        customers=customers,
        conversation=conversation,
        rep_messages=rep_messages,
        unrelated_conversation=unrelated_conversation,
        unrelated_message=unrelated_message,
    )


@pytest.fixture
def cases(world):
    """Two offboarding cases of team1 leavers: a draft (rep_leaving) and one that ran, whose one
    customer (`world.transferred`) went to rep_b."""
    vars(world).update(offboarding_cases(world.org))
    return world


def offboarding_cases(org) -> dict:
    leaver_done = StaffFactory(username="leaver_done", roles=[roles.SALES_REP], team=org.team1)
    transferred = CustomerFactory(owner=leaver_done)
    # insider §7: a share the leaver gave, revoked by the run
    share_customer(actor=leaver_done, customer=transferred, with_staff=org.rep_other_team)
    effective_at = timezone.now() + timedelta(days=30)

    def case_of(leaver):
        leaver.supervisor = org.lead
        leaver.save()
        return create_case(
            actor=org.hr,
            leaver=leaver,
            reason="resigned",
            notice_date=timezone.localdate(),
            effective_at=effective_at,
            successors=[org.rep_b],
        )

    done = run_now(actor=org.hr, case=approve_case(actor=org.lead, case=case_of(leaver_done)))
    assert done.status == "completed", done.error
    return {"case_draft": case_of(org.rep_leaving), "case_done": done, "transferred": transferred}


def signed_in(read: Read, world) -> Client:
    """The sign-in is an access event of its own (`login`): done before the count starts."""
    client = Client(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR=CLIENT_IP)
    return verified_login(client, getattr(world.org, read.role))  # the API takes it too


def perform(read: Read, world, client: Client | None = None):
    client = client or signed_in(read, world)
    call = getattr(client, read.method.lower())
    body = read.body(world) if read.body else None
    response = call(read.url(world), body) if body is not None else call(read.url(world))
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # run the download to its end
    return response


@pytest.mark.parametrize("read", READS, ids=lambda read: read.label)
def test_every_read_path_writes_exactly_one_event(read, world, request):
    if read.offboarding:
        request.getfixturevalue("cases")
    client = signed_in(read, world)
    since = last_event_id()

    response = perform(read, world, client)

    assert response.status_code == read.status
    events = new_events(since)
    assert len(events) == 1, [(e.action, e.model, e.object_ids) for e in events]
    event = events[0]
    expected_channel = Channel.ADMIN if read.client == "admin" else Channel.API
    assert (event.actor, event.action, event.model, event.allowed, event.channel) == (
        getattr(world.org, read.role),
        read.action,
        read.model,
        read.allowed,
        expected_channel,
    )
    assert sorted(event.object_ids) == sorted(read.ids(world))
    assert len(set(event.object_ids)) == len(event.object_ids)  # one id per object shown
    assert event.query | read.query == event.query
    assert (event.ip, event.user_agent) == (CLIENT_IP, USER_AGENT)


def test_the_admin_changelist_event_holds_exactly_the_ids_on_the_page(world):
    client = Client()
    verified_login(client, world.org.admin_user)
    since = last_event_id()

    response = client.get("/admin/customers/customer/?p=2", {"o": "1"})

    shown = [customer.pk for customer in response.context["cl"].result_list]
    [event] = new_events(since)
    assert event.object_ids == shown


def test_a_chat_search_for_a_raw_mobile_is_stored_masked(world, client_of):
    client = verified_login(Client(), world.org.lead)
    since = last_event_id()

    client_of(world.org.rep).get("/api/v1/chats/search/", {"q": "13912345678"})
    client.get("/admin/chats/message/search/", {"q": "13912345678"})
    client.get("/admin/customers/customer/", {"q": "13912345678"})

    events = new_events(since)
    assert [e.channel for e in events] == [Channel.API, Channel.ADMIN, Channel.ADMIN]
    for event in events:
        assert "13912345678" not in json.dumps(event.query)
        assert event.query["q"] == "139****5678"


def test_a_chat_export_records_its_filters_and_row_count(world, client_of):
    since = last_event_id()
    start = (timezone.now() - timedelta(days=1)).isoformat()

    response = client_of(world.org.manager).get(
        "/api/v1/chats/export/", {"format": "csv", "start": start}
    )
    b"".join(response.streaming_content)

    [event] = new_events(since)
    assert event.query == {"format": "csv", "start": start, "row_count": 2}


# --- audit rows are append-only ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_access_events_cannot_be_changed_through_the_api(method, org, customers, client_of):
    client = client_of(org.admin_user)
    client.get("/api/v1/customers/")
    event = AccessEvent.objects.latest("id")

    response = getattr(client, method)(
        f"/api/v1/audit/events/{event.pk}/", {"allowed": False}, format="json"
    )

    assert response.status_code == 405
    assert AccessEvent.objects.get(pk=event.pk).allowed is True


def test_access_events_cannot_be_created_through_the_api(org, client_of):
    before = AccessEvent.objects.count()

    response = client_of(org.admin_user).post(
        "/api/v1/audit/events/", {"action": "view", "model": "x"}, format="json"
    )

    assert response.status_code == 405
    assert AccessEvent.objects.count() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_accessevent SET allowed = true",
        "DELETE FROM audit_accessevent",
        "UPDATE auditlog_logentry SET actor_id = NULL",
        "DELETE FROM auditlog_logentry",
    ],
)
def test_postgres_refuses_raw_updates_and_deletes_of_audit_rows(sql, org, customers, client_of):
    client_of(org.rep).get(f"/api/v1/customers/{customers.of_unrelated.pk}/")  # a denied event
    client_of(org.rep).patch(
        f"/api/v1/customers/{customers.of_rep.pk}/", {"stage": "won"}, format="json"
    )
    assert AccessEvent.objects.exists()
    assert LogEntry.objects.exists()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


# --- changes ------------------------------------------------------------------------------


def customer_log(customer) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(Customer)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_pk=str(customer.pk)).order_by(
            "id"
        )
    )


def test_an_api_update_is_logged_with_the_jwt_actor_and_no_raw_values(
    org, customers, jwt_client_for
):
    customer = customers.of_rep
    old_mobile = customer.mobile
    new_mobile = "13512345678"
    before = len(customer_log(customer))

    response = jwt_client_for(org.rep).patch(
        f"/api/v1/customers/{customer.pk}/",
        {"mobile": new_mobile, "stage": "contacted"},
        format="json",
    )

    assert response.status_code == 200, response.content
    entries = customer_log(customer)[before:]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor == org.rep
    assert entry.action == LogEntry.Action.UPDATE
    changes = json.dumps(entry.changes, ensure_ascii=False)
    assert "mobile" in entry.changes_dict
    assert "stage" in entry.changes_dict
    assert old_mobile not in changes
    assert new_mobile not in changes


def test_an_api_create_is_logged_with_the_jwt_actor_and_no_raw_values(org, jwt_client_for):
    body = {"name": "张三丰", "mobile": "13512345678", "id_number": "11010519491231002X"}

    response = jwt_client_for(org.rep).post("/api/v1/customers/", body, format="json")

    assert response.status_code == 201, response.content
    [entry] = customer_log(Customer.objects.get(pk=response.json()["id"]))
    assert entry.actor == org.rep
    assert entry.action == LogEntry.Action.CREATE
    changes = json.dumps(entry.changes, ensure_ascii=False)
    for raw in body.values():
        assert raw not in changes


def test_sharing_and_revoking_leave_a_change_log_trail(org, customers, api_client_for):
    client = api_client_for(org.rep)
    url = f"/api/v1/customers/{customers.of_rep.pk}/shares/"
    content_type = ContentType.objects.get_for_model(CustomerUserObjectPermission)

    share_id = client.post(url, {"staff_id": org.rep_b.pk}, format="json").json()["id"]
    client.delete(f"{url}{share_id}/")

    actions = list(
        LogEntry.objects.filter(content_type=content_type, object_pk=str(share_id))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.DELETE]


def test_a_transfer_records_who_moved_what_from_whom_and_why(org, customers, api_client_for):
    response = api_client_for(org.lead).post(
        "/api/v1/customers/transfer/",
        {"customers": [customers.of_rep.pk], "to_staff": org.rep_b.pk, "reason": "rep on leave"},
        format="json",
    )

    assert response.json() == {"transferred": 1, "unchanged": 0, "to_staff": org.rep_b.pk}
    [history] = OwnershipTransfer.objects.filter(customer=customers.of_rep)
    assert (history.from_owner, history.to_owner, history.actor, history.reason) == (
        org.rep,
        org.rep_b,
        org.lead,
        "rep on leave",
    )


# --- identity: every sign-in step leaves exactly one access event -------------------------------


def _sign_in_body(user, password=None):
    from tests.factories import TEST_PASSWORD

    return {"username": user.username, "password": password or TEST_PASSWORD}


def test_each_sign_in_step_writes_exactly_one_event(org):
    from rest_framework.test import APIClient

    from tests.signin import enrol, fresh_code

    client = APIClient(REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=USER_AGENT)
    device = enrol(org.legal)
    steps = []

    def step(label, call, action, allowed=True):
        since = last_event_id()
        response = call()
        [event] = new_events(since)
        assert (event.action, event.allowed, event.channel, event.ip) == (
            action,
            allowed,
            Channel.API,
            CLIENT_IP,
        ), label
        steps.append(label)
        return response

    step(
        "wrong password",
        lambda: client.post("/api/v1/auth/token/", _sign_in_body(org.legal, "no"), format="json"),
        AccessAction.LOGIN_FAILED,
        allowed=False,
    )
    ticket = client.post("/api/v1/auth/token/", _sign_in_body(org.legal), format="json")
    ticket = ticket.json()["ticket"]  # the password step alone is not a sign-in: no event
    step(
        "wrong code",
        lambda: client.post("/api/v1/auth/token/mfa/", {"ticket": ticket, "code": "1"}),
        AccessAction.LOGIN_FAILED,
        allowed=False,
    )
    tokens = step(
        "code",
        lambda: client.post(
            "/api/v1/auth/token/mfa/", {"ticket": ticket, "code": fresh_code(device)}
        ),
        AccessAction.LOGIN,
    ).json()
    step(
        "logout",
        lambda: client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}),
        AccessAction.LOGOUT,
    )
    rep_tokens = client.post("/api/v1/auth/token/", _sign_in_body(org.rep), format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rep_tokens['access']}")
    step(
        "logout everywhere",
        lambda: client.post("/api/v1/auth/logout/all/"),
        AccessAction.LOGOUT,
    )
    assert len(steps) == 5

"""Every read of customer data leaves one access event; every change leaves a change-log entry.

Reads are recorded by the API's scoped viewsets (`scrm.api.viewsets`), changes by
django-auditlog. Nobody can edit or delete either kind of row through any interface, and on
PostgreSQL not even with raw SQL. Admin cases can be added next to the API ones: act through
`django.test.Client` and assert with `new_events(...)` the same way.
"""

import json
from urllib.parse import urlencode

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from customers.models import Customer, CustomerUserObjectPermission, OwnershipTransfer
from scrm.audit.models import AccessAction, AccessEvent, Channel
from tests.factories import CustomerFactory

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
    stored = json.dumps(event.query, ensure_ascii=False)
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

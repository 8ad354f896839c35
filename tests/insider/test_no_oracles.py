"""Insider §2: no oracles. A filter or a search never confirms what the mask hides.

Each test is the probe a curious colleague would run through the real API (JWT or a forced
login) or the admin (a session), against the real database, and asserts that the answer holds
nothing the page would not show anyway.
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from chats.ingest import ingest_records
from chats.models import Message
from customers.models import Customer, id_number_index, mobile_index
from customers.services import share_customer
from scrm.audit.models import AccessAction, AccessEvent, SecurityAlert
from scrm.masking.detectors import mask_text
from scrm.masking.masks import mask_name
from tests.chats.wecom_records import text_record
from tests.factories import StaffFactory
from tests.signin import verified_login

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/chats/search/"
ADMIN_SEARCH = "/admin/chats/message/search/"
MESSAGES = "/admin/chats/message/"
CUSTOMERS_API = "/api/v1/customers/"
CUSTOMERS_ADMIN = "/admin/customers/customer/"

FIRST, SECOND = "13812345678", "13898765432"  # same visible head (138) and different middles


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def events_since(last_id: int) -> list[AccessEvent]:
    # The test clients' sign-ins are access events too (tests/identity covers them).
    return list(
        AccessEvent.objects.filter(pk__gt=last_id).exclude(action=AccessAction.LOGIN).order_by("pk")
    )


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def numbers(org, customers):
    """Two messages in the rep's book, each holding a mobile number that the rep sees masked."""
    sync = StaffFactory(username="wecom-sync", is_staff=False)
    sync.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    org.rep.wecom_userid = "rep"
    org.rep.save()
    customers.of_rep.wecom_external_userid = "wm-of_rep"
    customers.of_rep.save()
    now = timezone.now()
    results = ingest_records(
        records=[
            text_record("wm-of_rep", "rep", f"我的手机号 {FIRST} 请回电", at=now),
            text_record("wm-of_rep", "rep", f"新号码{SECOND}，旧的停用了", at=now),
        ],
        actor=sync,
    )
    return {FIRST: results[0].id, SECOND: results[1].id}


def probes() -> list[str]:
    """Every digit string an insider would try: each window of 3 to 8 digits of both numbers,
    the full numbers, and digit-by-digit guesses after the visible head."""
    found = {FIRST, SECOND}
    for number in (FIRST, SECOND):
        for size in range(3, 9):
            found.update(number[i : i + size] for i in range(len(number) - size + 1))
    found.update(f"138{digit}" for digit in "0123456789")
    return sorted(found)


def api_found(client, keyword: str) -> set[int]:
    response = client.get(SEARCH, {"q": keyword})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def admin_found(client, keyword: str) -> set[int]:
    response = client.get(ADMIN_SEARCH, {"q": keyword})
    assert response.status_code == 200
    return {row["message"].pk for row in response.context["rows"]}


# --- chat search matches only what the searcher sees ----------------------------------------


def test_chat_search_cannot_tell_hidden_digits_apart(org, numbers, jwt_client_for):
    # given: a rep who sees both numbers masked (138****5678, 138****5432)
    client = jwt_client_for(org.rep)
    shown = {pk: mask_text(Message.objects.get(pk=pk).text) for pk in numbers.values()}
    assert all(FIRST not in text and SECOND not in text for text in shown.values())

    for keyword in probes():
        # when: the insider probes the archive with digits
        found = api_found(client, keyword)
        # then: exactly the messages whose *masked* text holds the keyword: a hidden middle
        # never decides an answer (visible parts such as the last four digits may match)
        assert found == {pk for pk, text in shown.items() if keyword in text}, keyword

    assert api_found(client, "1381234") == set()
    assert api_found(client, "13812") == set()
    assert api_found(client, "2345") == set()
    assert api_found(client, "1381") == api_found(client, "1389") == set()
    assert api_found(client, "5678") == {numbers[FIRST]}  # shown anyway
    assert api_found(client, "138") == set(numbers.values())


def test_admin_search_page_cannot_tell_hidden_digits_apart(org, numbers):
    client = admin_client(org.lead)
    shown = {pk: mask_text(Message.objects.get(pk=pk).text) for pk in numbers.values()}

    for keyword in probes():
        found = admin_found(client, keyword)
        assert found == {pk for pk, text in shown.items() if keyword in text}, keyword
    response = client.get(ADMIN_SEARCH, {"q": "23456"})
    assert response.context["count"] == 0


def test_raw_readers_still_find_the_full_number(org, numbers, jwt_client_for):
    # legal reads chats raw (chats.reveal_message): its search keeps matching the raw text
    client = jwt_client_for(org.legal)

    assert api_found(client, "1381234") == {numbers[FIRST]}
    assert api_found(client, SECOND) == {numbers[SECOND]}
    assert admin_found(admin_client(org.legal), "98765") == {numbers[SECOND]}


def test_messages_without_masked_columns_are_not_found_by_masked_searches(
    org, numbers, jwt_client_for
):
    # given: a message stored by a path that did not compute the masked columns (NULL)
    Message.objects.filter(pk=numbers[FIRST]).update(masked_text=None, masked_search_tokens="")
    from chats.search import unindex_messages

    unindex_messages([numbers[FIRST]])  # the SQLite FTS rows too (a no-op on PostgreSQL)

    # then: fail closed for masked viewers, even on the visible tail
    assert api_found(jwt_client_for(org.rep), "5678") == set()


def test_backfill_fills_the_masked_columns_of_old_messages(org, numbers, jwt_client_for):
    # given: messages stored before the masked columns existed
    from chats.search import refresh_masked_search, unindex_messages

    Message.objects.update(masked_text=None, masked_search_tokens="")
    unindex_messages(list(numbers.values()))
    # when: the migration's backfill (also `manage.py refresh_masked_search`) runs in batches
    changed = refresh_masked_search(Message, batch_size=1)

    # then: both are searchable by what the rep sees, and only that
    assert changed == 2
    client = jwt_client_for(org.rep)
    assert api_found(client, "5432") == {numbers[SECOND]}
    assert api_found(client, "98765") == set()


@pytest.mark.parametrize(
    "lookup",
    [
        {"text__contains": "2345"},
        {"text__icontains": "1381234"},
        {"text__regex": "1381"},
        {"text": f"我的手机号 {FIRST} 请回电"},
        {"search_tokens__contains": "81"},
        {"masked_text__isnull": "True"},
        {"digest": "x"},
        {"customer__mobile_bidx": "x"},
        {"customer__name__startswith": "张"},
    ],
)
def test_admin_message_changelist_refuses_undeclared_lookups(org, numbers, lookup):
    # given: a lead who sees message text masked, and legal who reads it raw
    for user in (org.lead, org.legal):
        client = admin_client(user)
        since = last_event_id()

        # when: the changelist is asked to filter on the text (or any undeclared field)
        response = client.get(MESSAGES, lookup)

        # then: refused with a message, not answered; the attempt is recorded as denied
        assert response.status_code == 302
        assert response["Location"] == MESSAGES
        assert any("不允许" in m for m in flashed(response))  # "... is not allowed on this page"
        [event] = events_since(since)
        assert (event.action, event.allowed, event.actor) == (AccessAction.DENIED, False, user)
        assert FIRST not in json.dumps(event.query)


def test_admin_message_changelist_keeps_its_declared_filters(org, numbers):
    response = admin_client(org.lead).get(MESSAGES, {"msg_type__exact": "text", "o": "1"})

    assert response.status_code == 200
    assert {m.pk for m in response.context["cl"].result_list} == set(numbers.values())


# --- exact lookups: the reveal right, the blind index, the budget ---------------------------


def test_rep_may_look_up_a_mobile_and_the_event_holds_its_blind_index(
    org, customers, jwt_client_for
):
    client = jwt_client_for(org.rep)
    since = last_event_id()
    mobile = customers.of_rep.mobile

    response = client.get(CUSTOMERS_API, {"mobile": mobile})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [customers.of_rep.pk]
    [event] = events_since(since)
    assert event.action == AccessAction.LIST and event.allowed
    assert event.query["mobile_bidx"] == mobile_index(mobile)
    assert event.query["lookup"] == "mobile"
    assert mobile not in json.dumps(event.query)


@pytest.mark.parametrize("role", ["hr", "auditor"])
def test_roles_without_the_reveal_right_may_not_look_up_a_mobile(
    org, customers, jwt_client_for, role
):
    user = getattr(org, role)
    # the leaver's customer is inside HR's scope, every customer inside the auditor's
    mobile = customers.of_leaver.mobile
    client = jwt_client_for(user)
    since = last_event_id()

    response = client.get(CUSTOMERS_API, {"mobile": mobile})

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "您的角色不能按手机号查找客户。",  # "may not look customers up by mobile"
    }
    [event] = events_since(since)
    assert (event.action, event.allowed) == (AccessAction.DENIED, False)
    assert event.query["mobile_bidx"] == mobile_index(mobile)
    assert mobile not in json.dumps(event.query)


def test_id_number_lookup_needs_the_identity_reveal_right(org, customers, jwt_client_for):
    id_number = customers.of_rep.id_number

    refused = jwt_client_for(org.rep).get(CUSTOMERS_API, {"id_number": id_number})
    allowed = jwt_client_for(org.legal).get(CUSTOMERS_API, {"id_number": id_number})

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert [row["id"] for row in allowed.json()["results"]] == [customers.of_rep.pk]
    event = AccessEvent.objects.filter(actor=org.legal).latest("pk")
    assert event.query["id_number_bidx"] == id_number_index(id_number)
    assert id_number not in json.dumps(event.query)


def test_lookups_past_the_hourly_budget_are_refused_and_alerted_once(
    org, customers, jwt_client_for, settings
):
    settings.SCRM_LOOKUP_LIMIT_PER_HOUR = 2
    client = jwt_client_for(org.rep)
    guesses = [f"1390000{n:04d}" for n in range(5)]

    answers = [client.get(CUSTOMERS_API, {"mobile": guess}) for guess in guesses]

    assert [a.status_code for a in answers] == [200, 200, 429, 429, 429]
    assert answers[2].json()["code"] == "lookup_limit"
    denied = AccessEvent.objects.filter(actor=org.rep, action=AccessAction.DENIED)
    assert denied.count() == 3
    assert all(e.query["mobile_bidx"] for e in denied)
    assert SecurityAlert.objects.filter(actor=org.rep, kind="lookup_rate_limit").count() == 1
    # plain lists are not lookups and stay available
    assert client.get(CUSTOMERS_API).status_code == 200


def test_admin_search_by_mobile_follows_the_same_rules(org, customers, settings):
    settings.SCRM_LOOKUP_LIMIT_PER_HOUR = 1
    mobile = customers.of_leaver.mobile

    # the auditor may not reveal contact data: refused with a message, no results
    refused = admin_client(org.auditor).get(CUSTOMERS_ADMIN, {"q": mobile})
    assert refused.status_code == 302 and refused["Location"] == CUSTOMERS_ADMIN
    assert flashed(refused) == ["您的角色不能按手机号查找客户。"]
    # the lead may: found, recorded with the blind index, counted
    lead = admin_client(org.lead)
    since = last_event_id()
    found = lead.get(CUSTOMERS_ADMIN, {"q": mobile})
    assert [c.pk for c in found.context["cl"].result_list] == [customers.of_leaver.pk]
    [event] = events_since(since)
    assert event.query["mobile_bidx"] == mobile_index(mobile)
    over = lead.get(CUSTOMERS_ADMIN, {"q": customers.of_rep.mobile})
    assert over.status_code == 302
    assert "精确查询次数已达上限" in flashed(over)[0]  # "Lookup limit reached"
    assert SecurityAlert.objects.filter(actor=org.lead, kind="lookup_rate_limit").count() == 1


# --- name search only for roles that see names, and only over the names they see ------------


@pytest.mark.parametrize("role", ["hr", "auditor", "legal", "admin_user"])
def test_roles_that_see_names_masked_may_not_search_by_name(org, customers, jwt_client_for, role):
    user = getattr(org, role)
    name = customers.of_leaver.name  # inside every one of these scopes
    client = jwt_client_for(user)
    since = last_event_id()

    response = client.get(CUSTOMERS_API, {"q": name})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "不能按名称搜索" in response.json()["detail"]  # may not search by name
    [event] = events_since(since)
    assert (event.action, event.allowed) == (AccessAction.DENIED, False)
    # the denied attempt is recorded, with the name masked
    assert name not in json.dumps(event.query, ensure_ascii=False)
    assert event.query["q"][0] == name[0]


def test_in_book_name_search_never_matches_a_shared_customers_masked_name(
    org, customers, jwt_client_for
):
    # given: a colleague's customer shared with the rep: listed, but its name shown masked
    shared = customers.of_other_team
    share_customer(
        actor=org.rep_other_team, customer=shared, with_staff=org.rep, level="view", expires_at=None
    )
    client = jwt_client_for(org.rep)
    listed = {row["id"] for row in client.get(CUSTOMERS_API).json()["results"]}
    assert shared.pk in listed

    # when: the rep probes that name, and their own customer's
    probe = client.get(CUSTOMERS_API, {"q": shared.name})
    own = client.get(CUSTOMERS_API, {"q": customers.of_rep.name})

    # then: the shared name confirms nothing; the own one is found
    assert probe.status_code == 200 and probe.json()["results"] == []
    assert [row["id"] for row in own.json()["results"]] == [customers.of_rep.pk]


def test_in_book_admin_name_search_never_matches_a_shared_customer(org, customers):
    shared = customers.of_other_team
    share_customer(
        actor=org.rep_other_team,
        customer=shared,
        with_staff=org.lead,
        level="view",
        expires_at=None,
    )
    client = admin_client(org.lead)

    probe = client.get(CUSTOMERS_ADMIN, {"q": shared.name})
    own = client.get(CUSTOMERS_ADMIN, {"q": customers.of_rep_b.name})

    assert list(probe.context["cl"].result_list) == []
    assert [c.pk for c in own.context["cl"].result_list] == [customers.of_rep_b.pk]


@pytest.mark.parametrize("role", ["auditor", "legal", "admin_user"])
def test_admin_name_search_is_refused_to_roles_that_see_names_masked(org, customers, role):
    user = getattr(org, role)
    name = customers.of_rep.name
    client = admin_client(user)
    since = last_event_id()

    response = client.get(CUSTOMERS_ADMIN, {"q": name})

    assert response.status_code == 302 and response["Location"] == CUSTOMERS_ADMIN
    assert flashed(response) == ["您的角色看到的客户名称是脱敏的，不能按名称搜索。"]
    [event] = events_since(since)
    assert (event.action, event.allowed) == (AccessAction.DENIED, False)
    assert name not in json.dumps(event.query, ensure_ascii=False)


@pytest.mark.parametrize(
    "lookup",
    [
        {"name__regex": "^张"},
        {"name": "张伟"},
        {"name__startswith": "张"},
        {"mobile__startswith": "1381"},
        {"mobile_bidx": "0" * 64},
        {"id_number__contains": "3101"},
        {"id_number_bidx": "0" * 64},
        {"email__icontains": "cust"},
        {"wechat_id__contains": "wxid"},
        {"address__contains": "张江路"},
        {"owner__username__startswith": "rep"},
        {"tags__name__regex": "."},
    ],
)
@pytest.mark.parametrize("role", ["lead", "auditor", "legal", "admin_user"])
def test_admin_customer_changelist_refuses_lookups_on_sensitive_fields(
    org, customers, role, lookup
):
    client = admin_client(getattr(org, role))
    since = last_event_id()

    response = client.get(CUSTOMERS_ADMIN, lookup)

    assert response.status_code == 302 and response["Location"] == CUSTOMERS_ADMIN
    assert any("不允许" in m for m in flashed(response))  # "... is not allowed on this page"
    [event] = events_since(since)
    assert (event.action, event.allowed) == (AccessAction.DENIED, False)
    value = next(iter(lookup.values()))
    if len(value) > 3 and not value.startswith("0"):
        assert value not in json.dumps(event.query, ensure_ascii=False)


def test_admin_customer_changelist_keeps_its_declared_filters(org, customers):
    response = admin_client(org.lead).get(
        CUSTOMERS_ADMIN, {"stage__exact": Customer.Stage.LEAD, "owner__id__exact": org.rep.pk}
    )

    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [customers.of_rep.pk]


# --- access events never keep a typed name ---------------------------------------------------


def test_a_chat_search_for_a_name_by_a_masked_role_is_stored_masked(
    org, customers, numbers, jwt_client_for
):
    name = customers.of_rep.name
    api, admin = jwt_client_for(org.auditor), admin_client(org.auditor)
    since = last_event_id()

    api.get(SEARCH, {"q": name})
    admin.get(ADMIN_SEARCH, {"q": name})

    events = events_since(since)
    assert [e.action for e in events] == [AccessAction.SEARCH, AccessAction.SEARCH]
    for event in events:
        assert name not in json.dumps(event.query, ensure_ascii=False)
        assert event.query["q"] == mask_name(name)


def test_a_name_search_by_a_role_that_sees_names_keeps_the_term(org, customers, jwt_client_for):
    name = customers.of_rep.name
    client = jwt_client_for(org.rep)
    since = last_event_id()

    client.get(CUSTOMERS_API, {"q": name})

    [event] = events_since(since)
    assert event.query["q"] == name


def test_admin_autocomplete_answers_no_exact_mobile_and_no_foreign_names(org, customers):
    # Django's autocomplete view is switched off site-wide (insider §3); CustomerAdmin's search
    # is still no side door for any other caller of get_search_results (Django's own views
    # call it directly): no exact-mobile answer outside the lookup door, no shared names.
    from django.contrib.admin import site
    from django.test import RequestFactory

    from customers.models import Customer

    shared = customers.of_other_team
    share_customer(
        actor=org.rep_other_team,
        customer=shared,
        with_staff=org.lead,
        level="view",
        expires_at=None,
    )
    client = admin_client(org.lead)
    source = {"app_label": "chats", "model_name": "legalhold", "field_name": "customer"}
    off = client.get("/admin/autocomplete/", {**source, "term": customers.of_rep.mobile})
    assert off.status_code == 404

    model_admin = site._registry[Customer]
    request = RequestFactory().get("/admin/autocomplete/")
    request.user = org.lead
    visible = Customer.objects.visible_to(org.lead, "list")

    def found(term: str):
        queryset, _ = model_admin.get_search_results(request, visible, term)
        return sorted(queryset.values_list("pk", flat=True))

    assert found(customers.of_rep_b.name) == [customers.of_rep_b.pk]  # the search does answer
    assert found(customers.of_rep.mobile) == []
    assert found(shared.name) == []
    assert AccessEvent.objects.filter(actor=org.lead, query__has_key="lookup").count() == 0

"""Chat scopes and keyword search in their index-friendly shapes (chats.models.visible_customer_q,
chats.search.search) answer the same rows as the plain definitions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chats import search_backends
from chats.ingest import ingest_records
from chats.models import HistoryWindow, Message
from chats.search import search
from customers.models import Customer
from customers.services import share_customer
from scrm.access.scope import sees_everything
from scrm.staff.models import Staff
from tests.chats.wecom_records import text_record

pytestmark = pytest.mark.django_db


def test_message_scope_is_the_customer_scope_for_every_role(org, customers, archive):
    # given: a share on top of the role scopes, so the scope is an OR of several branches
    share_customer(
        actor=org.rep_other_team,
        customer=customers.of_other_team,
        with_staff=org.rep,
        level="view",
        expires_at=None,
    )

    for user in (org.rep, org.lead, org.manager, org.legal, org.auditor, org.admin_user):
        # when
        visible = set(Message.objects.visible_to(user).values_list("pk", flat=True))
        # then: the messages of exactly the customers the user may see, in their window
        expected = Message.objects.filter(
            customer_id__in=Customer.objects.visible_to(user).values("pk")
        )
        days = HistoryWindow.days_for(user)
        if days is not None:
            expected = expected.filter(sent_at__gte=timezone.now() - timedelta(days=days))
        assert visible == set(expected.values_list("pk", flat=True)), user.username
        assert visible, user.username


def test_search_for_a_long_keyword_finds_the_same_messages(org, customers, archive, api_client_for):
    # given: a message holding every bigram of the keyword but not the keyword itself
    sync = Staff.objects.get(username="wecom-sync")
    ingest_records(
        records=[text_record("rep", "wm-of_rep", "理赔 赔款 款到 到账", at=timezone.now())],
        actor=sync,
    )

    # when
    response = api_client_for(org.legal).get("/api/v1/chats/search/", {"q": "理赔款到账"})

    # then: only the exact substring matches
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == []
    found = api_client_for(org.legal).get("/api/v1/chats/search/", {"q": "赔款已到"}).json()
    assert [row["id"] for row in found["results"]] == [archive["other_team"]]


@pytest.mark.parametrize("rare", [True, False])
@pytest.mark.parametrize("who", ["lead", "lead of a wide scope", "rep"])
def test_every_search_plan_gives_the_same_page(org, customers, archive, monkeypatch, rare, who):
    # given: a keyword in several messages of different ages, counted rare or common, searched
    # by a rep (a book), a team lead (a team) and a team lead whose team counts as wide: every
    # plan chats.search.search chooses from
    user = org.rep if who == "rep" else org.lead
    frequencies = {} if rare else {"理赔": 0.5, "理": 0.5, "赔": 0.5}
    monkeypatch.setattr(search_backends, "_token_frequencies", lambda: frequencies)
    if who == "lead of a wide scope":
        monkeypatch.setattr(search_backends, "NARROW_SCOPE_MAX_CUSTOMERS", 0)

    # when: the user's search, and legal's (every customer: the plain walk) narrowed to the
    # same customers and history window
    page = [m.pk for m in search(Message.objects.visible_to(user), "理赔", user=user)]
    same_rows = Message.objects.visible_to(org.legal).filter(
        customer__in=Customer.objects.visible_to(user),
        sent_at__gte=timezone.now() - timedelta(days=HistoryWindow.days_for(user)),
    )
    legal_page = [m.pk for m in search(same_rows, "理赔", user=org.legal)]

    # then: the same messages, newest first
    expected = (
        [archive["rep_today"]] if who == "rep" else [archive["rep_today"], archive["rep_10d"]]
    )
    assert page == legal_page == expected


def test_only_all_customer_roles_see_everything(org):
    assert sees_everything(org.legal) and sees_everything(org.admin_user)
    assert not any(sees_everything(u) for u in (org.rep, org.lead, org.manager, org.hr))

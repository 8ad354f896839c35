"""From the notice date the leaver keeps working but cannot reveal or export, and every read of
theirs is flagged in the access events."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from scrm.audit.models import AccessAction, AccessEvent
from tests.chats.factories import MessageFactory
from tests.offboarding.cases import approved_case, open_case

CUSTOMERS_URL = "/api/v1/customers/"
EXPORT_URL = "/api/v1/chats/export/"


@pytest.fixture
def exporting_leaver(leaver):
    """The leaver may export chats (as team leads and managers do)."""
    leaver.user_permissions.add(Permission.objects.get(codename="export_message"))
    return leaver


def reveal(client, customer):
    return client.post(
        f"{CUSTOMERS_URL}{customer.pk}/reveal/",
        {"field": "mobile", "reason": "Calling back"},
        format="json",
    )


def test_approval_with_the_notice_date_today_starts_the_notice_period(org, leaver):
    # when
    approved_case(org, leaver)

    # then
    leaver.refresh_from_db()
    assert leaver.employment_status == "notice"
    assert leaver.notice_date == timezone.localdate()
    assert leaver.is_active  # they keep working until the effective time


def test_a_notice_date_in_the_future_does_not_start_it_yet(org, leaver):
    # when
    approved_case(org, leaver, notice_date=timezone.localdate() + timedelta(days=3))

    # then
    leaver.refresh_from_db()
    assert leaver.employment_status == "active"


def test_a_draft_case_does_not_start_the_notice_period(org, leaver):
    # when
    open_case(org, leaver)

    # then
    leaver.refresh_from_db()
    assert leaver.employment_status == "active"


def test_in_the_notice_period_the_leaver_cannot_reveal(org, leaver, book, jwt_client_for):
    # given
    client = jwt_client_for(leaver)
    customer = book.customers[0]
    assert reveal(client, customer).json()["value"] == customer.mobile  # before: allowed
    approved_case(org, leaver)

    # when
    response = reveal(client, customer)

    # then
    assert response.status_code == 403, response.content
    assert customer.mobile not in response.content.decode()
    denied = AccessEvent.objects.filter(actor=leaver, action=AccessAction.DENIED).get()
    assert denied.object_ids == [customer.pk] and not denied.allowed and denied.flagged


def test_in_the_notice_period_the_leavers_reads_are_flagged(org, leaver, book, jwt_client_for):
    # given
    client = jwt_client_for(leaver)
    client.get(CUSTOMERS_URL)
    approved_case(org, leaver)

    # when
    listed = client.get(CUSTOMERS_URL)
    viewed = client.get(f"{CUSTOMERS_URL}{book.customers[0].pk}/")

    # then: they still read their customers (and the one shared with them), and security sees
    # every read marked
    assert listed.status_code == viewed.status_code == 200
    assert listed.json()["count"] == len(book.customers) + 1
    events = list(AccessEvent.objects.filter(actor=leaver).order_by("id"))
    assert [(e.action, e.flagged) for e in events] == [
        (AccessAction.LOGIN, False),  # jwt_client_for signs in
        (AccessAction.LIST, False),
        (AccessAction.LIST, True),
        (AccessAction.VIEW, True),
    ]


def test_colleagues_reads_are_not_flagged(org, leaver, book, customers, api_client_for):
    # given
    approved_case(org, leaver)

    # when
    api_client_for(org.rep).get(CUSTOMERS_URL)

    # then
    assert not AccessEvent.objects.get(actor=org.rep).flagged


def test_in_the_notice_period_the_leaver_cannot_export(org, exporting_leaver, book, jwt_client_for):
    # given
    MessageFactory(conversation=book.conversations[0])
    client = jwt_client_for(exporting_leaver)
    before = client.get(EXPORT_URL, {"format": "csv"})
    assert before.status_code == 200, before.content
    approved_case(org, exporting_leaver)
    exports = AccessEvent.objects.filter(action=AccessAction.EXPORT).count()

    # when
    response = client.get(EXPORT_URL, {"format": "csv"})

    # then
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert AccessEvent.objects.filter(action=AccessAction.EXPORT).count() == exports


def test_cancelling_the_case_ends_the_notice_period(org, exporting_leaver, book, jwt_client_for):
    # given
    from offboarding.services import cancel_case

    case = approved_case(org, exporting_leaver)
    client = jwt_client_for(exporting_leaver)

    # when
    cancel_case(actor=org.hr, case=case, reason="Stays after all")

    # then
    assert reveal(client, book.customers[0]).status_code == 200
    assert client.get(EXPORT_URL, {"format": "csv"}).status_code == 200

"""A departed staff member is deactivated, never deleted: no cascade ever deletes business data
or history that refers to them."""

import pytest
from django.db.models import ProtectedError

from chats.models import Conversation, Message
from customers.models import Customer, OwnershipTransfer
from scrm.audit.models import AccessAction, AccessEvent, Channel
from scrm.audit.services import record_access
from scrm.staff import roles
from scrm.staff.models import Staff
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.factories import CustomerFactory, StaffFactory
from tests.offboarding.cases import run_to_completion
from tests.signin import verified_login


def owns_a_customer(person, org):
    CustomerFactory(owner=person)


def owns_a_conversation(person, org):
    ConversationFactory(customer=CustomerFactory(owner=org.rep), owner=person)


def sent_a_message(person, org):
    conversation = ConversationFactory(customer=CustomerFactory(owner=org.rep))
    MessageFactory(conversation=conversation, staff=org.rep, sender_staff=person)


def handled_a_message(person, org):
    conversation = ConversationFactory(customer=CustomerFactory(owner=org.rep))
    MessageFactory(conversation=conversation, staff=person, sender_staff=None)


def read_a_customer(person, org):
    record_access(
        actor=person,
        action=AccessAction.VIEW,
        model=Customer,
        object_ids=[1],
        channel=Channel.API,
    )


def appears_in_ownership_history(person, org):
    customer = CustomerFactory(owner=org.rep)
    OwnershipTransfer.objects.create(
        customer=customer, from_owner=person, to_owner=org.rep, reason="Territory change"
    )


@pytest.mark.parametrize(
    "reference",
    [
        owns_a_customer,
        owns_a_conversation,
        sent_a_message,
        handled_a_message,
        read_a_customer,
        appears_in_ownership_history,
    ],
)
def test_a_staff_member_referred_to_by_business_data_or_audit_cannot_be_deleted(reference, org):
    # given
    person = StaffFactory(roles=[roles.SALES_REP], team=org.team1)
    reference(person, org)
    counts = (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        AccessEvent.objects.count(),
        OwnershipTransfer.objects.count(),
    )

    # when
    with pytest.raises(ProtectedError):
        person.delete()

    # then
    assert Staff.objects.filter(pk=person.pk).exists()
    assert counts == (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        AccessEvent.objects.count(),
        OwnershipTransfer.objects.count(),
    )


def test_after_offboarding_the_departed_leaver_still_cannot_be_deleted(org, leaver, book):
    # given: everything moved away from the leaver
    run_to_completion(org, leaver)
    assert not Customer.objects.filter(owner=leaver).exists()

    # when / then: the messages they sent, the history and the case still refer to them
    with pytest.raises(ProtectedError):
        leaver.delete()
    leaver.refresh_from_db()
    assert (leaver.is_active, leaver.employment_status) == (False, "departed")
    assert Message.objects.filter(sender_staff=leaver).count() == len(book.messages)


def test_the_admin_refuses_to_delete_staff(org, leaver, client):
    # given: even a superuser
    verified_login(client, org.admin_user)

    # when
    page = client.get(f"/admin/staff/staff/{leaver.pk}/delete/")
    posted = client.post(f"/admin/staff/staff/{leaver.pk}/delete/", {"post": "yes"})
    bulk = client.post(
        "/admin/staff/staff/",
        {"action": "delete_selected", "_selected_action": [leaver.pk], "post": "yes"},
    )

    # then
    assert page.status_code == posted.status_code == 403
    assert bulk.status_code in (200, 302)
    assert Staff.objects.filter(pk=leaver.pk).exists()
    change = client.get(f"/admin/staff/staff/{leaver.pk}/change/")
    assert change.status_code == 200
    assert f"/admin/staff/staff/{leaver.pk}/delete/" not in change.content.decode()

"""The ownership engine (customers.ownership): every caller ends in the same state, and a move
that fails half-way leaves nothing moved."""

import pytest
from django.test import Client

from chats.models import Conversation
from customers import ownership
from customers.models import Customer, CustomerUserObjectPermission, FollowUp, OwnershipTransfer
from customers.services import share_customer, transfer_customers
from offboarding.models import CustomerTransfer
from offboarding.services import record_refusal
from scrm.staff import roles
from tests.chats.factories import ConversationFactory
from tests.factories import CustomerFactory, FollowUpFactory, StaffFactory
from tests.offboarding.cases import run_to_completion
from tests.signin import verified_login


def in_service_transfer(org, customer):
    transfer_customers(
        customers=Customer.objects.filter(pk=customer.pk),
        to_staff=org.lead,
        actor=org.manager,
        reason="territory",
    )


def bulk_reassign(org, customer):
    client = Client()
    verified_login(client, org.manager)
    response = client.post(
        "/admin/customers/customer/",
        {
            "action": "reassign_owner",
            "_selected_action": [customer.pk],
            "apply": "1",
            "to_staff": org.lead.pk,
            "reason": "territory",
        },
    )
    assert response.status_code == 302


def refusal(org, customer):
    transfer = CustomerTransfer.objects.get(customer=customer)
    record_refusal(actor=org.hr, transfer=transfer, reason="Wants to stay with the old rep")


def owned_customer(org, caller):
    """A customer of `org.rep` (for a refusal: handed to them by an offboarding run)."""
    if caller is refusal:
        leaver = StaffFactory(
            username="leaver", roles=[roles.SALES_REP], team=org.team1, supervisor=org.lead
        )
        customer = CustomerFactory(owner=leaver)
        ConversationFactory(customer=customer)
        run_to_completion(org, leaver, successors=[org.rep])
        customer.refresh_from_db()
    else:
        customer = CustomerFactory(owner=org.rep)
        ConversationFactory(customer=customer)
    assert customer.owner_id == org.rep.pk
    return customer


@pytest.mark.parametrize("caller", [in_service_transfer, bulk_reassign, refusal])
def test_every_caller_moves_the_same_things(org, caller):
    customer = owned_customer(org, caller)
    colleague_chat = ConversationFactory(customer=customer, owner=org.rep_b, room_id="")
    open_follow_up = FollowUpFactory(customer=customer, staff=org.rep)
    done_follow_up = FollowUpFactory(customer=customer, staff=org.rep, done=True)
    share = share_customer(actor=org.rep, customer=customer, with_staff=org.rep_b)

    caller(org, customer)

    customer.refresh_from_db()
    assert customer.owner_id == org.lead.pk
    owners = dict(Conversation.objects.filter(customer=customer).values_list("pk", "owner_id"))
    assert owners.pop(colleague_chat.pk) == org.rep_b.pk  # a colleague's own chat stays
    assert set(owners.values()) == {org.lead.pk}
    assert FollowUp.objects.get(pk=open_follow_up.pk).staff_id == org.lead.pk
    assert FollowUp.objects.get(pk=done_follow_up.pk).staff_id == org.rep.pk
    assert CustomerUserObjectPermission.objects.filter(pk=share.pk).exists()
    last = OwnershipTransfer.objects.filter(customer=customer).latest("pk")
    assert (last.from_owner_id, last.to_owner_id) == (org.rep.pk, org.lead.pk)


def test_a_failure_mid_move_leaves_nothing_half_moved(org, monkeypatch):
    customers = CustomerFactory.create_batch(3, owner=org.rep)
    for customer in customers:
        ConversationFactory(customer=customer)
        FollowUpFactory(customer=customer, staff=org.rep)

    def broken(**kwargs):
        raise RuntimeError("hand-over failed")

    # Registered last: the owner, the history rows, the follow-ups and the chats have moved.
    monkeypatch.setattr(ownership, "_hand_overs", [*ownership._hand_overs, broken])
    with pytest.raises(RuntimeError):
        transfer_customers(
            customers=Customer.objects.filter(pk__in=[c.pk for c in customers]),
            to_staff=org.lead,
            actor=org.manager,
            reason="territory",
        )

    assert set(Customer.objects.values_list("owner_id", flat=True)) == {org.rep.pk}
    assert set(Conversation.objects.values_list("owner_id", flat=True)) == {org.rep.pk}
    assert set(FollowUp.objects.values_list("staff_id", flat=True)) == {org.rep.pk}
    assert not OwnershipTransfer.objects.exists()

"""Offboarding fixtures: a leaver in team1 (supervised by `org.lead`) with a full book of
business (customers, conversations, messages, follow-ups, shares) and private data. Helpers
that open, approve and run cases are in `tests/offboarding/cases.py`.

    team1: rep, rep_b (sales reps, the usual successors), rep_leaving (notice), lead, leaver
"""

from types import SimpleNamespace

import pytest

from customers.models import PersonalNote
from customers.services import share_customer
from scrm.celery import app as celery_app
from scrm.staff import roles
from scrm.staff.models import Device, Draft, SavedSearch
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.factories import CustomerFactory, FollowUpFactory, StaffFactory

DEVICE_ID = "ios-7f3a-leaver-phone"


@pytest.fixture(autouse=True)
def eager_celery():
    """ "Run now" must finish inside the test even when CI sets CELERY_BROKER_URL (which turns
    eager mode off); only the real-worker test switches it back."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def leaver(org):
    return StaffFactory(
        username="leaver",
        roles=[roles.SALES_REP],
        team=org.team1,
        supervisor=org.lead,
        wecom_userid="wecom-leaver",
    )


@pytest.fixture
def book(org, leaver):
    """Everything the leaver owns or holds, in the shapes the run has to deal with."""
    customers = CustomerFactory.create_batch(6, owner=leaver)
    conversations = [ConversationFactory(customer=c) for c in customers]
    messages = [MessageFactory(conversation=conv) for conv in conversations for _ in range(2)]
    # A group room has no single customer: it goes to the team lead.
    room = ConversationFactory(customer=None, owner=leaver, room_id="room-1")
    messages.append(MessageFactory(conversation=room))
    colleague_customer = CustomerFactory(owner=org.rep_b)
    return SimpleNamespace(
        customers=customers,
        conversations=conversations,
        room=room,
        messages=messages,
        open_follow_up=FollowUpFactory(customer=customers[0], note="Call back on Friday"),
        done_follow_up=FollowUpFactory(customer=customers[1], done=True, note="Sent the offer"),
        colleague_customer=colleague_customer,
        # A grant the leaver holds (goes) and one the leaver gave a colleague (stays).
        share_held=share_customer(actor=org.rep_b, customer=colleague_customer, with_staff=leaver),
        share_given=share_customer(
            actor=leaver, customer=customers[2], with_staff=org.rep_other_team
        ),
        draft=Draft.objects.create(staff=leaver, body="Dear customer, about the renewal..."),
        saved_search=SavedSearch.objects.create(
            staff=leaver, name="My hot leads", query={"stage": "qualified"}
        ),
        private_note=PersonalNote.objects.create(staff=leaver, text="Ask for a raise in May"),
        customer_note=PersonalNote.objects.create(
            staff=leaver, customer=customers[3], text="Prefers calls after 6 pm"
        ),
        device=Device.objects.create(
            staff=leaver, device_id=DEVICE_ID, name="Leaver's iPhone", platform="ios"
        ),
    )

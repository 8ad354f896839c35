"""Chat factories for the export tests (tests/chats/factories.py did not exist yet)."""

import hashlib
from datetime import timedelta

import factory
from django.utils import timezone

from chats.models import Channel, Conversation, Message
from tests.factories import CustomerFactory


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    channel = Channel.WECOM
    external_id = factory.Sequence(lambda n: f"conv-{n}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner if o.customer else None)


class MessageFactory(factory.django.DjangoModelFactory):
    """A customer's text message to the conversation's owner, sent a minute ago."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.LazyAttribute(lambda o: o.conversation.channel)
    external_id = factory.Sequence(lambda n: f"msg-{n}")
    customer = factory.LazyAttribute(lambda o: o.conversation.customer)
    staff = factory.LazyAttribute(lambda o: o.conversation.owner)
    sender_staff = None
    sender_customer = factory.LazyAttribute(lambda o: o.customer)
    sent_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    text = factory.Sequence(lambda n: f"Message {n}")
    digest = factory.LazyAttribute(lambda o: digest_of(f"{o.external_id}:{o.text}"))


def bulk_messages(conversation: Conversation, count: int, *, text: str = "Message {n}"):
    """`count` messages in one conversation via bulk_create, one second apart, newest now."""
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                channel=conversation.channel,
                external_id=f"{conversation.external_id}-bulk-{n}",
                customer_id=conversation.customer_id,
                staff_id=conversation.owner_id,
                sender_customer_id=conversation.customer_id,
                sent_at=now - timedelta(seconds=count - n),
                text=text.format(n=n),
                digest=digest_of(f"{conversation.external_id}-{n}"),
            )
            for n in range(count)
        ],
        batch_size=1000,
    )

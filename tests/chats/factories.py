"""factory-boy factories for the chat archive.

Messages look like ingested ones: a channel and external id unique together, the canonical
digest of a WeCom-style record, `search_tokens` from chats.search, and (on SQLite) a row in
the FTS table, so search finds them on both databases.
"""

import factory
from django.utils import timezone

from chats.models import Channel, Conversation, Message
from chats.search import index_masked_messages, index_messages, masked_tokens, search_columns
from chats.wecom import canonical_digest
from tests.factories import CustomerFactory


class ConversationFactory(factory.django.DjangoModelFactory):
    """A private chat between a customer and their owner."""

    class Meta:
        model = Conversation

    channel = Channel.WECOM
    external_id = factory.Sequence(lambda n: f"conv-{n}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner if o.customer else None)
    last_message_at = factory.LazyFunction(timezone.now)


def _digest(message) -> str:
    return canonical_digest(
        {
            "msgid": message.external_id,
            "action": "send",
            "msgtime": int(message.sent_at.timestamp() * 1000),
            "msgtype": "text",
            "text": {"content": message.text},
        }
    )


class MessageFactory(factory.django.DjangoModelFactory):
    """A text message of the conversation's owner; its customer/staff follow the conversation."""

    class Meta:
        model = Message
        skip_postgeneration_save = True

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.LazyAttribute(lambda o: o.conversation.channel)
    external_id = factory.Sequence(lambda n: f"msg-{n}")
    customer = factory.LazyAttribute(lambda o: o.conversation.customer)
    staff = factory.LazyAttribute(lambda o: o.conversation.owner)
    sender_staff = factory.LazyAttribute(lambda o: o.staff)
    sent_at = factory.LazyFunction(timezone.now)
    msg_type = Message.Type.TEXT
    text = factory.Sequence(lambda n: f"您好，报价单第{n}版已发送")
    digest = factory.LazyAttribute(_digest)
    search_tokens = factory.LazyAttribute(lambda o: search_columns(o.text)["search_tokens"])
    masked_text = factory.LazyAttribute(lambda o: search_columns(o.text)["masked_text"])
    masked_search_tokens = factory.LazyAttribute(
        lambda o: search_columns(o.text)["masked_search_tokens"]
    )

    @factory.post_generation
    def indexed(self, create, extracted, **kwargs):
        # Ingest keeps SQLite's FTS table in step; so do factory-made messages.
        if create and self.search_tokens:
            index_messages([(self.pk, self.search_tokens)])
        if create:
            index_masked_messages([(self.pk, masked_tokens(self))])

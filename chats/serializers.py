from rest_framework import serializers

from chats.ingest import MAX_BATCH
from chats.models import Channel, Conversation, Message
from customers.models import Customer
from customers.serializers import viewer_of
from scrm.api.strict import StrictSerializer
from scrm.masking.free_text import display_text
from scrm.masking.policy import shown


class MessageSerializer(serializers.ModelSerializer):
    """A message as a viewer may see it: content through the detectors unless they may see raw."""

    text = serializers.SerializerMethodField()
    # File names carry what people put in them (身份证正反面_3101..._138....jpg): the same
    # detectors as the text.
    attachment_name = serializers.SerializerMethodField()
    sender = serializers.SerializerMethodField()
    customer_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "channel",
            "external_id",
            "sent_at",
            "msg_type",
            "sender",
            "sender_staff",
            "customer",
            "customer_name",
            "staff",
            "text",
            "attachment_name",
            "attachment_size",
            "attachment_content_type",
            "attachment_sha256",
            "revoked_at",
            "digest",
        ]

    def get_text(self, message: Message) -> str:
        return display_text(self.context["request"].user, message.text)

    def get_attachment_name(self, message: Message) -> str:
        return display_text(self.context["request"].user, message.attachment_name)

    def get_sender(self, message: Message) -> str:
        return "staff" if message.sender_staff_id else "customer"

    def get_customer_name(self, message: Message) -> str | None:
        return _customer_name(self, message.customer) if message.customer_id else None


class ConversationSerializer(serializers.ModelSerializer):
    customer_name = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "external_id",
            "room_id",
            "customer",
            "customer_name",
            "owner",
            "title",
            "created_at",
            "last_message_at",
        ]

    def get_customer_name(self, conversation: Conversation) -> str | None:
        return _customer_name(self, conversation.customer) if conversation.customer_id else None


def _customer_name(serializer: serializers.Serializer, customer: Customer | None) -> str | None:
    """The customer's name as the masking matrix shows it to the viewer."""
    if customer is None:
        return None
    return shown(viewer_of(serializer), "name", customer.name, owner_id=customer.owner_id)


class BatchSerializer(StrictSerializer):
    messages = serializers.ListField(
        # Each an object (else 400 naming the item); what is wrong inside one is that item's
        # `error` in the answer, the rest of the batch still ingested.
        child=serializers.DictField(),
        max_length=MAX_BATCH,
        min_length=1,
        help_text=f"Up to {MAX_BATCH} records as WeCom's archive (会话存档) returns them "
        "decrypted: msgid, from, tolist, roomid, msgtime (ms), msgtype and the type's body.",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        default=Channel.WECOM,
        help_text="The channel the records come from.",
    )


BATCH_ITEM_STATUSES = ["created", "duplicate", "error"]


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in `messages`.")
    msgid = serializers.CharField(help_text="The record's msgid (empty when it had none).")
    status = serializers.ChoiceField(
        choices=BATCH_ITEM_STATUSES,
        help_text="`created`: stored; `duplicate`: already stored (ingest is idempotent); "
        "`error`: not stored, see `reason`.",
    )
    id = serializers.IntegerField(
        required=False, help_text="Id of the stored message (created or duplicate)."
    )
    reason = serializers.CharField(required=False, help_text="Why the record was not stored.")


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Records stored by this batch.")
    duplicate = serializers.IntegerField(help_text="Records already stored before.")
    error = serializers.IntegerField(help_text="Records refused (see their `reason`).")
    results = BatchItemResultSerializer(many=True, help_text="One result per record, in order.")


class SearchParamsSerializer(StrictSerializer):
    q = serializers.CharField(max_length=100, trim_whitespace=True)


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["message", "follow_up", "transaction"], help_text="What happened."
    )
    at = serializers.DateTimeField(help_text="When (a transaction: its date, at midnight).")
    id = serializers.IntegerField(help_text="Id of the message, follow-up or transaction.")
    summary = serializers.CharField(help_text="One line, through the content detectors.")
    detail = serializers.DictField(
        help_text="By kind. message: msg_type, conversation, sender, revoked; follow_up: staff, "
        "done; transaction: product, amount (a decimal string)."
    )


class CustomerTimelineSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="Id of the customer.")
    truncated = serializers.BooleanField(
        help_text="True when a kind had more than 1,000 entries: only the newest are listed."
    )
    entries = TimelineEntrySerializer(many=True, help_text="Oldest first.")

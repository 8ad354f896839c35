from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from chats.api.export import MESSAGE_FILTER_PARAMETERS
from chats.filters import MessageFilter
from chats.ingest import ingest_records
from chats.models import Conversation, Message, MessageHide
from chats.search import search
from chats.serializers import (
    BatchResultSerializer,
    BatchSerializer,
    ConversationSerializer,
    CustomerTimelineSerializer,
    MessageSerializer,
    SearchParamsSerializer,
    TimelineEntrySerializer,
)
from chats.timeline import recorded_timeline
from scrm.access.scope import LIST, VIEW
from scrm.api.pagination import CappedCountPagination
from scrm.api.permissions import model_permission
from scrm.api.schema import FIRST_ROW_ID, links
from scrm.api.viewsets import DeclaredScopeMixin, ScopedViewSetMixin, WriteOnly
from scrm.audit.models import AccessAction, Channel
from scrm.audit.services import record_access, refuse_blocked_reads
from scrm.dbrouting import read_replica

CAN_READ_CHATS = model_permission("chats.view_message")


class ConversationViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Conversation.objects.select_related("customer")
    serializer_class = ConversationSerializer
    filterset_fields = ["channel", "customer", "owner"]
    permission_classes = [CAN_READ_CHATS]
    response_links = {
        "chats_conversations_list": links("chats_conversations_retrieve", id=FIRST_ROW_ID)
    }


@extend_schema_view(list=extend_schema(parameters=MESSAGE_FILTER_PARAMETERS))
class MessageViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Archived messages in the caller's scope and history window, content masked."""

    queryset = Message.objects.select_related("customer")
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    permission_classes = [CAN_READ_CHATS]
    response_links = {
        "chats_messages_list": links(
            "chats_messages_retrieve", "chats_messages_hide_create", id=FIRST_ROW_ID
        )
    }
    scope_actions = {
        **ScopedViewSetMixin.scope_actions,
        "hide": VIEW,
        "batch": WriteOnly("ingests archive records; answers one status per item"),
    }

    def get_permissions(self):
        if self.action == "batch":
            return [model_permission("chats.ingest_message")()]
        return super().get_permissions()

    @extend_schema(
        request=BatchSerializer,
        responses=BatchResultSerializer,
        examples=[
            OpenApiExample(
                "Two WeCom records, one malformed",
                value={
                    "channel": "wecom",
                    "messages": [
                        {
                            "msgid": "1732601234567_wm1",
                            "action": "send",
                            "from": "rep1",
                            "tolist": ["wmABCDEF123"],
                            "roomid": "",
                            "msgtime": 1732601234567,
                            "msgtype": "text",
                            "text": {"content": "您好，报价已发送"},
                        },
                        {"msgid": "bad-1", "from": "rep1", "msgtime": "yesterday"},
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "One stored, one refused",
                value={
                    "created": 1,
                    "duplicate": 0,
                    "error": 1,
                    "results": [
                        {"index": 0, "msgid": "1732601234567_wm1", "status": "created", "id": 901},
                        {
                            "index": 1,
                            "msgid": "bad-1",
                            "status": "error",
                            "reason": "msgtime: not a timestamp in milliseconds",
                        },
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Ingest up to 1,000 archive records; answers one result per item."""
        body = BatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = ingest_records(
            records=body.validated_data["messages"],
            actor=request.user,
            channel=body.validated_data["channel"],
        )
        counts = {s: sum(r.status == s for r in results) for s in ("created", "duplicate", "error")}
        return Response({**counts, "results": [r.as_dict() for r in results]})

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        """ "Delete" in the client: hidden from the caller only; the archive keeps it."""
        message = self.get_object()
        MessageHide.objects.get_or_create(message=message, staff=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchPagination(CappedCountPagination):
    """A one-character keyword matches millions of messages, and a team lead's 31 days are
    spread over the whole archive: count at most 1,000 matches, for at most 30 ms (a count
    that would take longer only says "at least", docs/benchmarks.md)."""

    count_cap = 1_000
    count_timeout_ms = 30


class MessageSearchView(DeclaredScopeMixin, generics.ListAPIView):
    """Keyword search (any length, Chinese included) over the caller's visible messages."""

    scope_actions = {"get": LIST}  # recorded as a search by get()

    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    permission_classes = [CAN_READ_CHATS]
    pagination_class = SearchPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request to search
            return Message.objects.none()
        params = SearchParamsSerializer(data={"q": self.request.query_params.get("q", "")})
        params.is_valid(raise_exception=True)
        # The scope ids are read from the primary (visible_to); the search itself may lag.
        visible = Message.objects.visible_to(self.request.user).using(read_replica())
        visible = visible.select_related("customer")
        return search(visible, params.validated_data["q"], user=self.request.user)

    @extend_schema(
        parameters=[
            *MESSAGE_FILTER_PARAMETERS,
            OpenApiParameter(
                "q",
                # Not blank (a character that is not white space), no NUL character.
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 100,
                    "pattern": r"^[^\x00]*\S[^\x00]*$",
                },
                required=True,
                description="Keyword, 1 to 100 characters (Chinese included): messages "
                "whose text contains it.",
            ),
        ],
        examples=[
            OpenApiExample(
                "Messages about claims (理赔)",
                value={
                    "id": 901,
                    "conversation": 12,
                    "channel": "wecom",
                    "external_id": "1732601234567_wm1",
                    "sent_at": "2026-11-26T10:07:14+08:00",
                    "msg_type": "text",
                    "sender": "customer",
                    "sender_staff": None,
                    "customer": 42,
                    "customer_name": "王*",
                    "staff": 7,
                    "text": "我的手机号是139****5678，理赔进度如何",
                    "attachment_name": "",
                    "attachment_size": None,
                    "attachment_content_type": "",
                    "attachment_sha256": "",
                    "revoked_at": None,
                    "digest": "9f2c...e1",
                },
                response_only=True,
                description="GET /api/v1/chats/search/?q=理赔&start=2026-11-01T00:00:00%2B08:00",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        refuse_blocked_reads(user=request.user, model=Message, channel=Channel.API, request=request)
        response = super().get(request, *args, **kwargs)
        record_access(
            actor=request.user,
            action=AccessAction.SEARCH,
            model=Message,
            object_ids=[row["id"] for row in response.data["results"]],
            channel=Channel.API,
            request=request,
            query=request.query_params.dict(),
        )
        return response


class CustomerTimelineView(DeclaredScopeMixin, generics.GenericAPIView):
    """Everything that happened with one customer, oldest first."""

    scope_actions = {"get": VIEW}  # scoped and recorded by recorded_timeline

    permission_classes = [model_permission("customers.view_customer")]
    serializer_class = TimelineEntrySerializer

    @extend_schema(responses=CustomerTimelineSerializer)
    def get(self, request, pk: int):
        refuse_blocked_reads(user=request.user, model=Message, channel=Channel.API, request=request)
        timeline = recorded_timeline(
            user=request.user, customer_id=pk, channel=Channel.API, request=request
        )
        if timeline is None:
            raise NotFound()
        timeline.pop("customer_obj")
        context = self.get_serializer_context()
        entries = TimelineEntrySerializer(timeline["entries"], many=True, context=context).data
        return Response({**timeline, "entries": entries})

"""GET /api/v1/chats/export/?format=csv|xlsx&start=&end=&customer=&staff=&team=&type="""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from chats.export import CSV, EXPORT_PERMISSION, FORMATS, XLSX_CONTENT_TYPE, export_response
from chats.filters import MessageFilter
from chats.models import Message
from scrm.access.scope import LIST
from scrm.api.permissions import model_permission
from scrm.api.viewsets import DeclaredScopeMixin
from scrm.audit.models import Channel

MESSAGE_FILTER_PARAMETERS = [
    OpenApiParameter(
        "start",
        OpenApiTypes.DATETIME,
        description="Messages sent at or after this time (ISO 8601).",
    ),
    OpenApiParameter(
        "end", OpenApiTypes.DATETIME, description="Messages sent before this time (ISO 8601)."
    ),
    OpenApiParameter(
        "customer",
        int,
        description="A customer's id: their private chats and the group rooms they are in.",
    ),
    OpenApiParameter(
        "staff", int, description="Id of the staff member the conversation is with now."
    ),
    OpenApiParameter(
        "team", int, description="Id of the team of the staff member the conversation is with."
    ),
    OpenApiParameter("type", str, enum=list(Message.Type.values), description="The message type."),
]


class JSONErrorsOnly(DefaultContentNegotiation):
    """`?format=` names the file type here, not a DRF renderer (URL_FORMAT_OVERRIDE would answer
    404 for `csv`), and `Accept: text/csv` must not answer 406: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ChatExportView(DeclaredScopeMixin, APIView):
    """Download the visible messages matching the filters, masked unless raw export is allowed."""

    second_factor_actions = frozenset({"get"})
    scope_actions = {"get": LIST}  # scoped by visible_to, recorded by export_response

    permission_classes = [model_permission(EXPORT_PERMISSION)]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsOnly

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(FORMATS),
                default=CSV,
                description="File type: `csv` (UTF-8 with BOM) or `xlsx`.",
            ),
            *MESSAGE_FILTER_PARAMETERS,
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
        },
        description="Download the messages matching the filters as an attachment. Recorded as "
        "an export; privileged roles need a second factor.",
    )
    def get(self, request):
        fmt = request.query_params.get("format", CSV)
        if fmt not in FORMATS:
            raise ValidationError(
                {"format": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(FORMATS)}]}
            )
        filterset = MessageFilter(
            data=request.query_params,
            queryset=Message.objects.visible_to(request.user),
            strict=True,
        )
        if not filterset.is_valid():
            raise ValidationError({name: list(errs) for name, errs in filterset.errors.items()})
        filters = {
            name: request.query_params[name]
            for name in MessageFilter.base_filters
            if request.query_params.get(name, "") != ""
        }
        return export_response(
            user=request.user,
            queryset=filterset.qs,
            fmt=fmt,
            channel=Channel.API,
            filters=filters,
            request=request,
        )

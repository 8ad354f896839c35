from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from customers.filters import EXACT_LOOKUPS, CustomerFilter
from customers.models import Customer
from customers.serializers import (
    CustomerDetailSerializer,
    CustomerSerializer,
    FollowUpSerializer,
    FollowUpWriteSerializer,
    RevealResultSerializer,
    RevealSerializer,
    ShareSerializer,
    TransactionSerializer,
    TransactionWriteSerializer,
    TransferResultSerializer,
    TransferSerializer,
)
from customers.services import (
    add_follow_up,
    add_transaction,
    create_customer,
    revoke_share,
    share_customer,
    transfer_customers,
    update_customer,
    update_follow_up,
    update_transaction,
)
from scrm.access.scope import CHANGE, SHARE, TRANSFER, VIEW
from scrm.api.concurrency import check_if_match, etag_of
from scrm.api.ids import ID_REGEX
from scrm.api.pagination import CappedCountPagination
from scrm.api.permissions import model_permission
from scrm.api.schema import CREATED_ID, FIRST_ROW_ID, PATH_ID, links
from scrm.api.viewsets import ScopedViewSetMixin, WriteOnly
from scrm.audit.models import AccessAction, Channel
from scrm.audit.services import refuse_blocked_reads
from scrm.masking.lookups import may_search_names, refuse, run_lookup
from scrm.masking.reveal import reveal_field

CUSTOMER_EXAMPLE = {
    "id": 42,
    "name": "王*",
    "mobile": "138****5678",
    "wechat_id": "wx_****",
    "email": "w***@example.com",
    "id_number": "3101**********1234",
    "address": "上海市浦东新区****",
    "company": "上海某某贸易有限公司",
    "source_channel": "wecom",
    "stage": "qualified",
    "tags": ["vip"],
    "owner": 7,
    "owner_name": "rep1",
    "wecom_external_userid": "wmABCDEF123",
    "created_at": "2026-03-02T09:15:00+08:00",
    "updated_at": "2026-11-20T16:40:12+08:00",
}


@extend_schema_view(
    list=extend_schema(
        examples=[
            OpenApiExample(
                "A rep's customers at the qualified stage",
                value=CUSTOMER_EXAMPLE,
                response_only=True,
                description="GET /api/v1/customers/?stage=qualified&page=1; sensitive fields "
                "masked.",
            )
        ]
    ),
    retrieve=extend_schema(
        examples=[
            OpenApiExample(
                "One customer, with who owned them when",
                value={
                    **CUSTOMER_EXAMPLE,
                    "ownership_history": [
                        {
                            "owner": 7,
                            "from": "2026-03-02T09:15:00+08:00",
                            "to": None,
                            "case": None,
                            "actor": None,
                        }
                    ],
                },
                response_only=True,
            )
        ]
    ),
)
class CustomerViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers in the caller's scope. Sensitive fields are always masked; use `reveal`."""

    queryset = Customer.objects.select_related("owner").prefetch_related("tags")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    # A manager's list can hold a million customers: count at most 1,000 past the page.
    pagination_class = CappedCountPagination
    permission_classes = [model_permission("customers.view_customer")]
    second_factor_actions = frozenset({"reveal"})
    # Actions that answer the customer's ETag; the writes among them take If-Match
    # (scrm.api.concurrency; documented by scrm.api.schema).
    etag_actions = frozenset({"retrieve", "update", "partial_update"})
    # Error answers beyond the generic ones (scrm.api.schema).
    error_responses = {
        action: {
            412: "If-Match names a version (ETag) that is no longer the customer's: read "
            "it again and retry."
        }
        for action in ("update", "partial_update")
    } | {
        "transfer": {
            404: "The new owner does not exist.",
            409: "A customer changed hands too often lately (2 in 90 days): `errors` names it.",
        }
    }
    # What a client calls next with the ids it holds (OpenAPI links, scrm.api.schema).
    response_links = {
        "customers_list": links(
            "customers_retrieve", "customers_timeline_retrieve", id=FIRST_ROW_ID
        ),
        "customers_create": links(
            "customers_retrieve",
            "customers_partial_update",
            "customers_reveal_create",
            "customers_timeline_retrieve",
            "customers_follow_ups_list",
            "customers_follow_ups_create",
            "customers_transactions_list",
            "customers_transactions_create",
            "customers_shares_list",
            "customers_shares_create",
            id=CREATED_ID,
        ),
        "customers_follow_ups_create": links(
            "customers_follow_ups_partial_update", id=PATH_ID, row_id=CREATED_ID
        ),
        "customers_transactions_create": links(
            "customers_transactions_partial_update", id=PATH_ID, row_id=CREATED_ID
        ),
        "customers_shares_create": links(
            "customers_shares_destroy", id=PATH_ID, share_id=CREATED_ID
        ),
    }
    scope_actions = {
        **ScopedViewSetMixin.scope_actions,
        "reveal": VIEW,
        "shares": VIEW,
        "revoke": SHARE,
        "create": WriteOnly("creates a customer; answers the record just written, masked"),
        "transfer": TRANSFER,
        # GET lists them (a read of the customer); POST logs one, which the service allows in
        # the customer's change scope only (403 for a viewer who sees it but may not change it).
        "follow_ups": VIEW,
        "transactions": VIEW,
        # Corrections: the customer in the caller's change scope, the row the caller's own.
        "follow_up_detail": CHANGE,
        "transaction_detail": CHANGE,
    }
    # The follow-up and deal routes need the right to that kind of row, besides the customer.
    row_permissions = {
        ("follow_ups", "GET"): "customers.view_followup",
        ("follow_ups", "POST"): "customers.add_followup",
        ("follow_up_detail", "PATCH"): "customers.change_followup",
        ("transactions", "GET"): "customers.view_transaction",
        ("transactions", "POST"): "customers.add_transaction",
        ("transaction_detail", "PATCH"): "customers.change_transaction",
    }

    def get_permissions(self):
        if self.action == "create":
            return [model_permission("customers.view_customer", "customers.add_customer")()]
        row = self.row_permissions.get((self.action, self.request.method))
        if row is not None:
            return [model_permission("customers.view_customer", row)()]
        return super().get_permissions()

    def get_serializer_class(self):
        # The history is per customer: lists and creates stay one query per page.
        return CustomerSerializer if self.action in ("list", "create") else CustomerDetailSerializer

    def list(self, request, *args, **kwargs):
        """Name search and exact lookups answer questions about masked values: refused (403,
        recorded) to roles that may not see or reveal them; exact lookups are budgeted and
        recorded with the value's blind index (scrm.masking.lookups)."""
        params = request.query_params
        audit = {"model": Customer, "channel": Channel.API, "request": request}
        if params.get("q") and not may_search_names(request.user):
            refuse(
                audit={"actor": request.user, **audit},
                query=params.dict(),
                message=_("Your role sees customer names masked: it may not search by name."),
            )
        exact = [field for field in EXACT_LOOKUPS if params.get(field)]
        if len(exact) > 1:
            raise ValidationError({exact[1]: [_("Look up one field at a time.")]})
        if not exact:
            return super().list(request, *args, **kwargs)
        field = exact[0]

        def listed(lookup_query: dict):
            self._lookup_query = lookup_query
            return super(CustomerViewSet, self).list(request, *args, **kwargs)

        return run_lookup(
            actor=request.user,
            field=field,
            blind_index=EXACT_LOOKUPS[field](params[field]),
            audit=audit,
            query=params.dict(),
            read=listed,
        )

    def record(self, action: str, object_ids, **extra):
        lookup_query = getattr(self, "_lookup_query", None)
        if action == AccessAction.LIST and lookup_query:
            extra["query"] = {**extra.get("query", {}), **lookup_query}
        return super().record(action, object_ids, **extra)

    # --- optimistic concurrency (scrm.api.concurrency) ---------------------------------------

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag_of(response.data)
        return response

    def update(self, request, *args, **kwargs):
        """PUT / PATCH. With `If-Match: <ETag of the detail>`, 412 when the customer changed
        since that read (nothing written); without it the write proceeds."""
        if request.headers.get("If-Match") is None:
            response = super().update(request, *args, **kwargs)
        else:
            # The scope first, outside the transaction: a denial's access event must survive.
            self.get_object()
            with transaction.atomic():
                # The lock, then the read the tag is compared with: no write between them.
                Customer.objects.select_for_update().filter(pk=self.kwargs["pk"]).exists()
                check_if_match(request, self.get_serializer(self.get_object()).data)
                response = super().update(request, *args, **kwargs)
        response["ETag"] = etag_of(response.data)
        return response

    def perform_create(self, serializer):
        serializer.instance = create_customer(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = update_customer(
            actor=self.request.user, customer=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request=RevealSerializer,
        responses=RevealResultSerializer,
        description="Reveal one sensitive field of a customer, with a reason. Recorded, "
        "budgeted per hour (429 `reveal_limit` past it) and, for privileged roles, only after "
        "a second factor.",
        examples=[
            OpenApiExample(
                "Reveal a mobile to call back",
                value={"field": "mobile", "reason": "回电确认报价"},
                request_only=True,
            ),
            OpenApiExample(
                "The unmasked mobile",
                value={"field": "mobile", "value": "13812345678"},
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        customer = self.get_object()
        body = RevealSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        value = reveal_field(
            actor=request.user,
            obj=customer,
            channel=Channel.API,
            request=request,
            **body.validated_data,
        )
        return Response({"field": body.validated_data["field"], "value": value})

    @extend_schema(
        methods=["GET"],
        responses=ShareSerializer(many=True),
        description="Every share of this customer (not paginated).",
    )
    @extend_schema(
        methods=["POST"],
        request=ShareSerializer,
        responses={201: ShareSerializer},
        description="Share this customer with a colleague.",
    )
    # One customer's shares are few: a bare list; the list's filters do not apply here.
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def shares(self, request, pk=None):
        customer = self.get_object()
        if request.method == "GET":
            grants = customer.grants.select_related("permission").order_by("id")
            self.record(AccessAction.VIEW, [customer.pk], query={"view": "shares"})
            return Response(ShareSerializer(grants, many=True).data)
        body = ShareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        colleague = get_object_or_404(get_user_model(), pk=data["staff_id"])
        grant = share_customer(
            actor=request.user,
            customer=customer,
            with_staff=colleague,
            level=data["level"],
            expires_at=data.get("expires_at"),
        )
        return Response(ShareSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=rf"shares/(?P<share_id>{ID_REGEX})")
    def revoke(self, request, pk=None, share_id=None):
        customer = self.get_object()
        grant = get_object_or_404(customer.grants, pk=share_id)
        revoke_share(actor=request.user, share=grant)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TransferSerializer, responses=TransferResultSerializer)
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        body = TransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        to_staff = get_object_or_404(get_user_model(), pk=data["to_staff"])
        result = transfer_customers(
            customers=Customer.objects.filter(pk__in=data["customers"]),
            to_staff=to_staff,
            actor=request.user,
            reason=data["reason"],
        )
        return Response(
            {
                "transferred": result.transferred,
                "unchanged": result.skipped_already_owned,
                "to_staff": to_staff.pk,
            }
        )

    # --- follow-ups and deals of one customer -------------------------------------------------

    def _rows(self, customer: Customer, queryset, serializer_class, view: str):
        """One page of a customer's rows, recorded as a view of the customer with its count."""
        refuse_blocked_reads(
            user=self.request.user, model=Customer, channel=Channel.API, request=self.request
        )
        page = self.paginate_queryset(queryset) or []  # always paginated: a page, never None
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        self.record(AccessAction.VIEW, [customer.pk], query={"view": view}, row_count=len(page))
        return self.get_paginated_response(data)

    def _row(
        self, customer: Customer, row, serializer_class, view: str, status_code=status.HTTP_200_OK
    ):
        # The answer shows the row just written: a read of the customer too.
        self.record(AccessAction.VIEW, [customer.pk], query={"view": view})
        data = serializer_class(row, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(methods=["GET"], responses=FollowUpSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=FollowUpWriteSerializer, responses={201: FollowUpSerializer}
    )
    @action(detail=True, methods=["get", "post"], url_path="follow-ups", filter_backends=[])
    def follow_ups(self, request, pk=None):
        """The customer's follow-ups, newest first (notes masked as on the timeline), or log one."""
        customer = self.get_object()
        if request.method == "GET":
            rows = customer.follow_ups.select_related("staff").order_by("-at", "-id")
            return self._rows(customer, rows, FollowUpSerializer, "follow_ups")
        body = FollowUpWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        follow_up = add_follow_up(actor=request.user, customer=customer, **body.validated_data)
        return self._row(
            customer, follow_up, FollowUpSerializer, "follow_ups", status.HTTP_201_CREATED
        )

    @extend_schema(request=FollowUpWriteSerializer(partial=True), responses=FollowUpSerializer)
    @action(detail=True, methods=["patch"], url_path=rf"follow-ups/(?P<row_id>{ID_REGEX})")
    def follow_up_detail(self, request, pk=None, row_id=None):
        """Correct a follow-up you logged (403 for anyone else's)."""
        customer = self.get_object()
        follow_up = get_object_or_404(customer.follow_ups, pk=row_id)
        body = FollowUpWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        follow_up = update_follow_up(actor=request.user, follow_up=follow_up, **body.validated_data)
        return self._row(customer, follow_up, FollowUpSerializer, "follow_ups")

    @extend_schema(methods=["GET"], responses=TransactionSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=TransactionWriteSerializer,
        responses={201: TransactionSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="transactions", filter_backends=[])
    def transactions(self, request, pk=None):
        """The customer's deals, newest first, or log one."""
        customer = self.get_object()
        if request.method == "GET":
            rows = customer.transactions.order_by("-date", "-id")
            return self._rows(customer, rows, TransactionSerializer, "transactions")
        body = TransactionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deal = add_transaction(actor=request.user, customer=customer, **body.validated_data)
        return self._row(
            customer, deal, TransactionSerializer, "transactions", status.HTTP_201_CREATED
        )

    @extend_schema(
        request=TransactionWriteSerializer(partial=True), responses=TransactionSerializer
    )
    @action(detail=True, methods=["patch"], url_path=rf"transactions/(?P<row_id>{ID_REGEX})")
    def transaction_detail(self, request, pk=None, row_id=None):
        """Correct a deal you logged (403 for anyone else's)."""
        customer = self.get_object()
        deal = get_object_or_404(customer.transactions, pk=row_id)
        body = TransactionWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        deal = update_transaction(actor=request.user, deal=deal, **body.validated_data)
        return self._row(customer, deal, TransactionSerializer, "transactions")

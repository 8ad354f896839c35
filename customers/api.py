from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from customers.filters import EXACT_LOOKUPS, CustomerFilter
from customers.models import Customer
from customers.serializers import (
    CustomerDetailSerializer,
    CustomerSerializer,
    RevealResultSerializer,
    RevealSerializer,
    ShareSerializer,
    TransferSerializer,
)
from customers.services import (
    create_customer,
    revoke_share,
    share_customer,
    transfer_customers,
    update_customer,
)
from scrm.access.scope import SHARE, TRANSFER, VIEW
from scrm.api.ids import ID_REGEX
from scrm.api.pagination import CappedCountPagination
from scrm.api.permissions import model_permission
from scrm.api.viewsets import ScopedViewSetMixin, WriteOnly
from scrm.audit.models import AccessAction, Channel
from scrm.masking.lookups import may_search_names, refuse, run_lookup
from scrm.masking.reveal import reveal_field


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
    scope_actions = {
        **ScopedViewSetMixin.scope_actions,
        "reveal": VIEW,
        "shares": VIEW,
        "revoke": SHARE,
        "create": WriteOnly("creates a customer; answers the record just written, masked"),
        "transfer": TRANSFER,
    }

    def get_permissions(self):
        if self.action == "create":
            return [model_permission("customers.view_customer", "customers.add_customer")()]
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
                message="Your role sees customer names masked: it may not search by name.",
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

    def perform_create(self, serializer):
        serializer.instance = create_customer(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = update_customer(
            actor=self.request.user, customer=serializer.instance, **serializer.validated_data
        )

    @extend_schema(request=RevealSerializer, responses=RevealResultSerializer)
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

    @extend_schema(request=ShareSerializer, responses=ShareSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
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

    @extend_schema(request=TransferSerializer, responses={200: dict})
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

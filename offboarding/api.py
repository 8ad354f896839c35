from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from customers.models import Customer
from offboarding.csv_import import import_leavers
from offboarding.models import CustomerTransfer, OffboardingCase, RevokedShare
from offboarding.preview import preview_case
from offboarding.reads import (
    record_customer_rows,
    record_customers_shown,
    record_report_export,
)
from offboarding.report import report_csv, report_summary, revoked_share_rows
from offboarding.serializers import (
    CaseCreateSerializer,
    CaseDetailSerializer,
    CasePreviewSerializer,
    CaseReportSerializer,
    CaseSerializer,
    CsvUploadSerializer,
    ImportResultSerializer,
    ReasonSerializer,
    ReconfirmedShareSerializer,
    RevokedShareSerializer,
    TransferSerializer,
    staff_by_ids,
)
from offboarding.services import (
    approve_case,
    cancel_case,
    create_case,
    reconfirm_share,
    record_refusal,
    run_now,
    schedule_case,
)
from scrm.access.scope import CHANGE, LIST, VIEW
from scrm.api.permissions import model_permission
from scrm.api.schema import CREATED_ID, FIRST_ROW_ID, links
from scrm.api.viewsets import DeclaredScopeMixin, RecordedReadsViewSetMixin, WriteOnly
from scrm.audit.models import Channel


class CaseViewSet(
    RecordedReadsViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Offboarding cases: HR creates and schedules, the supervisor approves, managers read."""

    queryset = OffboardingCase.objects.select_related("leaver").prefetch_related(
        "successors", "steps"
    )
    serializer_class = CaseSerializer
    permission_classes = [model_permission("offboarding.view_offboardingcase")]
    filterset_fields = ["status", "leaver"]
    # Scoped by OffboardingCase.objects.visible_to; lists and details recorded by the base,
    # the customers the preview and report show by offboarding.reads.
    second_factor_actions = frozenset(
        {"create", "approve", "schedule", "run", "cancel", "import_csv"}
    )
    scope_actions = {
        "list": LIST,
        "retrieve": VIEW,
        "create": WriteOnly("opens a case; answers the case just written"),
        "preview": VIEW,
        "approve": CHANGE,
        "schedule": CHANGE,
        "run": CHANGE,
        "cancel": CHANGE,
        "report": VIEW,
        "report_csv": VIEW,
        "import_csv": WriteOnly("opens cases from a CSV; answers their ids and line errors"),
    }

    error_responses = {
        "approve": {409: "The case is not a draft (any more)."},
        "schedule": {409: "The case is not approved (or was already scheduled or run)."},
        "run": {409: "The case is not approved, scheduled or failed."},
        "cancel": {409: "The case is running, completed or already cancelled."},
    }
    # A case's walk, as OpenAPI links (scrm.api.schema): open, approve, schedule or run, report.
    response_links = {
        "offboarding_cases_list": links("offboarding_cases_retrieve", id=FIRST_ROW_ID),
        "offboarding_cases_create": links(
            "offboarding_cases_retrieve",
            "offboarding_cases_preview_retrieve",
            "offboarding_cases_approve_create",
            "offboarding_cases_cancel_create",
            id=CREATED_ID,
        ),
        "offboarding_cases_approve_create": links(
            "offboarding_cases_schedule_create",
            "offboarding_cases_run_create",
            "offboarding_cases_cancel_create",
            id=CREATED_ID,
        ),
        "offboarding_cases_schedule_create": links(
            "offboarding_cases_run_create", "offboarding_cases_cancel_create", id=CREATED_ID
        ),
        "offboarding_cases_run_create": links(
            "offboarding_cases_retrieve",
            "offboarding_cases_report_retrieve",
            "offboarding_cases_report_csv_retrieve",
            id=CREATED_ID,
        ),
    }

    def get_queryset(self):
        queryset = super().get_queryset().visible_to(self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events")
        return queryset

    def get_serializer_class(self):
        # The detail carries the event trail; a list of cases with every trail would not be.
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def create(self, request):
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        leaver = staff_by_ids([data["leaver"]], "leaver")[0]
        plan = data.get("plan") or {
            "kind": "single",
            "successors": [data["successor"]],
            "overrides": {},
        }
        customers = {c.pk: c for c in Customer.objects.filter(pk__in=plan["overrides"])}
        unknown = [pk for pk in plan["overrides"] if pk not in customers]
        if unknown:
            raise ValidationError({"plan": [f"Unknown customer id(s) in overrides: {unknown}."]})
        override_staff = staff_by_ids(list(plan["overrides"].values()), "plan")
        overrides = {
            customers[pk]: s for pk, s in zip(plan["overrides"], override_staff, strict=True)
        }
        case = create_case(
            actor=request.user,
            leaver=leaver,
            reason=data["reason"],
            notice_date=data["notice_date"],
            effective_at=data["effective_at"],
            plan=plan["kind"],
            successors=staff_by_ids(plan["successors"], "successor"),
            overrides=overrides,
            handover_notes=data["handover_notes"],
        )
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=CasePreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        case = self.get_object()
        preview = preview_case(case=case, user=request.user)
        shown = [row["customer_id"] for row in preview["assignments"]]
        record_customers_shown(
            request=request, channel=Channel.API, case=case, view="preview", customer_ids=shown
        )
        return Response(preview)

    @extend_schema(request=None, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(
            CaseSerializer(approve_case(actor=request.user, case=self.get_object())).data
        )

    @extend_schema(request=None, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        return Response(
            CaseSerializer(schedule_case(actor=request.user, case=self.get_object())).data
        )

    @extend_schema(request=None, responses={202: CaseSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        case = run_now(actor=request.user, case=self.get_object())
        return Response(CaseSerializer(case).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReasonSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = cancel_case(actor=request.user, case=self.get_object(), **body.validated_data)
        return Response(CaseSerializer(case).data)

    @extend_schema(responses=CaseReportSerializer)
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        case = self.get_object()
        transfers = TransferSerializer(
            case.transfers.select_related("customer")[:1000],
            many=True,
            context=self.get_serializer_context(),
        )
        shares = RevokedShareSerializer(
            revoked_share_rows(case)[:1000], many=True, context=self.get_serializer_context()
        ).data
        # Each customer the page shows once, transfers first.
        shown = list(dict.fromkeys(row["customer"] for row in [*transfers.data, *shares]))
        record_customers_shown(
            request=request, channel=Channel.API, case=case, view="report", customer_ids=shown
        )
        return Response(
            {**report_summary(case), "transfers": transfers.data, "revoked_shares": shares}
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="report/csv")
    def report_csv(self, request, pk=None):
        case = self.get_object()
        record_report_export(request=request, channel=Channel.API, case=case)
        response = StreamingHttpResponse(
            report_csv(case, user=request.user), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="handover-{case.pk}.csv"'
        return response

    @extend_schema(
        request={"multipart/form-data": CsvUploadSerializer}, responses=ImportResultSerializer
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request):
        body = CsvUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = import_leavers(actor=request.user, content=body.validated_data["file"].read())
        return Response(
            {
                "created": [c.pk for c in result.created],
                "errors": [{"line": line, "reason": reason} for line, reason in result.errors],
            }
        )


class TransferViewSet(DeclaredScopeMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = CustomerTransfer.objects.select_related("customer")
    serializer_class = TransferSerializer
    permission_classes = [model_permission("offboarding.view_customertransfer")]
    filterset_fields = ["case", "status"]
    scope_actions = {"list": LIST, "refuse": CHANGE}
    error_responses = {"refuse": {409: "The transfer was already refused or failed."}}

    def get_queryset(self):
        cases = OffboardingCase.objects.visible_to(self.request.user)
        return super().get_queryset().filter(case__in=cases)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        record_customer_rows(
            request=request,
            channel=Channel.API,
            view="transfers",
            customer_ids=[row["customer"] for row in response.data["results"]],
            params=request.query_params.dict(),
        )
        return response

    @extend_schema(request=ReasonSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Record that the customer refused the hand-over; routes them to the team lead."""
        transfer = get_object_or_404(self.get_queryset(), pk=pk)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        transfer = record_refusal(actor=request.user, transfer=transfer, **body.validated_data)
        return Response(TransferSerializer(transfer, context=self.get_serializer_context()).data)


class RevokedShareViewSet(DeclaredScopeMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Shares leavers gave that their offboarding revoked. The customer's owner sees those of
    their customers and may re-confirm them; case readers see those of the cases they see."""

    queryset = RevokedShare.objects.select_related("customer", "colleague", "reconfirmed_by")
    serializer_class = RevokedShareSerializer
    permission_classes = [model_permission("customers.view_customer")]
    filterset_fields = ["case", "customer"]
    error_responses = {"reconfirm": {409: "The share was already re-confirmed, or has expired."}}
    scope_actions = {
        "list": LIST,
        "reconfirm": WriteOnly("re-grants one share; answers the new grant, not the customer"),
    }

    def get_queryset(self):
        user = self.request.user
        cases = OffboardingCase.objects.visible_to(user)
        return super().get_queryset().filter(Q(customer__owner=user.pk) | Q(case__in=cases))

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        record_customer_rows(
            request=request,
            channel=Channel.API,
            view="revoked_shares",
            customer_ids=[row["customer"] for row in response.data["results"]],
            params=request.query_params.dict(),
        )
        return response

    @extend_schema(request=None, responses={201: ReconfirmedShareSerializer})
    @action(detail=True, methods=["post"])
    def reconfirm(self, request, pk=None):
        """The customer's owner keeps the share: the colleague gets it again (same level)."""
        share = get_object_or_404(self.get_queryset(), pk=pk)
        grant = reconfirm_share(actor=request.user, share=share)
        share.refresh_from_db()
        return Response(
            {**RevokedShareSerializer(share).data, "share_id": grant.pk},
            status=status.HTTP_201_CREATED,
        )

"""HR's pages: create, preview, approve, schedule, watch progress, read and download the report."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.admin import ModelAdmin

from customers.models import Customer
from offboarding.admin_forms import CaseCreateForm, LeaversCsvForm, ReasonForm, RefusalActionForm
from offboarding.csv_import import import_leavers
from offboarding.models import CustomerTransfer, OffboardingCase, RevokedShare
from offboarding.preview import preview_case
from offboarding.reads import (
    record_customer_rows,
    record_customers_shown,
    record_report_export,
)
from offboarding.report import report_csv, report_rows, report_summary, revoked_share_rows
from offboarding.services import (
    approve_case,
    cancel_case,
    create_case,
    reconfirm_share,
    record_refusal,
    run_now,
    schedule_case,
)
from scrm.access.door import WriteOnly
from scrm.access.scope import CHANGE, VIEW
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.audit.models import AccessAction, Channel
from scrm.audit.services import record_access
from scrm.masking.detectors import mask_text
from scrm.masking.policy import customer_label
from scrm.masking.viewer import ViewerAdminMixin, current_viewer


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


@admin.register(OffboardingCase)
class OffboardingCaseAdmin(DoorAdminMixin, ModelAdmin):
    list_display = ["id", "leaver", "status", "plan", "notice_date", "effective_at", "progress"]
    list_filter = ["status", "plan"]
    list_select_related = ["leaver"]
    search_fields = ["leaver__username"]
    form = CaseCreateForm
    change_form_template = "admin/offboarding/offboardingcase/change_form.html"
    change_list_template = "admin/offboarding/offboardingcase/change_list.html"
    view_scopes = {
        "offboarding_case_preview": VIEW,
        "offboarding_case_approve": CHANGE,
        "offboarding_case_schedule": CHANGE,
        "offboarding_case_run": CHANGE,
        "offboarding_case_cancel": CHANGE,
        "offboarding_case_report": VIEW,
        "offboarding_case_report_csv": VIEW,
        "offboarding_case_import": WriteOnly("opens cases from a CSV; shows line errors"),
    }
    readonly_fields = [
        "leaver",
        "shown_reason",
        "notice_date",
        "effective_at",
        "plan",
        "successor_names",
        "shown_handover_notes",
        "status",
        "created_by",
        "approved_by",
        "approved_at",
        "started_at",
        "finished_at",
        "error",
        "shown_cancel_summary",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj else CaseCreateForm.Meta.fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a case is history: cancel it instead

    @admin.display(description="successors")
    def successor_names(self, case: OffboardingCase) -> str:
        return ", ".join(s.username for s in case.successors.all()) or "(team plan)"

    # Free text through the detectors on display too (rows stored before they learnt a format).
    @admin.display(description="reason")
    def shown_reason(self, case: OffboardingCase) -> str:
        return mask_text(case.reason)

    @admin.display(description="handover notes")
    def shown_handover_notes(self, case: OffboardingCase) -> str:
        return mask_text(case.handover_notes)

    @admin.display(description="cancel summary")
    def shown_cancel_summary(self, case: OffboardingCase) -> str:
        return mask_text(case.cancel_summary)

    @admin.display(description="progress")
    def progress(self, case: OffboardingCase) -> str:
        steps = list(case.steps.all())
        done = sum(s.status == "done" for s in steps)
        return f"{done}/{len(steps)} steps"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        form.instance = create_case(
            actor=request.user,
            leaver=data["leaver"],
            reason=data["reason"],
            notice_date=data["notice_date"],
            effective_at=data["effective_at"],
            plan=data["plan"],
            successors=list(data["successors"]),
            handover_notes=data["handover_notes"],
        )

    def save_related(self, request, form, formsets, change):
        pass  # create_case set the successors

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, f"Case not created: {_errors(exc)}", messages.ERROR)
            return redirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        actions = [("approve", "Approve"), ("schedule", "Schedule"), ("run", "Run now")]
        extra_context = {**(extra_context or {}), "case_actions": actions}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        case_urls = [
            path(
                f"<int:pk>/{name}/",
                view(getattr(self, f"{name}_view")),
                name=f"offboarding_case_{name}",
            )
            for name in ("preview", "approve", "schedule", "run", "cancel", "report")
        ]
        return [
            *case_urls,
            path(
                "<int:pk>/report.csv",
                view(self.report_csv_view),
                name="offboarding_case_report_csv",
            ),
            path("import/", view(self.import_view), name="offboarding_case_import"),
            *super().get_urls(),
        ]

    def _case(self, request, pk: int) -> OffboardingCase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _page(self, request, template: str, title: str, **context):
        return TemplateResponse(
            request,
            f"admin/offboarding/offboardingcase/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                **context,
            },
        )

    def _act(self, request, pk: int, verb, success: str, **kwargs):
        case = self._case(request, pk)
        if request.method != "POST":
            return redirect(reverse("admin:offboarding_offboardingcase_change", args=[pk]))
        try:
            verb(actor=request.user, case=case, **kwargs)
        except (ValidationError, PermissionDenied) as exc:
            text = _errors(exc) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, success, messages.SUCCESS)
        return redirect(reverse("admin:offboarding_offboardingcase_change", args=[pk]))

    def approve_view(self, request, pk: int):
        return self._act(request, pk, approve_case, "Case approved.")

    def schedule_view(self, request, pk: int):
        return self._act(request, pk, schedule_case, "Case scheduled for its effective time.")

    def run_view(self, request, pk: int):
        return self._act(request, pk, run_now, "Run started.")

    def cancel_view(self, request, pk: int):
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._act(request, pk, cancel_case, "Case cancelled.", **form.cleaned_data)
        return self._page(
            request,
            "cancel.html",
            "Cancel offboarding case",
            case=self._case(request, pk),
            form=form,
        )

    def preview_view(self, request, pk: int):
        case = self._case(request, pk)
        try:
            preview, problem = preview_case(case=case, user=request.user), None
        except ValidationError as exc:
            preview, problem = None, _errors(exc)
        shown = [row["customer_id"] for row in preview["assignments"]] if preview else []
        record_customers_shown(
            request=request, channel=Channel.ADMIN, case=case, view="preview", customer_ids=shown
        )
        return self._page(
            request,
            "preview.html",
            f"Preview of {case}",
            case=case,
            preview=preview,
            problem=problem,
        )

    def report_view(self, request, pk: int):
        case = self._case(request, pk)
        rows = list(report_rows(case)[:5000])
        shares = list(revoked_share_rows(case)[:5000])
        for row in rows:
            row.shown_reason = mask_text(row.reason)
            # the template's customer column, as the matrix shows it
            row.customer_shown = customer_label(request.user, row.customer)
        record_customers_shown(
            request=request,
            channel=Channel.ADMIN,
            case=case,
            view="report",
            customer_ids=list(dict.fromkeys(r.customer_id for r in [*rows, *shares])),
        )
        return self._page(
            request,
            "report.html",
            f"Handover report: {case}",
            case=case,
            summary=report_summary(case),
            rows=rows,
            shares=shares,
        )

    def report_csv_view(self, request, pk: int):
        case = self._case(request, pk)
        record_report_export(request=request, channel=Channel.ADMIN, case=case)
        response = StreamingHttpResponse(
            report_csv(case, user=request.user), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="handover-{case.pk}.csv"'
        return response

    def import_view(self, request):
        if not request.user.has_perm("offboarding.add_offboardingcase"):
            raise PermissionDenied
        form = LeaversCsvForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = import_leavers(
                    actor=request.user, content=form.cleaned_data["file"].read()
                )
            except ValidationError as exc:
                form.add_error("file", _errors(exc))
        return self._page(
            request, "import.html", "Import leavers from CSV", form=form, result=result
        )


@admin.register(CustomerTransfer)
class CustomerTransferAdmin(ViewerAdminMixin, DoorAdminMixin, ModelAdmin):
    list_display = [
        "id",
        "case",
        "customer_shown",
        "from_owner",
        "to_owner",
        "status",
        "shown_reason",
        "at",
    ]
    list_filter = ["status"]
    list_select_related = ["case__leaver", "customer", "from_owner", "to_owner"]
    actions = ["record_refusal_action"]
    action_form = RefusalActionForm

    @admin.display(description="reason")
    def shown_reason(self, transfer: CustomerTransfer) -> str:
        return mask_text(transfer.reason)

    def get_queryset(self, request):
        cases = OffboardingCase.objects.visible_to(request.user)
        return super().get_queryset(request).filter(case__in=cases)

    @admin.display(description="customer", ordering="customer")
    def customer_shown(self, transfer: CustomerTransfer) -> str:
        return customer_label(current_viewer(), transfer.customer)

    def record_changelist(self, request, changelist) -> None:
        # One event per page with the customers it listed.
        record_customer_rows(
            request=request,
            channel=Channel.ADMIN,
            view="transfers",
            customer_ids=[t.customer_id for t in changelist.result_list],
            params=request.GET.dict(),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_refuse_permission(self, request) -> bool:
        return request.user.has_perm("offboarding.run_offboardingcase")

    @admin.action(
        description="Record that the customer refused (route to team lead)", permissions=["refuse"]
    )
    def record_refusal_action(self, request, queryset):
        reason = request.POST.get("reason", "")
        done = 0
        for transfer in queryset:
            try:
                record_refusal(actor=request.user, transfer=transfer, reason=reason)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"#{transfer.pk}: {_errors(exc)}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} refusal(s) recorded.", messages.SUCCESS)


@admin.register(RevokedShare)
class RevokedShareAdmin(DoorAdminMixin, ModelAdmin):
    """Shares leavers gave, revoked by their offboarding run. The customer's owner (usually the
    successor) finds those of their customers here and re-confirms the ones to keep."""

    list_display = [
        "id",
        "case",
        "customer",
        "colleague",
        "level",
        "expires_at",
        "revoked_at",
        "reconfirmed_by",
        "reconfirmed_at",
    ]
    list_filter = [("reconfirmed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case__leaver", "customer", "colleague", "reconfirmed_by"]
    actions = ["reconfirm_action"]

    def get_queryset(self, request):
        user = request.user
        cases = OffboardingCase.objects.visible_to(user)
        return super().get_queryset(request).filter(Q(customer__owner=user.pk) | Q(case__in=cases))

    # Owners of customers are sales staff without offboarding permissions: the page is open to
    # whoever may read customers, and get_queryset keeps it to their own customers' shares.
    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("customers.view_customer")

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_reconfirm_permission(self, request) -> bool:
        return request.user.has_perm("customers.share_customer")

    def record_changelist(self, request, changelist) -> None:
        # One event per page with the customers it listed.
        record_customer_rows(
            request=request,
            channel=Channel.ADMIN,
            view="revoked_shares",
            customer_ids=[s.customer_id for s in changelist.result_list],
            params=request.GET.dict(),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        share = self.get_object(request, object_id)
        record_access(
            actor=request.user,
            action=AccessAction.VIEW if share else AccessAction.DENIED,
            model=Customer,
            object_ids=[share.customer_id] if share else [],
            channel=Channel.ADMIN,
            request=request,
            query={"view": "revoked_share", "share": object_id},
            allowed=share is not None,
        )
        # Recorded above against the customer; skip the mixin's event about the share row.
        return ModelAdmin.change_view(self, request, object_id, form_url, extra_context)

    @admin.action(
        description="Re-confirm selected shares (the colleague keeps the customer)",
        permissions=["reconfirm"],
    )
    def reconfirm_action(self, request, queryset):
        done = 0
        for share in queryset:
            try:
                reconfirm_share(actor=request.user, share=share)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"#{share.pk}: {_errors(exc)}", messages.ERROR)
            except PermissionDenied as exc:
                self.message_user(request, f"#{share.pk}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} share(s) re-confirmed.", messages.SUCCESS)

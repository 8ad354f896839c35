"""HR's pages: create, preview, approve, schedule, watch progress, read and download the report."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

import scrm.staff.admin_notifications  # noqa: F401 - registers "my notifications"
from customers.models import Customer
from offboarding.admin_forms import CaseCreateForm, LeaversCsvForm, ReasonForm, RefusalActionForm
from offboarding.csv_import import import_leavers
from offboarding.events import event_rows
from offboarding.models import CustomerTransfer, OffboardingCase, RevokedShare
from offboarding.panels import awaiting_approval
from offboarding.preview import preview_case
from offboarding.reads import (
    record_customer_rows,
    record_customers_shown,
    record_report_export,
)
from offboarding.report import (
    report_csv,
    report_people,
    report_rows,
    report_summary,
    revoked_share_rows,
)
from offboarding.services import (
    approve_case,
    cancel_case,
    create_case,
    may_approve,
    reconfirm_share,
    record_refusal,
    run_now,
    schedule_case,
)
from scrm.access.declarations import WriteOnly
from scrm.access.scope import CHANGE, VIEW
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.audit.models import AccessAction, Channel
from scrm.audit.services import record_access
from scrm.masking.detectors import mask_text
from scrm.masking.policy import customer_label
from scrm.masking.viewer import ViewerAdminMixin, current_viewer
from scrm.types import Text

if TYPE_CHECKING:
    from scrm.staff.types import Viewer


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(" ".join(v) for v in exc.message_dict.values())
    return " ".join(exc.messages)


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


class AwaitingApprovalFilter(admin.SimpleListFilter):
    title = _("approval")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", _("Awaiting my approval"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=awaiting_approval(request.user).values("pk"))
        return queryset


STATUS = OffboardingCase.Status
PREVIEWABLE = (STATUS.DRAFT, STATUS.APPROVED, STATUS.SCHEDULED, STATUS.FAILED)
REPORTABLE = (STATUS.RUNNING, STATUS.COMPLETED, STATUS.FAILED, STATUS.CANCELLED)


def case_actions(user: "Viewer", case: OffboardingCase) -> list[tuple[str, Text]]:
    """The buttons that work for this viewer on this case now (the services decide anyway)."""
    runs = user.has_perm("offboarding.run_offboardingcase")
    actions: list[tuple[str, Text]] = []
    if case.status == STATUS.DRAFT and may_approve(user, case):
        actions.append(("approve", _("Approve")))
    if runs and case.status == STATUS.APPROVED:
        actions.append(("schedule", _("Schedule for the effective time")))
    if runs and case.status in (STATUS.APPROVED, STATUS.SCHEDULED):
        actions.append(("run", _("Run now")))
    if runs and case.status == STATUS.FAILED:
        actions.append(("run", _("Resume the run")))
    return actions


def may_cancel(user: "Viewer", case: OffboardingCase) -> bool:
    return user.has_perm("offboarding.run_offboardingcase") and case.status not in (
        STATUS.COMPLETED,
        STATUS.CANCELLED,
        STATUS.RUNNING,
    )


def step_rows(case: OffboardingCase) -> list[dict]:
    """Each step as people read it: its name and status in words, never its stored detail."""
    return [
        {
            "code": s.name,
            "name": s.get_name_display(),
            "status": s.status,
            "status_label": s.get_status_display(),
            "percent": s.percent,
            "done": s.done,
            "total": s.total,
            "error": mask_text(s.error),
        }
        for s in case.steps.order_by("position")
    ]


@admin.register(OffboardingCase)
class OffboardingCaseAdmin(DoorAdminMixin, ModelAdmin):
    list_display = [
        "id",
        "leaver_name",
        "status",
        "plan",
        "notice_date",
        "effective_at",
        "progress",
    ]
    list_filter = [AwaitingApprovalFilter, "status", "plan"]
    list_select_related = ["leaver"]
    search_fields = ["leaver__username", "leaver__last_name", "leaver__first_name"]
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
        "offboarding_case_progress": VIEW,
        "offboarding_case_import": WriteOnly("opens cases from a CSV; shows line errors"),
    }
    readonly_fields = [
        "leaver_name",
        "shown_reason",
        "notice_date",
        "effective_at",
        "plan",
        "successor_names",
        "shown_handover_notes",
        "status",
        "created_by_name",
        "approver_name",
        "approved_by_name",
        "approved_at",
        "started_at",
        "finished_at",
        "shown_error",
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

    @admin.display(description=_("leaver"), ordering="leaver__last_name")
    def leaver_name(self, case: OffboardingCase) -> str:
        return case.leaver.display_name

    @admin.display(description=_("successors"))
    def successor_names(self, case: OffboardingCase) -> str:
        names = [s.display_name for s in case.successors.all()]
        return "、".join(names) or gettext("(team plan)")

    @admin.display(description=_("created by"))
    def created_by_name(self, case: OffboardingCase) -> str:
        return case.created_by.display_name

    @admin.display(description=_("approver"))
    def approver_name(self, case: OffboardingCase) -> str:
        return case.approver.display_name if case.approver else "-"

    @admin.display(description=_("approved by"))
    def approved_by_name(self, case: OffboardingCase) -> str:
        return case.approved_by.display_name if case.approved_by else "-"

    # Free text through the detectors on display too (rows stored before they learnt a format).
    @admin.display(description=_("reason"))
    def shown_reason(self, case: OffboardingCase) -> str:
        return mask_text(case.reason)

    @admin.display(description=_("handover notes"))
    def shown_handover_notes(self, case: OffboardingCase) -> str:
        return mask_text(case.handover_notes)

    @admin.display(description=_("error"))
    def shown_error(self, case: OffboardingCase) -> str:
        return mask_text(case.error)

    @admin.display(description=_("cancel summary"))
    def shown_cancel_summary(self, case: OffboardingCase) -> str:
        return mask_text(case.cancel_summary)

    @admin.display(description=_("progress"))
    def progress(self, case: OffboardingCase) -> str:
        steps = list(case.steps.all())
        done = sum(s.status == "done" for s in steps)
        return gettext("%(done)s of %(total)s steps") % {"done": done, "total": len(steps)}

    # --- creating: the service opens the case; its refusals become the form's errors ---------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        case = create_case(
            actor=request.user,
            leaver=data["leaver"],
            reason=data["reason"],
            notice_date=data["notice_date"],
            effective_at=data["effective_at"],
            plan=data["plan"],
            successors=list(data["successors"]),
            handover_notes=data["handover_notes"],
        )
        # The admin logs and redirects with the object it built: give it the case's id, or
        # it says "#None was added" and links to /None/change/.
        obj.pk, obj._state.adding, obj._state.db = case.pk, False, case._state.db
        form.instance = case

    def save_related(self, request, form, formsets, change):
        pass  # create_case set the successors

    def response_add(self, request, obj, post_url_continue=None):
        url = reverse("admin:offboarding_offboardingcase_change", args=[obj.pk])
        self.message_user(
            request,
            gettext(
                "Case #%(pk)s for %(name)s opened as a draft; "
                "%(approver)s has been asked to approve it."
            )
            % {
                "pk": obj.pk,
                "name": obj.leaver.display_name,
                "approver": obj.leaver.supervisor.display_name if obj.leaver.supervisor else "-",
            },
            messages.SUCCESS,
        )
        return redirect(url)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as exc:
            # create_case refused (the admin's transaction rolled back): show the same form,
            # everything typed kept, with the service's reasons at their fields.
            return self._refused_add_form(request, exc, form_url)

    def _refused_add_form(self, request, exc: ValidationError, form_url: str):
        form = self.get_form(request)(request.POST, request.FILES)
        form.is_valid()
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
        admin_form = helpers.AdminForm(
            form,
            # What Django's own changeform_view passes; the stubs type AdminForm's fieldsets
            # narrower than get_fieldsets' (lazy names, any options).
            list(self.get_fieldsets(request)),  # type: ignore[arg-type]
            self.get_prepopulated_fields(request),
            (),
            model_admin=self,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Add %s") % self.opts.verbose_name,
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
        }
        self.message_user(
            request, gettext("Case not opened: see the errors below."), messages.ERROR
        )
        return self.render_change_form(
            request, context, add=True, change=False, obj=None, form_url=form_url
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_queryset(request).filter(pk=object_id).first()
        extra = {}
        if case is not None:
            extra = {
                "case_actions": case_actions(request.user, case),
                "may_cancel": may_cancel(request.user, case),
                "may_preview": case.status in PREVIEWABLE,
                "may_report": case.status in REPORTABLE,
                "steps": step_rows(case),
                "events": event_rows(case),
                "polls": case.status == STATUS.RUNNING,
                "title": str(case),
            }
        extra_context = {**(extra_context or {}), **extra}
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
            path(
                "<int:pk>/progress.json",
                view(self.progress_json_view),
                name="offboarding_case_progress",
            ),
            path("import/", view(self.import_view), name="offboarding_case_import"),
            *super().get_urls(),
        ]

    def _case(self, request, pk: int) -> OffboardingCase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _page(self, request, template: str, title: str, case=None, **context):
        crumbs = [
            (gettext("Offboarding cases"), reverse("admin:offboarding_offboardingcase_changelist"))
        ]
        if case is not None:
            crumbs.append(
                (str(case), reverse("admin:offboarding_offboardingcase_change", args=[case.pk]))
            )
        return TemplateResponse(
            request,
            f"admin/offboarding/offboardingcase/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "case": case,
                "crumbs": crumbs,
                **context,
            },
        )

    def _act(self, request, pk: int, verb, say, **kwargs):
        case = self._case(request, pk)
        back = redirect(reverse("admin:offboarding_offboardingcase_change", args=[pk]))
        if request.method != "POST":
            return back
        try:
            result = verb(actor=request.user, case=case, **kwargs)
        except (ValidationError, PermissionDenied) as exc:
            text = _errors(exc) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, gettext(text), messages.ERROR)
        else:
            result.refresh_from_db()
            level, text = say(result)
            self.message_user(request, text, level)
        return back

    @staticmethod
    def _status_now(case: OffboardingCase) -> dict:
        return {"status": case.get_status_display(), "when": _when(case.effective_at)}

    def approve_view(self, request, pk: int):
        return self._act(
            request,
            pk,
            approve_case,
            lambda c: (
                messages.SUCCESS,
                gettext("Case approved; status: %(status)s.") % self._status_now(c),
            ),
        )

    def schedule_view(self, request, pk: int):
        return self._act(
            request,
            pk,
            schedule_case,
            lambda c: (
                messages.SUCCESS,
                gettext("The run is scheduled for %(when)s; status: %(status)s.")
                % self._status_now(c),
            ),
        )

    def run_view(self, request, pk: int):
        def say(case: OffboardingCase):
            # Say what the run did, as it stands now: with an eager Celery (development) it
            # has finished already; with a worker it has only started.
            now = self._status_now(case)
            if case.status == STATUS.COMPLETED:
                return messages.SUCCESS, gettext("The run has finished; status: %(status)s.") % now
            if case.status == STATUS.FAILED:
                return messages.ERROR, gettext(
                    "The run stopped; status: %(status)s. Resume it once the problem is fixed."
                ) % now
            return messages.INFO, gettext(
                "The run has started; status: %(status)s. This page follows its progress."
            ) % now

        return self._act(request, pk, run_now, say)

    def cancel_view(self, request, pk: int):
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._act(
                request,
                pk,
                cancel_case,
                lambda c: (
                    messages.SUCCESS,
                    gettext("Case cancelled; status: %(status)s.") % self._status_now(c),
                ),
                **form.cleaned_data,
            )
        return self._page(
            request,
            "cancel.html",
            gettext("Cancel offboarding case"),
            case=self._case(request, pk),
            form=form,
        )

    def progress_json_view(self, request, pk: int):
        """The case page's progress table, polled while the case runs (case_progress.js)."""
        case = self._case(request, pk)
        return JsonResponse(
            {
                "status": case.status,
                "status_label": case.get_status_display(),
                "running": case.status == STATUS.RUNNING,
                "steps": step_rows(case),
            }
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
        names = _names_by_username(preview["per_successor"]) if preview else {}
        return self._page(
            request,
            "preview.html",
            gettext("Preview of %(case)s") % {"case": case},
            case=case,
            preview=preview,
            problem=problem,
            per_successor=[
                (names.get(u, u), n) for u, n in (preview or {}).get("per_successor", {}).items()
            ],
            assignments=[
                {"customer": row["customer"], "to": names.get(row["to"], row["to"])}
                for row in (preview or {}).get("assignments", [])
            ],
            case_actions=case_actions(request.user, case),
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
            gettext("Handover report: %(case)s") % {"case": case},
            case=case,
            summary=report_summary(case),
            people=report_people(case),
            steps=step_rows(case),
            events=event_rows(case),
            rows=rows,
            shares=shares,
            company=settings.SCRM_COMPANY_NAME,
            printed_at=timezone.now(),
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
            request, "import.html", gettext("Import leavers from CSV"), form=form, result=result
        )


def _names_by_username(usernames) -> dict[str, str]:
    Staff = get_user_model()
    return {s.username: s.display_name for s in Staff.objects.filter(username__in=list(usernames))}


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

    @admin.display(description=_("reason"))
    def shown_reason(self, transfer: CustomerTransfer) -> str:
        return mask_text(transfer.reason)

    def get_queryset(self, request):
        cases = OffboardingCase.objects.visible_to(request.user)
        return super().get_queryset(request).filter(case__in=cases)

    @admin.display(description=_("customer"), ordering="customer")
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
        description=_("Record that the customer refused (route to team lead)"),
        permissions=["refuse"],
    )
    def record_refusal_action(self, request, queryset):
        reason = request.POST.get("reason", "")
        done = 0
        for transfer in queryset:
            try:
                record_refusal(actor=request.user, transfer=transfer, reason=reason)
                done += 1
            except ValidationError as exc:
                self.message_user(
                    request,
                    _("#%(pk)s: %(error)s") % {"pk": transfer.pk, "error": _errors(exc)},
                    messages.ERROR,
                )
        if done:
            self.message_user(
                request,
                ngettext("%(count)d refusal recorded.", "%(count)d refusals recorded.", done)
                % {"count": done},
                messages.SUCCESS,
            )


@admin.register(RevokedShare)
class RevokedShareAdmin(DoorAdminMixin, ModelAdmin):
    """Shares leavers gave, revoked by their offboarding run. The customer's owner (usually the
    successor) finds those of their customers here and re-confirms the ones to keep."""

    list_display = [
        "id",
        "case",
        "customer",
        "colleague",
        "level_label",
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

    readonly_fields = ["level_label"]

    def get_fields(self, request, obj=None):
        # The level as people read it (可查看), in the stored field's place.
        fields = [f for f in super().get_fields(request, obj) if f != "level_label"]
        return ["level_label" if f == "level" else f for f in fields]

    @admin.display(description=_("level"), ordering="level")
    def level_label(self, share: RevokedShare) -> str:
        return share.level_label

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
        description=_("Re-confirm selected shares (the colleague keeps the customer)"),
        permissions=["reconfirm"],
    )
    def reconfirm_action(self, request, queryset):
        done = 0
        for share in queryset:
            try:
                reconfirm_share(actor=request.user, share=share)
                done += 1
            except ValidationError as exc:
                self.message_user(
                    request,
                    _("#%(pk)s: %(error)s") % {"pk": share.pk, "error": _errors(exc)},
                    messages.ERROR,
                )
            except PermissionDenied as exc:
                self.message_user(
                    request,
                    _("#%(pk)s: %(error)s") % {"pk": share.pk, "error": exc},
                    messages.ERROR,
                )
        if done:
            self.message_user(
                request,
                ngettext("%(count)d share re-confirmed.", "%(count)d shares re-confirmed.", done)
                % {"count": done},
                messages.SUCCESS,
            )

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from customers import admin_history  # noqa: F401  (registers the ownership history admin)
from customers.admin_forms import (
    CustomerAdminForm,
    FollowUpForm,
    RevealForm,
    TransactionForm,
)
from customers.admin_reassign import reassign_owner
from customers.dashboard import dashboard_figures
from customers.models import Customer, OwnershipTransfer, Tag, mobile_index
from customers.services import (
    add_follow_up,
    add_transaction,
    create_customer,
    may_bind_archive,
    update_customer,
    update_follow_up,
    yuan,
)
from scrm.access.scope import CHANGE, LIST, VIEW, book_owners, can
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.audit.models import AccessAction, Channel
from scrm.masking.admin_lookups import DeclaredLookupsMixin, redirect_without
from scrm.masking.detectors import mask_text
from scrm.masking.lookups import (
    LookupLimitExceeded,
    LookupRefused,
    may_search_names,
    names_limited_to_book,
    refuse,
    run_lookup,
)
from scrm.masking.policy import (
    HIDDEN_VALUE,
    SENSITIVE_FIELDS,
    SHOWN,
    customer_label,
    presentation_for,
    shown,
)
from scrm.masking.reveal import RevealLimitExceeded, can_reveal, reveal_field
from scrm.masking.validation import MOBILE_RE, normalize_mobile
from scrm.masking.viewer import ViewerAdminMixin, current_viewer
from scrm.masking.views import may_read_matrix

if TYPE_CHECKING:
    from scrm.staff.types import Viewer


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OwnershipInline(ReadOnlyInline):
    model = OwnershipTransfer
    fk_name = "customer"
    verbose_name_plural = _("ownership history")
    fields = ["at", "from_owner", "to_owner", "actor", "masked_reason"]
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def masked_reason(self, move: OwnershipTransfer) -> str:
        return mask_text(move.reason)


def _masked_column(field: str):
    @admin.display(description=Customer._meta.get_field(field).verbose_name)  # type: ignore[union-attr]  # a concrete field: it has a verbose name
    def column(self, customer: Customer) -> str:
        # As the matrix shows it to the viewer: raw in their book, masked, or [hidden].
        value = getattr(customer, field)
        value = shown(current_viewer(), field, value, owner_id=customer.owner_id) or "-"
        # The token stays "[hidden]" in data (API, change log); people read it translated.
        return gettext(HIDDEN_VALUE) if value == HIDDEN_VALUE else value

    column.__name__ = f"masked_{field}"
    return column


REVEAL_LABELS = {
    "name": _("Show the full name"),
    "mobile": _("Show the full mobile number"),
    "wechat_id": _("Show the full WeChat ID"),
    "email": _("Show the full email address"),
    "address": _("Show the full address"),
    "id_number": _("Show the full ID number"),
}


class Labelled:
    """An object as the change form's templates use it (`original`), its text the viewer's
    label: unfold's header prints `original`, and str(customer) is the masked label."""

    def __init__(self, obj, label: str):
        self._obj = obj
        self._label = label

    def __getattr__(self, name):
        return getattr(self._obj, name)

    def __str__(self) -> str:
        return self._label


def work_panels(customer: Customer, viewer: "Viewer") -> dict:
    """The customer's follow-ups (due ones flagged; the viewer's own open ones can be marked
    done) and transactions for the change page."""
    now = timezone.now()
    follow_ups = [
        {
            "id": f.pk,
            "mine": f.staff_id == viewer.pk,
            "at": f.at,
            "staff": f.staff.display_name,
            "note": mask_text(f.note),
            "due_at": f.due_at,
            "done": f.done,
            "due": not f.done and f.due_at is not None and f.due_at <= now,
        }
        for f in customer.follow_ups.select_related("staff").order_by("-at")[:100]
    ]
    deals = list(customer.transactions.order_by("-date", "-id")[:100])
    return {
        "follow_ups": follow_ups,
        "transactions": [
            {"date": t.date, "product": t.product, "amount": yuan(t.amount)} for t in deals
        ],
    }


def _invalid_detail(errors) -> str:
    """The first error message, as the reveal button shows it."""
    for messages_ in errors.values():
        return str(messages_[0])
    return gettext("Invalid input.")


@admin.register(Customer)
class CustomerAdmin(DeclaredLookupsMixin, ViewerAdminMixin, DoorAdminMixin, ModelAdmin):
    """Customers as the viewer's scope allows; sensitive values as the masking matrix shows
    them to the viewer (ViewerAdminMixin), reads recorded."""

    view_scopes = {
        "customers_customer_reveal": VIEW,  # reveal_field checks the reveal scope and records
        "customers_customer_dashboard": LIST,
        # Log work on the customer: the change scope (customers.services); GET shows the form.
        "customers_customer_follow_up": CHANGE,
        "customers_customer_transaction": CHANGE,
        "customers_customer_follow_up_done": CHANGE,
    }

    form = CustomerAdminForm
    list_display = [
        "id",
        "masked_name",
        "masked_mobile",
        "company",
        "stage",
        "owner",
        "owner_team",
        "created_at",
    ]
    list_display_links = ["id", "masked_name"]
    list_filter = ["stage", ("owner", admin.RelatedOnlyFieldListFilter), "owner__team", "tags"]
    list_select_related = ["owner", "owner__team"]
    search_fields = ["name"]
    search_help_text = _("Name contains, or an exact mobile number.")
    # Follow-ups and transactions are the page's own panels (change_context), with forms to
    # log new ones; the ownership history stays a read-only inline.
    inlines = [OwnershipInline]
    actions = [reassign_owner]  # customers.admin_reassign
    change_form_template = "admin/customers/customer/change_form.html"
    change_list_template = "admin/customers/customer/change_list.html"

    masked_name = _masked_column("name")
    masked_mobile = _masked_column("mobile")
    masked_wechat_id = _masked_column("wechat_id")
    masked_email = _masked_column("email")
    masked_id_number = _masked_column("id_number")
    masked_address = _masked_column("address")

    @admin.display(description=_("team"), ordering="owner__team__name")
    def owner_team(self, customer: Customer) -> str:
        return customer.owner.team.name if customer.owner and customer.owner.team else "-"

    # --- the visibility scope ---------------------------------------------------------------
    def get_queryset(self, request):
        on_changelist = request.resolver_match and request.resolver_match.url_name.endswith(
            "_changelist"
        )
        action = LIST if on_changelist else VIEW
        return super().get_queryset(request).visible_to(request.user, action)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return super().has_change_permission(request)
        return can(request.user, CHANGE, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # customers are transferred, never deleted

    def get_fields(self, request, obj=None):
        fields = list(CustomerAdminForm.Meta.fields)
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only renders the raw attribute; show the policy's mask instead.
            fields = [f"masked_{f}" if f in SENSITIVE_FIELDS else f for f in fields]
        return [*fields, "owner"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        fields = ["owner"] if obj is not None else []
        # The archive binding is the sync's and administrators' (customers.services).
        if not may_bind_archive(request.user):
            fields.append("wecom_external_userid")
        return fields

    # --- search: name or exact mobile, each only for who may ask (scrm.masking.lookups) ----
    @staticmethod
    def _searched_mobile(search_term: str) -> str | None:
        candidate = normalize_mobile(search_term)
        return candidate if MOBILE_RE.match(candidate) else None

    def changelist_view(self, request, extra_context=None):
        term = request.GET.get("q", "").strip()
        if not term or not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        audit = {"model": Customer, "channel": Channel.ADMIN, "request": request}
        mobile = self._searched_mobile(term)
        try:
            if mobile is None:
                if not may_search_names(request.user):
                    refuse(
                        audit={"actor": request.user, **audit},
                        query=request.GET.dict(),
                        message=_(
                            "Your role sees customer names masked: it may not search by name."
                        ),
                    )
                return super().changelist_view(request, extra_context)

            def listed(lookup_query: dict):
                request.scrm_lookup_query = lookup_query  # merged into the list's access event
                return super(CustomerAdmin, self).changelist_view(request, extra_context)

            return run_lookup(
                actor=request.user,
                field="mobile",
                blind_index=mobile_index(mobile),
                audit=audit,
                query=request.GET.dict(),
                read=listed,
            )
        except LookupRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except LookupLimitExceeded:
            self.message_user(
                request,
                _("Lookup limit reached for this hour; security has been notified."),
                messages.ERROR,
            )
        return redirect_without(request, ["q"])

    def record(self, request, action: str, ids, **extra) -> None:
        lookup_query = getattr(request, "scrm_lookup_query", None)
        if action == AccessAction.LIST and lookup_query:
            extra["query"] = {**extra.get("query", {}), **lookup_query}
        super().record(request, action, ids, **extra)

    def get_form(self, request, obj=None, **kwargs):
        # The form shows each sensitive value as the matrix shows it to this viewer.
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"viewer": request.user})

    def get_search_results(self, request, queryset, search_term):
        # changelist_view has refused the searches the viewer may not run.
        if not search_term.strip():
            return queryset, False
        mobile = self._searched_mobile(search_term)
        if mobile is not None:
            if getattr(request, "scrm_lookup_query", None) is None:
                # Only through changelist_view's lookup door (right, budget, blind index):
                # other callers (Django's autocomplete view) get no exact-mobile answers.
                return queryset.none(), False
            # Exact mobile through the keyed blind index; the encrypted column is never scanned.
            return queryset.filter(mobile_bidx=mobile_index(mobile)), False
        if not may_search_names(request.user):
            return queryset.none(), False
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if names_limited_to_book(request.user):
            # Names are shown for the book's customers only: matching a shared customer's
            # name would confirm what the page shows masked.
            found = found.filter(owner_id__in=book_owners(request.user))
        return found, duplicates

    def change_context(self, request, customer: Customer) -> dict:
        # A value the page already shows raw (a rep's own customer's name) needs no reveal.
        revealable = [
            f
            for f in SENSITIVE_FIELDS
            if getattr(customer, f)
            and presentation_for(request.user, f, owner_id=customer.owner_id) != SHOWN
            and can_reveal(request.user, customer, f)
        ]
        may_log = can(request.user, CHANGE, customer)
        label = customer_label(request.user, customer)
        return {
            "revealable": [{"field": f, "label": REVEAL_LABELS[f]} for f in revealable],
            # The page title and the header show the customer as the matrix shows it to this
            # viewer (their own customers by name), not str(customer), which is always masked.
            "subtitle": label,
            "original": Labelled(customer, label),
            "may_log": may_log,
            **work_panels(customer, request.user),
        }

    # --- writes go through services ---------------------------------------------------------
    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.cleaned_data if name != "tags"}
        if change:
            update_customer(actor=request.user, customer=obj, **data)
        else:
            form.instance = create_customer(actor=request.user, **data)

    def save_related(self, request, form, formsets, change):
        form.instance.tags.set(form.cleaned_data.get("tags", []))
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # --- reveal, reassign, dashboard --------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/reveal/", view(self.reveal_view), name="customers_customer_reveal"),
            path("dashboard/", view(self.dashboard_view), name="customers_customer_dashboard"),
            path(
                "<int:pk>/follow-up/",
                view(self.follow_up_view),
                name="customers_customer_follow_up",
            ),
            path(
                "<int:pk>/transaction/",
                view(self.transaction_view),
                name="customers_customer_transaction",
            ),
            path(
                "<int:pk>/follow-up/<int:follow_up_id>/done/",
                view(self.follow_up_done_view),
                name="customers_customer_follow_up_done",
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request, pk: int):
        if request.method != "POST":
            return JsonResponse(
                {"code": "method_not_allowed", "detail": gettext("Use POST.")}, status=405
            )
        customer = self.get_queryset(request).filter(pk=pk).first()
        if customer is None:
            self.record(
                request, AccessAction.DENIED, [pk], allowed=False, query={"attempt": "reveal"}
            )
            return JsonResponse({"code": "not_found", "detail": gettext("Not found.")}, status=404)
        form = RevealForm(request.POST)
        if not form.is_valid():
            return JsonResponse(
                {"code": "invalid", "detail": _invalid_detail(form.errors), "errors": form.errors},
                status=400,
            )
        try:
            value = reveal_field(
                actor=request.user,
                obj=customer,
                channel=Channel.ADMIN,
                request=request,
                **form.cleaned_data,
            )
        except PermissionDenied:
            return JsonResponse(
                {"code": "permission_denied", "detail": gettext("You may not reveal this field.")},
                status=403,
            )
        except RevealLimitExceeded as exc:
            limited = JsonResponse(
                {
                    "code": "reveal_limit",
                    "detail": gettext(
                        "Reveal limit reached for this hour; security has been notified."
                    ),
                },
                status=429,
            )
            limited["Retry-After"] = str(exc.retry_after)
            return limited
        except ValidationError as exc:
            return JsonResponse(
                {
                    "code": "invalid",
                    "detail": _invalid_detail(exc.message_dict),
                    "errors": exc.message_dict,
                },
                status=400,
            )
        return JsonResponse({"field": form.cleaned_data["field"], "value": value})

    # --- logging work: follow-ups and transactions (customers.services) --------------------
    def follow_up_view(self, request, pk: int):
        return self._log_view(
            request,
            pk,
            form_class=FollowUpForm,
            verb=add_follow_up,
            title=_("Log a follow-up"),
            done=_("Follow-up logged."),
            anchor="follow-ups",
        )

    def transaction_view(self, request, pk: int):
        return self._log_view(
            request,
            pk,
            form_class=TransactionForm,
            verb=add_transaction,
            title=_("Log a transaction"),
            done=_("Transaction logged."),
            anchor="transactions",
        )

    def follow_up_done_view(self, request, pk: int, follow_up_id: int):
        """Mark one of the viewer's own follow-ups done (a button on the customer page)."""
        if request.method != "POST":
            return redirect(reverse("admin:customers_customer_change", args=[pk]))
        customer = self._workable_customer(request, pk)
        follow_up = customer.follow_ups.filter(pk=follow_up_id).first()
        if follow_up is None:
            raise Http404
        try:
            update_follow_up(actor=request.user, follow_up=follow_up, done=True)
        except (PermissionDenied, ValidationError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, _("Follow-up marked done."), messages.SUCCESS)
        change = reverse("admin:customers_customer_change", args=[pk])
        return redirect(f"{change}#follow-ups")

    def _workable_customer(self, request, pk: int) -> Customer:
        """The customer `pk` if the viewer may work on it; refusals are recorded and raised."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied  # roles without customer pages (security)
        customer = self.get_queryset(request).filter(pk=pk).first()
        attempt = request.resolver_match.url_name.removeprefix("customers_customer_")
        if customer is None:
            self.record(
                request, AccessAction.DENIED, [pk], allowed=False, query={"attempt": attempt}
            )
            raise Http404
        if not can(request.user, CHANGE, customer):
            # Seen (a view share, legal, auditors) but not theirs to work on.
            self.record(
                request, AccessAction.DENIED, [pk], allowed=False, query={"attempt": attempt}
            )
            raise PermissionDenied
        return customer

    def _log_view(self, request, pk: int, *, form_class, verb, title, done, anchor: str):
        customer = self._workable_customer(request, pk)
        attempt = request.resolver_match.url_name.removeprefix("customers_customer_")
        form = form_class(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                verb(actor=request.user, customer=customer, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(request, done, messages.SUCCESS)
                change = reverse("admin:customers_customer_change", args=[pk])
                return redirect(f"{change}#{anchor}")
        # The page names the customer: a read of it.
        self.record(request, AccessAction.VIEW, [pk], query={"view": attempt})
        label = customer_label(request.user, customer)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "subtitle": label,
            "customer": customer,
            "customer_label": label,
            "form": form,
            "change_url": reverse("admin:customers_customer_change", args=[pk]),
        }
        return TemplateResponse(request, "admin/customers/customer/log_work.html", context)

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        self.record(request, AccessAction.LIST, [], query={"view": "dashboard"})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Customer dashboard",
            "may_read_matrix": may_read_matrix(request.user),
            **dashboard_figures(request.user),
        }
        return TemplateResponse(request, "admin/customers/customer/dashboard.html", context)

    def has_transfer_permission(self, request) -> bool:
        return request.user.has_perm("customers.transfer_customer")


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    door_public = "tag names: shared vocabulary, no customer data"
    search_fields = ["name"]

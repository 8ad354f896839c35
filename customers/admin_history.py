"""Ownership history: who moved a customer, when, why, and under which offboarding case.

Readable by the customer's managers (team lead, sales manager: their customer scope holds the
customer) and by auditors (every customer), through the one door (`visible_to`). Each read is
recorded as a read of the customers it showed, so "who read customer N" finds it too.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter, RelatedDropdownFilter, TextFilter

from customers.models import Customer, OwnershipTransfer
from customers.ownership_access import may_read_history
from scrm.access.scope import VIEW
from scrm.audit.admin_mixins import DoorAdminMixin
from scrm.audit.links import admin_url
from scrm.audit.models import Channel
from scrm.audit.services import record_access
from scrm.masking.detectors import mask_text
from scrm.masking.policy import customer_label
from scrm.masking.viewer import ViewerAdminMixin, current_viewer


class CustomerIdFilter(TextFilter):
    title = _("customer id")
    parameter_name = "customer_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(customer_id=int(value)) if value.isdigit() else queryset.none()


def _name(staff) -> str:
    return staff.display_name if staff is not None else "-"


@admin.register(OwnershipTransfer)
class OwnershipHistoryAdmin(ViewerAdminMixin, DoorAdminMixin, ModelAdmin):
    list_display = [
        "at",
        "customer_shown",
        "from_name",
        "to_name",
        "actor_name",
        "short_reason",
        "case_link",
    ]
    list_display_links = ["at"]
    list_filter = [
        CustomerIdFilter,
        ("at", RangeDateTimeFilter),
        ("from_owner", RelatedDropdownFilter),
        ("to_owner", RelatedDropdownFilter),
        ("case", admin.EmptyFieldListFilter),
    ]
    list_filter_submit = True
    list_select_related = ["customer", "from_owner", "to_owner", "actor", "case"]
    fields = (
        "at",
        "customer_shown",
        "from_name",
        "to_name",
        "actor_name",
        "shown_reason",
        "case_link",
    )
    readonly_fields = fields

    # --- read only, for the readers, inside their customer scope ------------------------------
    def has_view_permission(self, request, obj=None) -> bool:
        return may_read_history(request.user)

    def has_module_permission(self, request) -> bool:
        return may_read_history(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        visible = Customer.objects.visible_to(request.user, VIEW).values("pk")
        return super().get_queryset(request).filter(customer__in=visible)

    def record(self, request, action: str, ids, **extra) -> None:
        # A read of the customers whose history it showed (the rows name them and their owners):
        # "who read customer N" finds it.
        moves = [int(pk) for pk in ids]
        customer_ids = sorted(
            set(
                OwnershipTransfer.objects.filter(pk__in=moves).values_list("customer_id", flat=True)
            )
        )
        query = {**extra.pop("query", {}), "view": "ownership history", "moves": moves[:100]}
        record_access(
            actor=request.user,
            action=action,
            model=Customer,
            object_ids=customer_ids,
            channel=Channel.ADMIN,
            request=request,
            query=query,
            **extra,
        )

    # --- columns ------------------------------------------------------------------------------
    @admin.display(description=_("customer"), ordering="customer_id")
    def customer_shown(self, move: OwnershipTransfer) -> str:
        label = customer_label(current_viewer(), move.customer)
        url = admin_url(current_viewer(), "customers.customer", move.customer_id)
        return (
            format_html('<a href="{}" class="text-primary-600 underline">{}</a>', url, label)
            if url
            else label
        )

    @admin.display(description=_("from owner"))
    def from_name(self, move: OwnershipTransfer) -> str:
        return _name(move.from_owner)

    @admin.display(description=_("to owner"))
    def to_name(self, move: OwnershipTransfer) -> str:
        return _name(move.to_owner)

    @admin.display(description=_("actor"))
    def actor_name(self, move: OwnershipTransfer) -> str:
        return _name(move.actor)

    @admin.display(description=_("reason"))
    def shown_reason(self, move: OwnershipTransfer) -> str:
        return mask_text(move.reason)

    @admin.display(description=_("reason"))
    def short_reason(self, move: OwnershipTransfer) -> str:
        return Truncator(mask_text(move.reason)).chars(40)

    @admin.display(description=_("case"))
    def case_link(self, move: OwnershipTransfer) -> str:
        if move.case_id is None:
            return "-"
        text = _("Offboarding case #%(id)s") % {"id": move.case_id}
        url = admin_url(current_viewer(), "offboarding.offboardingcase", move.case_id)
        return (
            format_html('<a href="{}" class="text-primary-600 underline">{}</a>', url, text)
            if url
            else text
        )

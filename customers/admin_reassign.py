"""The customer list's bulk action "reassign owner": the form, the choices, the messages.

The choices are only the colleagues the actor may make owners (scrm.access.scope.can_assign_to,
the rule every hand-over uses): active sales staff of the actor's team (a lead) or department
tree (a manager), never HR, legal, auditors, security officers, the archive sync's account or
anyone leaving. A target outside those (a crafted POST) is a form error, and the service checks
again; nothing moves unless everything is right. Errors re-render the page with the same
customers selected; every message is a sentence in the viewer's language.
"""

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from customers.services import transfer_customers
from scrm.access.registry import leaving_q
from scrm.access.scope import SALES_ROLES, can_assign_to
from scrm.audit.models import AccessAction
from scrm.masking.policy import customer_label
from scrm.staff import roles
from scrm.staff.models import Staff

if TYPE_CHECKING:
    from scrm.staff.types import Actor

# Roles whose holders never own customers, even if they also hold a sales role.
NON_SALES_ROLES = frozenset(
    {roles.HR, roles.LEGAL, roles.AUDITOR, roles.SECURITY_OFFICER, roles.ADMINISTRATOR}
)


def assignable_staff(actor: "Actor") -> QuerySet:
    """The colleagues `actor` may make the owner of customers, by display name."""
    candidates = (
        Staff.objects.filter(
            is_active=True,
            is_staff=True,
            employment_status=Staff.Status.ACTIVE,
            groups__name__in=SALES_ROLES,
        )
        .exclude(groups__name__in=NON_SALES_ROLES)
        .exclude(is_superuser=True)
        # Nobody who is leaving (an open offboarding case: scrm.access.registry).
        .exclude(leaving_q())
        .select_related("team", "department")
        .distinct()
    )
    if not (actor.is_superuser or roles.ADMINISTRATOR in actor.role_names):
        # Narrowed first to the actor's team and department tree; can_assign_to decides.
        near = Q(pk__in=[])
        if actor.team_id:
            near |= Q(team_id=actor.team_id)
        if actor.department is not None:  # no query when department_id is None
            near |= Q(department_id__in=actor.department.descendant_ids())
        candidates = candidates.filter(near)
    allowed = [s.pk for s in candidates if can_assign_to(actor, s)]
    return Staff.objects.filter(pk__in=allowed).order_by("last_name", "first_name", "username")


class SuccessorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return f"{obj.display_name}（{obj.team.name}）" if obj.team else obj.display_name


class ReassignOwnerForm(forms.Form):
    to_staff = SuccessorField(
        label=gettext_lazy("New owner"),
        queryset=Staff.objects.none(),
        empty_label=gettext_lazy("Choose a colleague"),
        widget=UnfoldAdminSelectWidget,
        error_messages={
            "required": gettext_lazy("Choose the new owner."),
            "invalid_choice": gettext_lazy(
                "You may not assign customers to this person: choose a colleague from the list."
            ),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Give a reason for the reassignment.")},
    )

    def __init__(self, *args, actor: "Actor", **kwargs):
        super().__init__(*args, **kwargs)
        # The form's own field, declared above: `fields` holds it as a plain forms.Field.
        successor = cast(SuccessorField, self.fields["to_staff"])
        successor.queryset = assignable_staff(actor)


def _refusal_sentences(exc: Exception) -> list[str]:
    # The service's refusals are sentences in the viewer's language already.
    return list(exc.messages) if isinstance(exc, ValidationError) else [str(exc)]


@admin.action(
    description=gettext_lazy("Reassign owner of selected customers"), permissions=["transfer"]
)
def reassign_owner(modeladmin, request, queryset):
    """The intermediate page (choose the colleague and the reason), then the move."""
    applying = "apply" in request.POST
    form = ReassignOwnerForm(request.POST if applying else None, actor=request.user)
    if form.is_valid():
        to_staff = form.cleaned_data["to_staff"]
        try:
            result = transfer_customers(customers=queryset, actor=request.user, **form.cleaned_data)
        except (PermissionDenied, ValidationError) as exc:
            for sentence in _refusal_sentences(exc):
                form.add_error(None, sentence)
        else:
            moved = ngettext(
                "%(count)d customer moved to %(name)s.",
                "%(count)d customers moved to %(name)s.",
                result.transferred,
            ) % {"count": result.transferred, "name": to_staff.display_name}
            if result.skipped_already_owned:
                moved += " " + ngettext(
                    "%(count)d already belonged to them.",
                    "%(count)d already belonged to them.",
                    result.skipped_already_owned,
                ) % {"count": result.skipped_already_owned}
            modeladmin.message_user(request, moved, messages.SUCCESS)
            return redirect(request.get_full_path())
    if applying:
        modeladmin.message_user(
            request, _("Nothing was reassigned: correct the errors below."), messages.ERROR
        )
    customers = list(queryset.select_related("owner"))
    # The page lists the selected customers (names as the matrix shows them): a read.
    modeladmin.record(
        request, AccessAction.LIST, [c.pk for c in customers], query={"view": "reassign"}
    )
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": _("Reassign owner"),
        "form": form,
        "customers": customers,
        "rows": [
            {
                "pk": c.pk,
                "label": customer_label(request.user, c),
                "owner": c.owner.display_name if c.owner else "-",
            }
            for c in customers
        ],
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/customers/customer/reassign_owner.html", context)

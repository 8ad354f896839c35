from django import forms
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from offboarding.models import OffboardingCase
from scrm.access.scope import SALES_ROLES
from scrm.staff import roles

# Whoever holds one of these roles is never a leaver HR hands over here nor a successor, even
# with a sales role on top: a book never lands with HR, audit, legal or security.
NOT_IN_SALES = (roles.HR, roles.AUDITOR, roles.LEGAL, roles.SECURITY_OFFICER)


def _sales_staff() -> QuerySet:
    Staff = get_user_model()
    # A sales role is required, so service accounts (wecom-sync, no groups) never appear.
    return (
        Staff.objects.filter(is_active=True, groups__name__in=SALES_ROLES)
        .exclude(groups__name__in=NOT_IN_SALES)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def eligible_leavers() -> QuerySet:
    """Sales staff, active or in their notice period, with no open offboarding case. HR's scope
    is every case (CaseQuerySet.visible_to), so every such person is in it."""
    open_cases = OffboardingCase.objects.filter(status__in=OffboardingCase.OPEN)
    return (
        _sales_staff()
        .filter(employment_status__in=("active", "notice"))
        .exclude(pk__in=open_cases.values("leaver_id"))
    )


def eligible_successors() -> QuerySet:
    """Active sales colleagues who are not leaving (no open case). The leaver is taken out of the
    list in the browser when picked (case_form.js) and refused by create_case anyway."""
    open_cases = OffboardingCase.objects.filter(status__in=OffboardingCase.OPEN)
    return (
        _sales_staff()
        .filter(employment_status="active")
        .exclude(pk__in=open_cases.values("leaver_id"))
    )


def staff_label(staff) -> str:
    """A person in a picker: their name (family name first) and, to tell namesakes apart, the
    username."""
    name = staff.display_name
    return f"{name} ({staff.username})" if name != staff.username else name


class CaseCreateForm(forms.ModelForm):
    class Meta:
        model = OffboardingCase
        fields = [
            "leaver",
            "reason",
            "notice_date",
            "effective_at",
            "plan",
            "successors",
            "handover_notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "leaver" not in self.fields:
            return  # an existing case is shown read-only
        leaver, successors = self.fields["leaver"], self.fields["successors"]
        leaver.queryset, successors.queryset = eligible_leavers(), eligible_successors()
        leaver.label_from_instance = successors.label_from_instance = staff_label
        leaver.help_text = _("Sales staff, active or in their notice period, without an open case.")
        successors.required = False
        # case_form.js adds a filter box above each of these lists (no autocomplete URL: the
        # admin's own is switched off because it bypasses scopes).
        for name in ("leaver", "successors"):
            widget = self.fields[name].widget
            widget = getattr(widget, "widget", widget)  # under the related-field wrapper
            widget.attrs.update({"data-staff-filter": name})


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class LeaversCsvForm(forms.Form):
    file = forms.FileField(
        label=_("file"),
        help_text=_(
            "Columns: username (or wecom_userid), notice_date, "
            "last_working_date (YYYY-MM-DD), optional successor, reason."
        ),
    )


class RefusalActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=500, label=_("Reason (for refusals)"))

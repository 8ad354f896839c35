from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    CHECKBOX_CLASSES,
    DATETIME_CLASSES,
    INPUT_CLASSES,
    TEXTAREA_CLASSES,
    UnfoldAdminTextInputWidget,
)

from customers.models import Customer
from scrm.masking.policy import SENSITIVE_FIELDS, SHOWN, masked, presentation_for, shown
from scrm.masking.validation import normalize_mobile, validate_id_number, validate_mobile


class CustomerAdminForm(forms.ModelForm):
    """Sensitive inputs start out showing the value as the masking matrix shows it to the
    viewer (`viewer`, set by CustomerAdmin.get_form): raw only where the matrix shows it (names
    in a sales viewer's book), else the mask. A field left as shown keeps its stored value.

    A masked raw value therefore never reaches the browser through the form; it is typed in (to
    change it) or revealed deliberately with the reveal button.
    """

    viewer = None  # no viewer: every value [hidden] (scrm.masking.policy.shown)

    class Meta:
        model = Customer
        fields = [
            "name",
            "mobile",
            "wechat_id",
            "email",
            "id_number",
            "address",
            "company",
            "source_channel",
            "stage",
            "tags",
            "wecom_external_userid",
        ]
        widgets = {name: UnfoldAdminTextInputWidget() for name in SENSITIVE_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Read-only roles get a form without the sensitive inputs (masked columns instead).
            owner_id = self.instance.owner_id
            for name in SENSITIVE_FIELDS.keys() & self.fields.keys():
                value = getattr(self.instance, name)
                self.initial[name] = shown(self.viewer, name, value, owner_id=owner_id)
                if presentation_for(self.viewer, name, owner_id=owner_id) != SHOWN:
                    field = self.fields[name]
                    field.help_text = _("Shown masked. Leave as is to keep the stored value.")

    def _clean_sensitive(self, name: str, *validators) -> str:
        value = self.cleaned_data.get(name, "")
        stored = getattr(self.instance, name)
        # What the form showed (raw, masked or [hidden]) and the plain mask stand for the stored
        # value; a value shown raw is simply the stored value.
        if self.instance.pk and value and value in (self.initial.get(name), masked(name, stored)):
            return stored
        # Validate only what was typed: the masked text shown in the form is not a value.
        for validate in validators:
            if value:
                validate(value)
        return value

    def clean_name(self):
        return self._clean_sensitive("name")

    def clean_mobile(self):
        return normalize_mobile(self._clean_sensitive("mobile", validate_mobile))

    def clean_wechat_id(self):
        return self._clean_sensitive("wechat_id")

    def clean_email(self):
        return self._clean_sensitive("email", validate_email).lower()

    def clean_id_number(self):
        return self._clean_sensitive("id_number", validate_id_number).upper()

    def clean_address(self):
        return self._clean_sensitive("address")


class ReassignOwnerForm(forms.Form):
    to_staff = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=get_user_model().objects.filter(is_active=True, employment_status="active"),
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[(name, name) for name in SENSITIVE_FIELDS])
    reason = forms.CharField(
        max_length=1000,
        error_messages={"required": _("Say why you need to see this value.")},
    )


def _classes(names: list[str]) -> str:
    return " ".join(names)


class FollowUpForm(forms.Form):
    """A follow-up as a rep logs it from the customer page (customers.services.add_follow_up)."""

    note = forms.CharField(
        label=_("What was done or agreed"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "class": _classes(TEXTAREA_CLASSES)}),
        error_messages={"required": _("Write what was done or agreed with the customer.")},
    )
    due_at = forms.DateTimeField(
        label=_("Next follow-up due"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": _classes(DATETIME_CLASSES)},
            format="%Y-%m-%dT%H:%M",
        ),
        error_messages={"invalid": _("Enter the due date and time, e.g. 2026-12-31 14:30.")},
    )
    done = forms.BooleanField(
        label=_("Already done"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": _classes(CHECKBOX_CLASSES)}),
    )


class TransactionForm(forms.Form):
    """A deal as a rep logs it from the customer page (customers.services.add_transaction)."""

    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(
            attrs={"type": "date", "class": _classes(DATETIME_CLASSES)}, format="%Y-%m-%d"
        ),
        error_messages={
            "required": _("Enter the date of the deal."),
            "invalid": _("Enter the date of the deal, e.g. 2026-12-31."),
        },
    )
    product = forms.CharField(
        label=_("Product"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": _classes(INPUT_CLASSES)}),
        error_messages={"required": _("Say which product or service was sold.")},
    )
    amount = forms.DecimalField(
        label=_("Amount (¥)"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "class": _classes(INPUT_CLASSES)}),
        error_messages={
            "required": _("Enter the amount in yuan."),
            "invalid": _("Enter the amount as a number, e.g. 12800.00."),
            "max_digits": _("The amount is too large."),
            "max_decimal_places": _("Enter the amount to the fen at most (two decimals)."),
            "max_whole_digits": _("The amount is too large."),
        },
    )

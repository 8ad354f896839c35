from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import validate_email

from customers.models import Customer
from scrm.masking.policy import SENSITIVE_FIELDS, masked
from scrm.masking.validation import normalize_mobile, validate_id_number, validate_mobile


class CustomerAdminForm(forms.ModelForm):
    """Sensitive inputs start out showing the mask; a field left as shown keeps its stored value.

    The raw value therefore never reaches the browser through the form; it is typed in (to
    change it) or revealed deliberately with the reveal button.
    """

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
        widgets = {name: forms.TextInput(attrs={"size": 40}) for name in SENSITIVE_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Read-only roles get a form without the sensitive inputs (masked columns instead).
            for name in SENSITIVE_FIELDS.keys() & self.fields.keys():
                self.initial[name] = masked(name, getattr(self.instance, name))
                self.fields[name].help_text = "Shown masked. Leave as is to keep the stored value."

    def _clean_sensitive(self, name: str, *validators) -> str:
        value = self.cleaned_data.get(name, "")
        if self.instance.pk and value and value == self.initial.get(name):
            return getattr(self.instance, name)
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
        label="New owner",
        queryset=get_user_model().objects.filter(is_active=True, employment_status="active"),
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[(name, name) for name in SENSITIVE_FIELDS])
    reason = forms.CharField(max_length=1000)

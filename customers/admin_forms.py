from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import validate_email

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
        widgets = {name: forms.TextInput(attrs={"size": 40}) for name in SENSITIVE_FIELDS}

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
                    field.help_text = "Shown masked. Leave as is to keep the stored value."

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
        label="New owner",
        queryset=get_user_model().objects.filter(is_active=True, employment_status="active"),
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[(name, name) for name in SENSITIVE_FIELDS])
    reason = forms.CharField(max_length=1000)

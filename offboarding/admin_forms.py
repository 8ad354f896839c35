from django import forms
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model

from offboarding.models import OffboardingCase


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
        active = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["leaver"].queryset = active
        self.fields["successors"].queryset = active.filter(employment_status="active")
        self.fields["successors"].required = False


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class LeaversCsvForm(forms.Form):
    file = forms.FileField(
        help_text="Columns: username (or wecom_userid), notice_date, "
        "last_working_date (YYYY-MM-DD), optional successor, reason."
    )


class RefusalActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=500, label="Reason (for refusals)")

import re

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.serializers import viewer_of
from offboarding.models import (
    CaseEvent,
    CaseStep,
    CustomerTransfer,
    OffboardingCase,
    RevokedShare,
)
from scrm.api.ids import ID_REGEX, IdField
from scrm.api.strict import StrictSerializer
from scrm.masking.detectors import mask_text
from scrm.masking.policy import customer_label
from scrm.staff.models import Staff


class MaskedTextField(serializers.CharField):
    """Free text read back through the detectors. The services store it masked already; this
    also covers rows stored before the detectors learnt a format."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return mask_text(super().to_representation(value))


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseStep
        fields = [
            "name",
            "status",
            "done",
            "total",
            "percent",
            "detail",
            "error",
            "started_at",
            "finished_at",
        ]


class CaseSerializer(serializers.ModelSerializer):
    leaver_username = serializers.CharField(source="leaver.username", read_only=True)
    successors: "serializers.PrimaryKeyRelatedField[Staff]" = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    steps = StepSerializer(many=True, read_only=True)
    reason = MaskedTextField()
    handover_notes = MaskedTextField()
    cancel_summary = MaskedTextField()

    class Meta:
        model = OffboardingCase
        fields = [
            "id",
            "leaver",
            "leaver_username",
            "reason",
            "notice_date",
            "effective_at",
            "plan",
            "successors",
            "handover_notes",
            "status",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "started_at",
            "finished_at",
            "error",
            "cancel_summary",
            "steps",
        ]


class MaskedDataField(serializers.DictField):
    """An event's `data`: its free text (a cancel reason, a step's error) through the detectors."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return {k: mask_text(v) if isinstance(v, str) else v for k, v in value.items()}


class CaseEventSerializer(serializers.ModelSerializer):
    """One entry of the case's trail (offboarding.events), oldest first."""

    kind_label = serializers.CharField(
        source="get_kind_display", read_only=True, help_text="The kind as people read it."
    )
    before = serializers.DictField(read_only=True, help_text="The state it changed, before.")
    after = serializers.DictField(read_only=True, help_text="The state it changed, after.")
    # The event's `data` member (DRF takes declared fields off the class; Serializer.data stays).
    data = MaskedDataField(help_text="What it concerned: step key, counts, ids, reason.")  # type: ignore[assignment]

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "kind_label", "actor", "created_at", "before", "after", "data"]
        read_only_fields = fields
        extra_kwargs = {"actor": {"help_text": "Staff id; null when the system acted."}}


class CaseDetailSerializer(CaseSerializer):
    """A case with its event trail (the detail; lists and actions answer without it)."""

    events = CaseEventSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events"]


class PlanSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=OffboardingCase.Plan.choices)
    successors = serializers.ListField(child=IdField(), required=False, default=list, max_length=50)
    overrides = serializers.DictField(child=IdField(), required=False, default=dict)

    def validate_overrides(self, value: dict) -> dict[int, int]:
        # JSON object keys are strings: "customer id" -> staff id.
        bad = [key for key in value if not re.fullmatch(ID_REGEX, str(key))]
        if bad:
            raise serializers.ValidationError(
                _("Keys must be customer ids, not %(keys)s.") % {"keys": ", ".join(map(str, bad))}
            )
        return {int(key): staff_id for key, staff_id in value.items()}


class CaseCreateSerializer(StrictSerializer):
    leaver = IdField()
    successor = IdField(required=False)
    plan = PlanSerializer(required=False)
    reason = serializers.CharField(max_length=500)
    notice_date = serializers.DateField(required=False)
    effective_at = serializers.DateTimeField()
    handover_notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if ("successor" in attrs) == ("plan" in attrs):
            raise serializers.ValidationError(
                {"plan": [_("Give either `successor` (one successor) or a `plan` object.")]}
            )
        attrs.setdefault("notice_date", timezone.localdate())
        return attrs


def staff_by_ids(ids, field: str) -> list:
    found = {s.pk: s for s in get_user_model().objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise serializers.ValidationError({field: [f"Unknown staff id(s): {missing}."]})
    return [found[i] for i in ids]


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class TransferSerializer(serializers.ModelSerializer):
    reason = MaskedTextField()
    # The name as the masking matrix shows it to the viewer (HR: masked; the successor's lead
    # and manager: their book's names).
    customer_name = serializers.SerializerMethodField()

    class Meta:
        model = CustomerTransfer
        fields = [
            "id",
            "case",
            "customer",
            "customer_name",
            "from_owner",
            "to_owner",
            "status",
            "reason",
            "at",
            "refused_at",
        ]

    def get_customer_name(self, transfer: CustomerTransfer) -> str:
        return customer_label(viewer_of(self), transfer.customer)


class CsvUploadSerializer(StrictSerializer):
    file = serializers.FileField(
        help_text="UTF-8 CSV with a header row: username (or wecom_userid), notice_date, "
        "last_working_date."
    )


class RevokedShareSerializer(serializers.ModelSerializer):
    """A share the leaver gave, revoked by the run; `reconfirmed_*` once the owner kept it."""

    customer_name = serializers.CharField(source="customer.__str__", read_only=True)  # masked
    colleague_username = serializers.CharField(source="colleague.username", read_only=True)
    reconfirmed_by = serializers.CharField(
        source="reconfirmed_by.username",
        default=None,
        read_only=True,
        allow_null=True,
        help_text="Username of who kept the share; null until it is re-confirmed.",
    )

    class Meta:
        model = RevokedShare
        fields = [
            "id",
            "case",
            "customer",
            "customer_name",
            "colleague",
            "colleague_username",
            "level",
            "granted_at",
            "expires_at",
            "revoked_at",
            "reconfirmed_by",
            "reconfirmed_at",
        ]


# --- answers of the case actions (what the views send, field for field) ---------------------


class AssignmentSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(help_text="Id of the customer.")
    customer = serializers.CharField(help_text="The customer's name as the viewer may see it.")
    to = serializers.CharField(help_text="Username of the successor the customer would go to.")


class CasePreviewSerializer(serializers.Serializer):
    leaver = serializers.CharField(help_text="Username of the leaver.")
    customers = serializers.IntegerField(help_text="Customers the leaver owns.")
    conversations = serializers.IntegerField(help_text="Conversations the leaver holds.")
    messages = serializers.IntegerField(help_text="Messages in those conversations.")
    open_follow_ups = serializers.IntegerField(help_text="The leaver's open follow-ups.")
    shares_held = serializers.IntegerField(help_text="Shares of others' customers they hold.")
    shares_given = serializers.IntegerField(help_text="Shares of their customers they gave.")
    per_successor = serializers.DictField(
        child=serializers.IntegerField(), help_text="Successor username -> customers they get."
    )
    assignments = AssignmentSerializer(
        many=True, help_text="The customers the viewer's scope shows (at most 500)."
    )
    assignments_truncated = serializers.BooleanField(
        help_text="True when the leaver has more customers than `assignments` lists."
    )


class ReportStepSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=CaseStep.Name.choices, help_text="The step.")
    status = serializers.ChoiceField(choices=CaseStep.Status.choices, help_text="Its state.")
    done = serializers.IntegerField(help_text="Items done.")
    total = serializers.IntegerField(help_text="Items in the step.")
    detail = serializers.DictField(help_text="Counts the step recorded.")
    error = serializers.CharField(help_text="Why the step failed (empty otherwise).")


class CaseReportSerializer(serializers.Serializer):
    leaver = serializers.CharField(help_text="Username of the leaver.")
    status = serializers.ChoiceField(
        choices=OffboardingCase.Status.choices, help_text="The case's state."
    )
    customers = serializers.IntegerField(help_text="Customers the run handled.")
    completed = serializers.IntegerField(help_text="Transfers completed.")
    refused = serializers.IntegerField(help_text="Transfers the customer refused.")
    failed = serializers.IntegerField(help_text="Transfers that failed.")
    by_successor = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Successor username -> customers transferred to them.",
    )
    shares_revoked = serializers.IntegerField(help_text="Shares the run revoked.")
    shares_reconfirmed = serializers.IntegerField(help_text="Revoked shares kept since.")
    steps = ReportStepSerializer(many=True, help_text="The run's steps, in order.")
    transfers = TransferSerializer(many=True, help_text="The transfers (at most 1,000).")
    revoked_shares = RevokedShareSerializer(
        many=True, help_text="The shares revoked (at most 1,000)."
    )


class ImportLineErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line number in the CSV (1: the header).")
    reason = serializers.CharField(help_text="Why the line opened no case.")


class ImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the cases opened."
    )
    # The answer's `errors` member: this serializer only writes answers, its .errors is unused.
    errors = ImportLineErrorSerializer(many=True, help_text="Lines that opened no case.")  # type: ignore[assignment]


class ReconfirmedShareSerializer(RevokedShareSerializer):
    share_id = serializers.IntegerField(read_only=True, help_text="Id of the new grant.")

    class Meta(RevokedShareSerializer.Meta):
        fields = [*RevokedShareSerializer.Meta.fields, "share_id"]

from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers

from customers.models import Customer, CustomerUserObjectPermission, FollowUp, Transaction
from customers.services import (
    ARCHIVE_BINDING_READ_ONLY,
    SHARE_LEVELS,
    archive_binding,
    may_bind_archive,
)
from scrm.api.ids import IdField
from scrm.api.strict import StrictSerializer
from scrm.masking.detectors import mask_text
from scrm.masking.free_text import display_text
from scrm.masking.policy import SENSITIVE_FIELDS, masked, shown
from scrm.masking.validation import normalize_mobile, validate_id_number, validate_mobile
from scrm.staff.models import Staff


def viewer_of(serializer: serializers.Field):
    """The user a serializer renders for: the request in its (root's) context. None when the
    context has no request, which the matrix answers with [hidden]: fail closed."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class _OwnedValue(NamedTuple):
    value: str | None
    owner_id: int | None


class MaskedCharField(serializers.CharField):
    """Writes accept the raw value; reads render it as the masking matrix shows it to the
    viewer (scrm.masking.policy.shown): raw in a sales viewer's book, masked, or [hidden]."""

    def __init__(self, *, policy_field: str, **kwargs):
        self.policy_field = policy_field
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        # The presentation depends on whose customer this is, not only on the value.
        return _OwnedValue(super().get_attribute(instance), getattr(instance, "owner_id", None))

    def to_representation(self, value):
        if not isinstance(value, _OwnedValue):
            value = _OwnedValue(value, None)
        return shown(viewer_of(self), self.policy_field, value.value, owner_id=value.owner_id)


def _shown_text(serializer: serializers.Field, text: str) -> str:
    """Free text as the timeline shows it: raw to who may read chat content raw
    (`chats.reveal_message`), else through the detectors (mask_text)."""
    viewer = viewer_of(serializer)
    return display_text(viewer, text) if viewer is not None else mask_text(text)


class FollowUpSerializer(serializers.ModelSerializer):
    """A follow-up as read: the note as the timeline shows it to the viewer."""

    note = serializers.SerializerMethodField()
    staff_name = serializers.CharField(source="staff.display_name", read_only=True)

    class Meta:
        model = FollowUp
        fields = ["id", "customer", "at", "staff", "staff_name", "note", "due_at", "done"]
        read_only_fields = fields

    def get_note(self, obj) -> str:
        return _shown_text(self, obj.note)


class FollowUpWriteSerializer(StrictSerializer):
    """Log (POST) or correct (PATCH, any of the fields) a follow-up; its author is the caller."""

    note = serializers.CharField(max_length=5000)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    done = serializers.BooleanField(required=False)


class TransactionSerializer(serializers.ModelSerializer):
    """A deal as read: the product (free text) as the timeline would show it."""

    product = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Transaction
        fields = ["id", "customer", "date", "product", "amount", "recorded_by"]
        read_only_fields = fields

    def get_product(self, obj) -> str:
        return _shown_text(self, obj.product)


class TransactionWriteSerializer(StrictSerializer):
    """Log (POST) or correct (PATCH, any of the fields) a deal; the caller is its recorder."""

    date = serializers.DateField()
    product = serializers.CharField(max_length=200)
    # A decimal string, as the answers give it; the pattern (in the schema too) is the whole
    # rule, 0.01 up to 10 digits before the point, at most two after (DecimalField would also
    # take "1e3", " 5" or a JSON number, none of which the schema allows).
    amount = serializers.RegexField(
        r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?))$",
        error_messages={"invalid": _("An amount from 0.01, at most two decimals: e.g. 1999.50.")},
        help_text="Amount, e.g. `1999.50` (a string: from 0.01, at most two decimals).",
    )

    def validate_amount(self, value: str) -> Decimal:
        return Decimal(value)


class TagNamesField(serializers.ListField):
    """Tags are written as a list of names and read back from the (prefetched) relation."""

    child = serializers.CharField(max_length=50)

    def to_representation(self, value):
        return [tag.name for tag in value.all()]


class CustomerSerializer(StrictSerializer, serializers.ModelSerializer):
    name = MaskedCharField(policy_field="name", max_length=100)
    mobile = MaskedCharField(
        policy_field="mobile", required=False, allow_blank=True, validators=[validate_mobile]
    )
    wechat_id = MaskedCharField(
        policy_field="wechat_id", required=False, allow_blank=True, max_length=64
    )
    email = MaskedCharField(policy_field="email", required=False, allow_blank=True, max_length=254)
    id_number = MaskedCharField(
        policy_field="id_number", required=False, allow_blank=True, validators=[validate_id_number]
    )
    address = MaskedCharField(
        policy_field="address", required=False, allow_blank=True, max_length=300
    )
    tags = TagNamesField(required=False, max_length=20)
    owner_name = serializers.CharField(
        source="owner.username",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Username of the customer's owner; null while the customer has none.",
    )
    # Declared, so DRF adds no uniqueness validator: for roles that may not set it, that
    # check would say which ids other customers hold (customers.services).
    wecom_external_userid = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=64
    )

    class Meta:
        model = Customer
        fields = [
            "id",
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
            "owner",
            "owner_name",
            "wecom_external_userid",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["owner", "created_at", "updated_at"]

    def to_internal_value(self, data):
        # A client that sends back the masked value it was shown has not changed the field: the
        # mask stands for the stored value (kept, not dropped, so a full PUT still validates).
        if self.instance is not None and isinstance(data, dict):
            data = {
                key: self._unmasked(key, value) if key in SENSITIVE_FIELDS else value
                for key, value in data.items()
            }
        return super().to_internal_value(data)

    def _unmasked(self, field: str, value):
        # What this viewer was shown (raw, masked or [hidden]) and the plain mask both stand for
        # the stored value; a value shown raw is simply the stored value.
        instance = self.instance
        assert instance is not None  # called for an update only (to_internal_value)
        stored = getattr(instance, field)
        owner_id = instance.owner_id
        was_shown = shown(viewer_of(self), field, stored, owner_id=owner_id)
        return stored if value and value in (masked(field, stored), was_shown) else value

    def validate_mobile(self, value: str) -> str:
        return normalize_mobile(value)

    def validate_wecom_external_userid(self, value: str | None) -> str | None:
        value = archive_binding(value)
        current = self.instance.wecom_external_userid if self.instance is not None else None
        if value != archive_binding(current) and not may_bind_archive(self.context["request"].user):
            # A right the role lacks (403), the same answer whatever the id: no uniqueness oracle.
            raise exceptions.PermissionDenied(ARCHIVE_BINDING_READ_ONLY)
        return value

    def validate_email(self, value: str) -> str:
        if value:
            serializers.EmailField().run_validation(value)
        return value.lower()

    def validate_id_number(self, value: str) -> str:
        return value.upper()


class RevealSerializer(StrictSerializer):
    field = serializers.ChoiceField(choices=sorted(SENSITIVE_FIELDS))
    reason = serializers.CharField(max_length=1000)


class RevealResultSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field revealed.")
    value = serializers.CharField(help_text="Its stored value, unmasked (empty when not set).")


class TransferResultSerializer(serializers.Serializer):
    transferred = serializers.IntegerField(help_text="Customers moved to the new owner.")
    unchanged = serializers.IntegerField(help_text="Customers the new owner already owned.")
    to_staff = serializers.IntegerField(help_text="Id of the new owner.")


class ShareSerializer(StrictSerializer, serializers.ModelSerializer):
    staff: "serializers.PrimaryKeyRelatedField[Staff]" = serializers.PrimaryKeyRelatedField(
        source="user", read_only=True
    )
    staff_id = IdField(write_only=True)
    level = serializers.ChoiceField(choices=list(SHARE_LEVELS), default="view")
    granted_by: "serializers.PrimaryKeyRelatedField[Staff]" = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = CustomerUserObjectPermission
        fields = ["id", "staff", "staff_id", "level", "granted_by", "granted_at", "expires_at"]
        read_only_fields = ["granted_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["level"] = "change" if instance.permission.codename == "change_customer" else "view"
        return data


class TransferSerializer(StrictSerializer):
    customers = serializers.ListField(child=IdField(), min_length=1, max_length=10_000)
    to_staff = IdField()
    reason = serializers.CharField(max_length=500)


def ownership_periods(customer: Customer) -> list[dict]:
    """Who owned the customer when, from the transfer history (oldest first)."""
    moves = list(
        customer.ownership.select_related("from_owner", "to_owner", "actor").order_by("at", "id")
    )
    if not moves:
        return [
            {
                "owner": customer.owner_id,
                "from": customer.created_at,
                "to": None,
                "case": None,
                "actor": None,
            }
        ]
    periods: list[dict[str, object]] = [
        {
            "owner": moves[0].from_owner_id,
            "from": customer.created_at,
            "to": moves[0].at,
            "case": None,
            "actor": None,
        }
    ]
    for move, following in zip(moves, [*moves[1:], None], strict=True):
        periods.append(
            {
                "owner": move.to_owner_id,
                "from": move.at,
                "to": following.at if following else None,
                "case": move.case_id,
                "actor": move.actor_id,
                # Typed by whoever moved the customer: numbers get pasted in here too.
                "reason": mask_text(move.reason),
            }
        )
    return periods


OWNERSHIP_PERIOD_FIELDS: dict[str, serializers.Field] = {
    "owner": serializers.IntegerField(
        allow_null=True, help_text="Id of the owner in this period (null: no owner)."
    ),
    "from": serializers.DateTimeField(help_text="When the period began."),
    "to": serializers.DateTimeField(
        allow_null=True, help_text="When it ended; null for the current owner."
    ),
    "case": serializers.IntegerField(
        allow_null=True, help_text="Offboarding case that moved the customer, if any."
    ),
    "actor": serializers.IntegerField(
        allow_null=True, help_text="Staff member who moved the customer, if recorded."
    ),
    "reason": serializers.CharField(
        required=False,
        help_text="Why the customer was moved (masked); absent for the first period.",
    ),
}


class CustomerDetailSerializer(CustomerSerializer):
    ownership_history = serializers.SerializerMethodField()

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "ownership_history"]

    @extend_schema_field(inline_serializer("OwnershipPeriod", OWNERSHIP_PERIOD_FIELDS, many=True))
    def get_ownership_history(self, customer: Customer) -> list[dict]:
        return ownership_periods(customer)

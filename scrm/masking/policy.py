"""The one masking policy: which fields are sensitive, their data class, and how they are masked.

Serializers, the admin, exports and templates all render sensitive values through `masked()`;
revealing a raw value is `scrm.masking.reveal.reveal_field`, never a direct attribute read.
"""

from collections.abc import Callable
from typing import NamedTuple

from scrm.masking.detectors import mask_text
from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_generic,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_wechat_id,
)

BASIC, CONTACT, IDENTITY, TRANSACTION, BEHAVIOUR = (
    "basic",
    "contact",
    "identity",
    "transaction",
    "behaviour",
)
DATA_CLASSES = (BASIC, CONTACT, IDENTITY, TRANSACTION, BEHAVIOUR)


class Sensitive(NamedTuple):
    data_class: str
    mask: Callable[[str], str]


SENSITIVE_FIELDS: dict[str, Sensitive] = {
    "name": Sensitive(BASIC, mask_name),
    "mobile": Sensitive(CONTACT, mask_mobile),
    "wechat_id": Sensitive(CONTACT, mask_wechat_id),
    "email": Sensitive(CONTACT, mask_email),
    "address": Sensitive(CONTACT, mask_address),
    "id_number": Sensitive(IDENTITY, mask_id_number),
}


def masked(field: str, value: str | None) -> str | None:
    if not value:
        return value
    return SENSITIVE_FIELDS[field].mask(value)


def reveal_permission(field: str) -> str:
    """The Django permission (held through a role group) that allows revealing this field."""
    return f"customers.reveal_{SENSITIVE_FIELDS[field].data_class}"


def mask_for_log(value: str) -> str:
    """django-auditlog masking: detected values keep their recognisable shape, others a stub."""
    value = str(value)
    detected = mask_text(value)
    return detected if detected != value else mask_generic(value)


def mask_query(params: dict) -> dict:
    """Query parameters as they may be stored in an access event: no raw sensitive value.

    A parameter named after a sensitive field (`?mobile=`) is masked by that field's mask, so
    formats the detectors do not recognise ("139 1234 5678", "139-1234-5678") are masked too.
    """
    return {key: _masked_param(key, val) for key, val in params.items() if val not in ("", None)}


def _masked_param(key: str, value):
    if isinstance(value, bool | int | float):
        return value  # counts and flags carry no personal data; keep them numbers
    if key in SENSITIVE_FIELDS:
        return masked(key, str(value))
    return mask_text(str(value))

"""The one masking policy: which fields are sensitive, their data class, and how they are masked.

Serializers, the admin, exports and templates render sensitive values for a viewer through
`shown()` (the role x data-class matrix, ROLE_MATRIX); `masked()` is the mask itself, for places
without a viewer. Revealing a raw value is `scrm.masking.reveal.reveal_field`, never a direct
attribute read.
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
from scrm.staff import roles

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


# --- the role x data-class matrix ----------------------------------------------------------
# How each role sees each data class by default. Revealing a raw value is always the separate,
# recorded act of scrm.masking.reveal; this only decides what a plain read shows.
SHOWN, IN_BOOK, MASKED, HIDDEN = "shown", "in_book", "masked", "hidden"
# IN_BOOK: shown for the customers of the viewer's book (the owners their own / team /
# department scope covers, scrm.access.scope.book_owners), masked for every other customer
# (shares, legal's and auditors' "everything").
PRESENTATIONS = (SHOWN, IN_BOOK, MASKED, HIDDEN)
# When a user holds several roles the most open presentation wins.
_OPENNESS = {HIDDEN: 0, MASKED: 1, IN_BOOK: 2, SHOWN: 3}
HIDDEN_VALUE = "[hidden]"

_SALES = {BASIC: IN_BOOK, CONTACT: MASKED, IDENTITY: MASKED}
ROLE_MATRIX: dict[str, dict[str, str]] = {
    roles.SALES_REP: _SALES,
    roles.TEAM_LEAD: _SALES,
    roles.SALES_MANAGER: _SALES,
    roles.LEGAL: {BASIC: MASKED, CONTACT: MASKED, IDENTITY: MASKED},
    roles.AUDITOR: {BASIC: MASKED, CONTACT: MASKED, IDENTITY: MASKED},
    roles.HR: {BASIC: MASKED, CONTACT: HIDDEN, IDENTITY: HIDDEN},
    roles.SECURITY_OFFICER: {BASIC: MASKED, CONTACT: HIDDEN, IDENTITY: HIDDEN},
    roles.ADMINISTRATOR: {BASIC: MASKED, CONTACT: MASKED, IDENTITY: MASKED},
}
# Superusers and roles not in the matrix: masked.
DEFAULT_PRESENTATION = MASKED


def presentation(user, data_class: str) -> str:
    """The most open presentation of `data_class` among the user's roles (no object needed)."""
    if user is None or not user.is_authenticated:
        return HIDDEN
    found = [
        ROLE_MATRIX[role].get(data_class, DEFAULT_PRESENTATION)
        for role in getattr(user, "role_names", ())
        if role in ROLE_MATRIX
    ]
    if user.is_superuser:
        found.append(ROLE_MATRIX[roles.ADMINISTRATOR].get(data_class, DEFAULT_PRESENTATION))
    return max(found, key=_OPENNESS.__getitem__, default=DEFAULT_PRESENTATION)


def presentation_for(user, field: str, *, owner_id: int | None) -> str:
    """SHOWN, MASKED or HIDDEN for one field of one customer (owned by `owner_id`)."""
    kind = presentation(user, SENSITIVE_FIELDS[field].data_class)
    if kind == IN_BOOK:
        from scrm.access.scope import book_owners  # scope imports roles only; no cycle at use

        if getattr(user, "employment_status", "active") != "active":
            # From the notice date a leaver keeps working on masked names: a departing rep
            # copying their book off the screen is the insider this matrix is about.
            return MASKED
        return SHOWN if owner_id is not None and owner_id in book_owners(user) else MASKED
    return kind


def customer_label(user, customer) -> str:
    """A customer as a line of text for `user`: the name as the matrix shows it, and the id.

    `str(customer)` is the masked label for places without a viewer (admin messages, the
    change log's object_repr)."""
    name = shown(user, "name", customer.name, owner_id=customer.owner_id)
    return f"{name} (#{customer.pk})"


def matrix_table() -> list[dict]:
    """ROLE_MATRIX as rows for the admin page: one per role, in the roles' order."""
    return [
        {
            "role": role,
            "cells": [ROLE_MATRIX[role].get(c, DEFAULT_PRESENTATION) for c in MATRIX_CLASSES],
        }
        for role in roles.ALL_ROLES
        if role in ROLE_MATRIX
    ]


# The data classes the matrix decides (customer fields); transaction and behaviour data are
# not masked field by field.
MATRIX_CLASSES = (BASIC, CONTACT, IDENTITY)


def shown(user, field: str, value: str | None, *, owner_id: int | None) -> str | None:
    """`value` of a sensitive customer field as `user` may see it on a plain read."""
    if not value:
        return value
    kind = presentation_for(user, field, owner_id=owner_id)
    if kind == SHOWN:
        return value
    if kind == HIDDEN:
        return HIDDEN_VALUE
    return masked(field, value)


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

"""The one masking policy: which fields are sensitive, their data class, and how they are masked.

Serializers, the admin, exports and templates render sensitive values for a viewer through
`shown()` (the role x data-class matrix, ROLE_MATRIX); `masked()` is the mask itself, for places
without a viewer. Revealing a raw value is `scrm.masking.reveal.reveal_field`, never a direct
attribute read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypedDict

from django.db.models import Field, Model
from django.utils.translation import gettext_noop

from scrm.masking.detectors import mask_text
from scrm.masking.masks import mask_generic, mask_name
from scrm.staff import roles
from scrm.types import Text

if TYPE_CHECKING:
    from auditlog.models import LogEntry

    from scrm.staff.types import Viewer

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


# field name -> its data class and mask. Empty here: the app that owns the records registers
# its sensitive fields (`register_sensitive_field`) when its models load, before any admin or
# serializer class reads this table; the platform supplies the masks and the data classes.
SENSITIVE_FIELDS: dict[str, Sensitive] = {}


def register_sensitive_field(name: str, *, data_class: str, mask: Callable[[str], str]) -> None:
    if data_class not in DATA_CLASSES:
        raise ValueError(f"unknown data class {data_class!r} for sensitive field {name!r}")
    SENSITIVE_FIELDS[name] = Sensitive(data_class, mask)


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
# A stable token in data (API, change log); the admin shows it translated.
HIDDEN_VALUE = gettext_noop("[hidden]")

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


def presentation(user: Viewer | None, data_class: str) -> str:
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


def presentation_for(user: Viewer | None, field: str, *, owner_id: int | None) -> str:
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


class _Subject(Protocol):
    """What customer_label reads of a customer (the platform names no domain model)."""

    pk: Any
    name: str
    owner_id: int | None


def customer_label(user: Viewer | None, customer: _Subject) -> str:
    """A customer as a line of text for `user`: the name as the matrix shows it, and the id.

    `str(customer)` is the masked label for places without a viewer (admin messages, the
    change log's object_repr)."""
    name = shown(user, "name", customer.name, owner_id=customer.owner_id)
    return f"{name} (#{customer.pk})"


class MatrixRow(TypedDict):
    role: str
    cells: list[str]


def matrix_table() -> list[MatrixRow]:
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


def shown(
    user: Viewer | None, field: str, value: str | None, *, owner_id: int | None
) -> str | None:
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
    """The Django permission (held through a role group) that allows revealing this field: the
    subject model declares one `reveal_<data class>` per class (scrm.audit.links)."""
    from scrm.audit.links import subject_label

    app_label = subject_label().split(".")[0]
    return f"{app_label}.reveal_{SENSITIVE_FIELDS[field].data_class}"


def mask_for_log(value: str) -> str:
    """django-auditlog's default mask (AUDITLOG_MASK_CALLABLE), for free-text fields such as a
    follow-up's note: detected values keep their recognisable shape, anything else a stub.
    Structured sensitive fields do not come here: `register_masked_log` gives each its own
    mask from SENSITIVE_FIELDS."""
    value = str(value)
    detected = mask_text(value)
    return detected if detected != value else mask_generic(value)


# --- the change log: one mask per field ----------------------------------------------------
# django-auditlog calls its mask callable with the value only (auditlog/diff.py:
# `mask_func(smart_str(value))`, one callable per model), so a name could not be told from a
# WeChat ID there. `register_masked_log` registers the model without auditlog's masking for
# the sensitive fields and masks them, each by its SENSITIVE_FIELDS mask, in the LogEntry's
# pre_save: the row is written masked (the audit tables refuse UPDATE on PostgreSQL, so it
# has to be right on the first write). Both happen in the one call, so neither can be
# registered without the other.
_LOG_MASKS: dict[type[Model], dict[str, Callable[[str], str]]] = {}
# auditlog writes a missing value (the "before" of a create) as the string "None".
_LOG_EMPTY = ("", "None")


def register_masked_log(model: type[Model], *, sensitive: list[str], **options: Any) -> None:
    """`auditlog.register(model, **options)`, the `sensitive` fields (names of
    SENSITIVE_FIELDS) logged through their masks."""
    from auditlog.models import LogEntry
    from django.db.models.signals import pre_save

    from scrm.audit.registry import register

    _LOG_MASKS[model] = {field: SENSITIVE_FIELDS[field].mask for field in sensitive}
    pre_save.connect(_mask_log_entry, sender=LogEntry, dispatch_uid="scrm_mask_log_entry")
    register(model, **options)


def _mask_log_value(mask: Callable[[str], str], value: object) -> object:
    if not isinstance(value, str) or value in _LOG_EMPTY:
        return value
    return mask(value)


def _mask_log_entry(sender: type[LogEntry], instance: LogEntry, **kwargs: object) -> None:
    model = instance.content_type.model_class() if instance.content_type_id else None
    masks = _LOG_MASKS.get(model) if model is not None else None
    if not masks:
        return
    changes = instance.changes
    if isinstance(changes, dict):
        instance.changes = {
            field: [_mask_log_value(masks[field], v) for v in change]
            if field in masks and isinstance(change, list | tuple)
            else change
            for field, change in changes.items()
        }
    data = instance.serialized_data
    if isinstance(data, dict) and isinstance(data.get("fields"), dict):
        data["fields"] = {
            field: _mask_log_value(masks[field], value) if field in masks else value
            for field, value in data["fields"].items()
        }


def mask_query(params: Mapping[str, object], viewer: Viewer | None = None) -> dict[str, object]:
    """Query parameters as they may be stored in an access event: no raw sensitive value.

    A parameter named after a sensitive field (`?mobile=`) is masked by that field's mask, so
    formats the detectors do not recognise ("139 1234 5678", "139-1234-5678") are masked too.
    A search term (`q`) of a viewer who sees names masked (or of no known viewer) is masked as
    a name as well: it may be the name they typed, which the record must not hand back.
    """
    names_masked = presentation(viewer, BASIC) not in (SHOWN, IN_BOOK)
    return {
        key: _masked_param(key, val, names_masked)
        for key, val in params.items()
        if val not in ("", None)
    }


_HMAC = re.compile(r"[0-9a-f]{64}")


def _masked_param(key: str, value: object, names_masked: bool = False) -> object:
    if isinstance(value, bool | int | float):
        return value  # counts and flags carry no personal data; keep them numbers
    if key.endswith("_bidx") and _HMAC.fullmatch(str(value)):
        return value  # a keyed blind index (scrm.masking.lookups): no value, only comparable
    # `mobile`, and lookups on a sensitive field (`name__regex`, `customer__mobile__startswith`)
    field = next((part for part in key.split("__") if part in SENSITIVE_FIELDS), None)
    if field is not None:
        return masked(field, str(value))
    if key == "q" and names_masked:
        return mask_name(mask_text(str(value)))
    return mask_text(str(value))


def field_label(field: str) -> Text:
    """A sensitive field by its name as people read it (手机号), from the customer model that
    declares it (a label, not an import); the code itself when there is no such field."""
    from django.core.exceptions import FieldDoesNotExist

    from scrm.audit.links import subject_model

    try:
        found = subject_model()._meta.get_field(field)
    except (LookupError, FieldDoesNotExist):
        return field
    if not isinstance(found, Field):  # a relation's reverse side has no label of its own
        return field
    # Lazy: it reads in the language of wherever it is shown (product_text for stored text).
    label: Text = found.verbose_name
    return label

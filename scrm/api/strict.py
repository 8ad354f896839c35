"""Request bodies are taken as the schema says, or refused with 400 naming the field.

DRF is lenient where a contract must not be: it ignores fields it does not know (a typo'd
`mobiel` is silently dropped) and turns numbers into text (`"reason": 0` becomes "0"). A
generated client, and schemathesis' negative checks, expect what the OpenAPI schema declares:
every request body `additionalProperties: false` (scrm.api.schema), text fields strings.
`StrictSerializer` (and `StrictInputMixin` for model serializers) enforce both; every serializer
that reads a request body is one.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

UNKNOWN_FIELD = _("Unknown field.")
NOT_TEXT = _("Not a valid string.")


def _is_number(value) -> bool:
    return isinstance(value, int | float)  # bool is an int: refused too


def _type_errors(fields, data: dict) -> dict:
    errors: dict = {}
    for name, field in fields.items():
        if name not in data or field.read_only:
            continue
        value = data[name]
        if isinstance(field, serializers.CharField) and _is_number(value):
            errors[name] = [NOT_TEXT]
        elif (
            isinstance(field, serializers.ListField)
            and isinstance(field.child, serializers.CharField)
            and isinstance(value, list)
        ):
            items = {i: [NOT_TEXT] for i, item in enumerate(value) if _is_number(item)}
            if items:
                errors[name] = items
    return errors


class StrictInputMixin:
    # Unknown fields and numbers given for text are refused before DRF's own validation. (A
    # comment, not a docstring: drf-spectacular would describe every request body with it.)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {key: [UNKNOWN_FIELD] for key in sorted(set(data) - set(self.fields))}
            errors.update(_type_errors(self.fields, data))
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    pass

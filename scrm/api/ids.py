"""Numbers from clients never reach the database out of range.

Primary keys are 64-bit (`BigAutoField`). A number beyond that, e.g. 99999999999999999999, used
to reach the query: SQLite raises OverflowError, PostgreSQL "bigint out of range" — a 500.

- path ids: every viewset's `lookup_value_regex` (and the `id` path converter for plain URLs)
  accepts 1 to 18 digits, so `/customers/abc/` and `/customers/99999999999999999999/` match no
  URL and answer 404 (JSON: scrm.api.middleware);
- filters: `FilterBackend` builds every filterset on `BoundedFilterSet`, whose number filters
  and model choice filters refuse a value outside 0..MAX_ID with 400 and the filter's name;
- bodies: `IdField` is an IntegerField bounded the same way (400 with the field's name).
"""

import django_filters
from django import forms
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers

MAX_ID = 2**63 - 1
# 18 digits are always below 2**63; a 19-digit id would be the nine quintillionth row.
ID_REGEX = r"[0-9]{1,18}"
OUT_OF_RANGE = _("Ensure this value is a whole number between 0 and %(max)s.")


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class IdField(serializers.IntegerField):
    """A row id in a request body: 1..MAX_ID, else 400 naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def _check_id(value) -> None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return  # not a number: the field's own validation says so
    if not 0 <= number <= MAX_ID:
        raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range", params={"max": MAX_ID})


class BoundedModelChoiceField(django_filters.fields.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values:
            _check_id(value)
        return super().to_python(value)


class BoundedModelMultipleChoiceField(django_filters.fields.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            _check_id(item)
        return super()._check_values(value)


class BoundedFilterSet(django_filters.FilterSet):
    """Number filters are bounded to the id range, model choices check it before the query."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            if isinstance(filter_, django_filters.NumberFilter):
                filter_.extra.setdefault("min_value", -MAX_ID)
                filter_.extra.setdefault("max_value", MAX_ID)
                filter_.extra.setdefault("decimal_places", 0)
            elif isinstance(filter_, django_filters.ModelMultipleChoiceFilter):
                filter_.field_class = BoundedModelMultipleChoiceField
            elif isinstance(filter_, django_filters.ModelChoiceFilter):
                filter_.field_class = BoundedModelChoiceField


class FilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend, its generated filtersets (`filterset_fields`) bounded."""

    filterset_base = BoundedFilterSet

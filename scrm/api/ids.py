"""Numbers from clients never reach the database out of range.

Primary keys are 64-bit (`BigAutoField`). A number beyond that, e.g. 99999999999999999999, used
to reach the query: SQLite raises OverflowError, PostgreSQL "bigint out of range" — a 500.

- path ids: every viewset's `lookup_value_regex` (and the `id` path converter for plain URLs)
  accepts 1 to 18 digits, so `/customers/abc/` and `/customers/99999999999999999999/` match no
  URL and answer 404 (JSON: scrm.api.middleware);
- filters: `FilterBackend` builds every filterset on `BoundedFilterSet`, whose number filters
  and model choice filters refuse a value outside 0..MAX_ID with 400 and the filter's name (the
  schema documents the range: scrm.api.schema); every filter but free text refuses a value it
  cannot use, the empty one included;
- bodies: `IdField` is an IntegerField bounded the same way (400 with the field's name).
"""

import datetime

import django_filters
from django import forms
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers

MAX_ID = 2**63 - 1
# 18 digits are always below 2**63; a 19-digit id would be the nine quintillionth row.
ID_REGEX = r"[0-9]{1,18}"
OUT_OF_CALENDAR = _("This time leaves the calendar once converted to UTC.")
NOT_A_FILTER_VALUE = _("Not a value this filter takes; leave the parameter out not to filter.")
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


class IdLookupField(forms.IntegerField):
    """A model choice filter's value taken as the id it names, without looking the record up.

    django-filter's own field answers 400 "select a valid choice" for an unknown id: an oracle
    for which customers, cases or colleagues exist outside the caller's scope, and one query per
    filter. Taken as an id, an unknown one simply filters to no rows."""

    def __init__(self, *, queryset=None, to_field_name=None, empty_label=None, **kwargs):
        for unused in ("null_label", "null_value", "limit_choices_to", "blank"):
            kwargs.pop(unused, None)
        super().__init__(min_value=0, max_value=MAX_ID, **kwargs)


class IdsLookupField(forms.Field):
    """The same for a filter on several ids (a many-to-many field in `filterset_fields`)."""

    widget = forms.SelectMultiple

    def __init__(self, *, queryset=None, to_field_name=None, **kwargs):
        for unused in ("null_label", "null_value", "limit_choices_to", "blank"):
            kwargs.pop(unused, None)
        super().__init__(**kwargs)

    def clean(self, value):
        id_field = forms.IntegerField(min_value=0, max_value=MAX_ID, required=False)
        return [id_field.clean(item) for item in value or [] if item not in self.empty_values]


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, in whatever offset it was given, taken as UTC.

    ISO 8601 allows offsets up to ±23:59; PostgreSQL refuses one beyond ±15:59 (a 500 found by
    schemathesis). In UTC the offset is gone; a time that would leave the calendar (year 1 at
    +10:00) is a 400 naming the filter."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(OUT_OF_CALENDAR, code="out_of_range") from None


class BoundedFilterSet(django_filters.FilterSet):
    """Number filters are bounded to the id range; model choices are ids, not looked up. With
    `strict` (the API), a typed filter given a value it cannot use is an error."""

    def __init__(self, *args, strict: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.strict = strict  # the API's; an admin form submits its empty fields
        for filter_ in self.filters.values():
            if isinstance(filter_, django_filters.NumberFilter):
                filter_.extra.setdefault("min_value", 0)
                filter_.extra.setdefault("max_value", MAX_ID)
                filter_.extra.setdefault("decimal_places", 0)
            elif isinstance(filter_, django_filters.ModelMultipleChoiceFilter):
                filter_.field_class = IdsLookupField
            elif isinstance(filter_, django_filters.ModelChoiceFilter):
                filter_.field_class = IdLookupField
            elif isinstance(filter_, django_filters.IsoDateTimeFilter):
                filter_.field_class = UtcDateTimeField

    def is_valid(self) -> bool:
        # django-filter reads a typed value it cannot use (`?start=`, `?flagged=null`) as "no
        # filter": the client would get every row thinking it filtered them.
        valid = super().is_valid()
        if not self.strict:
            return valid
        for name, filter_ in self.filters.items():
            free_text = isinstance(filter_, django_filters.CharFilter)
            if name not in self.data or name in self.form.errors or free_text:
                continue
            unused = self.form.cleaned_data.get(name) in (None, "", [])
            # Django's boolean field also reads "2" as yes and "3" as no.
            boolean = isinstance(filter_, django_filters.BooleanFilter)
            if unused or (boolean and self.data.get(name) not in ("true", "false")):
                self.form.add_error(name, NOT_A_FILTER_VALUE)
                valid = False
        return valid


class FilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend, its generated filtersets (`filterset_fields`) bounded."""

    filterset_base = BoundedFilterSet

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "strict": True}

from decimal import Decimal

import django_filters
from auditlog.models import LogEntry
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from scrm.api.ids import BoundedFilterSet
from scrm.audit.changelog import about_staff
from scrm.audit.links import subject_label
from scrm.audit.models import AccessEvent
from scrm.audit.selectors import events_touching


class AccessEventFilter(BoundedFilterSet):
    customer = django_filters.NumberFilter(method="filter_customer", label=_("Customer id"))
    start = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = ["actor", "action", "channel", "allowed", "flagged"]

    def filter_customer(
        self, queryset: QuerySet[AccessEvent], name: str, value: Decimal
    ) -> QuerySet[AccessEvent]:
        return events_touching(queryset, subject_label(), int(value))


def logged_models() -> list[tuple[str, str]]:
    from auditlog.registry import auditlog

    labels = sorted(model._meta.label_lower for model in auditlog.get_models())
    return [(label, label) for label in labels]


class ChangeLogFilter(BoundedFilterSet):
    """The change log's filters: who it is about, who made it, what kind of row, when."""

    staff = django_filters.NumberFilter(
        method="filter_staff", label=_("Entries about this staff member (id)")
    )
    actor = django_filters.NumberFilter(field_name="actor", label=_("Who made the change (id)"))
    model = django_filters.ChoiceFilter(
        choices=logged_models, method="filter_model", label="app_label.model"
    )
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = LogEntry
        fields = ["staff", "actor", "model", "since", "until"]

    def filter_staff(
        self, queryset: "QuerySet[LogEntry]", name: str, value: Decimal
    ) -> "QuerySet[LogEntry]":
        return about_staff(queryset, int(value))

    def filter_model(
        self, queryset: "QuerySet[LogEntry]", name: str, value: str
    ) -> "QuerySet[LogEntry]":
        app_label, model = value.split(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

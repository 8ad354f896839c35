import django_filters

from scrm.audit.models import AccessEvent
from scrm.audit.selectors import events_touching


class AccessEventFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(method="filter_customer", label="Customer id")
    start = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = ["actor", "action", "channel", "allowed", "flagged"]

    def filter_customer(self, queryset, name, value):
        return events_touching(queryset, "customers.customer", int(value))

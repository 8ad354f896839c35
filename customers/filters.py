import django_filters

from customers.models import Customer, mobile_index


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    mobile = django_filters.CharFilter(method="filter_mobile", label="Exact mobile number")
    tag = django_filters.CharFilter(field_name="tags__name", label="Tag name")
    team = django_filters.NumberFilter(field_name="owner__team", label="Owner's team id")

    class Meta:
        model = Customer
        fields = ["stage", "owner", "source_channel"]

    def filter_mobile(self, queryset, name, value):
        # Exact lookup through the keyed blind index: the encrypted column is never scanned.
        return queryset.filter(mobile_bidx=mobile_index(value))

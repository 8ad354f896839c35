import django_filters
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, id_number_index, mobile_index
from scrm.access.scope import book_owners
from scrm.api.ids import BoundedFilterSet
from scrm.masking.lookups import may_look_up, may_search_names, names_limited_to_book

# Exact lookups on sensitive fields, through their keyed blind index (the encrypted column is
# never scanned). Each is a reveal in disguise: CustomerViewSet.list runs it through
# scrm.masking.lookups (right, budget, blind index in the access event).
EXACT_LOOKUPS = {"mobile": mobile_index, "id_number": id_number_index}


class CustomerFilter(BoundedFilterSet):
    q = django_filters.CharFilter(method="filter_name", label=_("Name contains"))
    mobile = django_filters.CharFilter(method="filter_exact", label=_("Exact mobile number"))
    id_number = django_filters.CharFilter(method="filter_exact", label=_("Exact ID number"))
    tag = django_filters.CharFilter(field_name="tags__name", label=_("Tag name"))
    team = django_filters.NumberFilter(field_name="owner__team", label=_("Owner's team id"))

    class Meta:
        model = Customer
        fields = ["stage", "owner", "source_channel"]

    def _user(self):
        return getattr(self.request, "user", None)

    def filter_name(self, queryset, name, value):
        # The view answers 403 first; matching nothing here keeps the filter safe on its own.
        user = self._user()
        if not may_search_names(user):
            return queryset.none()
        queryset = queryset.filter(name__icontains=value)
        if names_limited_to_book(user):
            # Names are shown only for the book's customers: a match among shared customers
            # would confirm a name the viewer sees masked.
            queryset = queryset.filter(owner_id__in=book_owners(user))
        return queryset

    def filter_exact(self, queryset, name, value):
        if not may_look_up(self._user(), name):
            return queryset.none()
        index = EXACT_LOOKUPS[name](value)
        # An empty index (nothing left after normalising) must not match the customers without one.
        return queryset.filter(**{f"{name}_bidx": index}) if index else queryset.none()

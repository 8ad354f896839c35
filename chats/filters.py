import django_filters

from chats.models import Message, customer_messages_q
from scrm.api.ids import BoundedFilterSet


class MessageFilter(BoundedFilterSet):
    """Filters shared by search, export and the admin search page."""

    start = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")
    # A customer's private chats and the group rooms they are a member of.
    customer = django_filters.NumberFilter(method="filter_customer")
    # The conversation's current staff side (it moves on transfer; Message.staff is history).
    staff = django_filters.NumberFilter(field_name="conversation__owner")
    team = django_filters.NumberFilter(field_name="conversation__owner__team")
    type = django_filters.ChoiceFilter(field_name="msg_type", choices=Message.Type.choices)

    class Meta:
        model = Message
        fields = ["start", "end", "customer", "staff", "team", "type"]

    def filter_customer(self, queryset, name, value):
        return queryset.filter(customer_messages_q(int(value)))

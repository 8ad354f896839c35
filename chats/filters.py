import django_filters
from django.utils.translation import gettext_lazy as _

from chats.models import Message, customer_messages_q


class MessageFilter(django_filters.FilterSet):
    """Filters shared by search, export and the admin search page."""

    start = django_filters.IsoDateTimeFilter(
        field_name="sent_at",
        lookup_expr="gte",
        help_text=_("Messages sent at or after this time (ISO 8601)."),
    )
    end = django_filters.IsoDateTimeFilter(
        field_name="sent_at",
        lookup_expr="lt",
        help_text=_("Messages sent before this time (ISO 8601)."),
    )
    # A customer's private chats and the group rooms they are a member of.
    customer = django_filters.NumberFilter(
        method="filter_customer",
        help_text=_("A customer's id: their private chats and the group rooms they are in."),
    )
    # The conversation's current staff side (it moves on transfer; Message.staff is history).
    staff = django_filters.NumberFilter(
        field_name="conversation__owner",
        help_text=_("Id of the staff member the conversation is with now."),
    )
    team = django_filters.NumberFilter(
        field_name="conversation__owner__team",
        help_text=_("Id of the team of the staff member the conversation is with."),
    )
    type = django_filters.ChoiceFilter(
        field_name="msg_type", choices=Message.Type.choices, help_text=_("The message type.")
    )

    class Meta:
        model = Message
        fields = ["start", "end", "customer", "staff", "team", "type"]

    def filter_customer(self, queryset, name, value):
        return queryset.filter(customer_messages_q(int(value)))

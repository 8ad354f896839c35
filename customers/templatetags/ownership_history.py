"""`{% ownership_history_url customer as url %}`: the customer page's link to its ownership
history, empty for viewers who may not read it (customers.admin_history)."""

from django import template

from customers.models import Customer
from customers.ownership_access import history_url, may_read_history

register = template.Library()


@register.simple_tag(takes_context=True)
def ownership_history_url(context: template.Context, customer: Customer | None) -> str:
    request = context.get("request")
    if customer is None or request is None or not may_read_history(request.user):
        return ""
    return history_url(customer.pk)

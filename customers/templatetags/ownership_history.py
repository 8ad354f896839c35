"""`{% ownership_history_link customer %}`: the customer page's link to its ownership history,
for the viewers who may read it (customers.admin_history)."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from customers.ownership_access import history_url, may_read_history

register = template.Library()


@register.simple_tag(takes_context=True)
def ownership_history_link(context, customer) -> str:
    request = context.get("request")
    if customer is None or request is None or not may_read_history(request.user):
        return ""
    return format_html(
        '<li><a href="{}" id="ownership-history-link">{}</a></li>',
        history_url(customer.pk),
        _("Ownership history"),
    )

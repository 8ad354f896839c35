"""Who reads ownership history (customers.admin_history), apart from the admin's imports so
the customer page's template tag can ask too."""

from typing import TYPE_CHECKING

from django.urls import reverse

from scrm.staff import roles

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

HISTORY_READERS = frozenset(
    {roles.TEAM_LEAD, roles.SALES_MANAGER, roles.AUDITOR, roles.ADMINISTRATOR}
)


def may_read_history(user: "Viewer") -> bool:
    """The roles that read ownership history (their customer scope then says whose)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or bool(user.role_names & HISTORY_READERS)


def history_url(customer_id: int) -> str:
    return f"{reverse('admin:customers_ownershiptransfer_changelist')}?customer_id={customer_id}"

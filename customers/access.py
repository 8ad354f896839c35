"""Who reaches customers, registered with the platform's door (scrm.access.registry).

Customers are the records sales books are made of: the CUSTOMERS policy. A role scope opens the
customers of the staff it covers (`owner_id IN (...)`); a share (guardian's direct foreign-key
grant, unexpired) opens one customer to a colleague for the actions its permission allows.
"""

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from scrm.access.registry import Policy, register_policy, register_rows
from scrm.access.scope import (
    ACTIONS,
    ALL,
    CHANGE,
    CUSTOMERS,
    DEPARTMENT,
    GRANT_IDS_INLINE,
    LEAVERS,
    LIST,
    OWN,
    REVEAL,
    SHARE,
    TEAM,
    TRANSFER,
    VIEW,
    Scope,
)
from scrm.staff import roles

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

# The model permission each action requires on top of the scope.
ACTION_PERMISSION = {
    LIST: "customers.view_customer",
    VIEW: "customers.view_customer",
    CHANGE: "customers.change_customer",
    REVEAL: "customers.view_customer",
    SHARE: "customers.share_customer",
    TRANSFER: "customers.transfer_customer",
}

# role -> action -> scope kind. A role absent for an action sees nothing for it.
ROLE_SCOPES: dict[str, dict[str, str]] = {
    roles.SALES_REP: {LIST: OWN, VIEW: OWN, CHANGE: OWN, REVEAL: OWN, SHARE: OWN},
    roles.TEAM_LEAD: {a: TEAM for a in ACTIONS},
    roles.SALES_MANAGER: {a: DEPARTMENT for a in ACTIONS},
    roles.LEGAL: {LIST: ALL, VIEW: ALL, REVEAL: ALL},
    roles.AUDITOR: {LIST: ALL, VIEW: ALL},
    # HR sees masked lists of the customers of staff who are leaving, nothing else.
    roles.HR: {LIST: LEAVERS},
    roles.ADMINISTRATOR: {a: ALL for a in ACTIONS},
}

# Per-object grants: which shared permission codenames open which actions.
GRANT_CODENAMES = {
    LIST: ("view_customer", "change_customer"),
    VIEW: ("view_customer", "change_customer"),
    CHANGE: ("change_customer",),
}


def shares(user: "Viewer", action: str) -> tuple[int, ...] | QuerySet:
    """The customer ids shared with the user for this action (a subquery when very many)."""
    from customers.models import CustomerUserObjectPermission

    codenames = GRANT_CODENAMES.get(action)
    if not codenames:
        return ()
    grants = (
        CustomerUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename__in=codenames
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by()
    )
    ids = tuple(grants.values_list("content_object_id", flat=True)[: GRANT_IDS_INLINE + 1])
    if len(ids) > GRANT_IDS_INLINE:
        return grants.values("content_object_id")
    return ids


def customer_rows(queryset: QuerySet, scope: Scope, user: "Viewer") -> QuerySet:
    return queryset.filter(scope.owned_q("owner_id"))


_SALES = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.share_customer",
    "customers.reveal_basic",
    "customers.reveal_contact",
    "customers.view_followup",
    "customers.add_followup",
    "customers.change_followup",
    "customers.view_transaction",
    "customers.add_transaction",
    "customers.change_transaction",  # their own deals only (customers.services)
    "customers.view_tag",
]
_READ_ALL = [
    "customers.view_customer",
    "customers.view_followup",
    "customers.view_transaction",
    "customers.view_tag",
]
# The permissions each role starts with (scrm.staff.roles.register_default_permissions).
DEFAULT_PERMISSIONS = {
    roles.SALES_REP: _SALES,
    roles.TEAM_LEAD: [*_SALES, "customers.transfer_customer"],
    roles.SALES_MANAGER: [*_SALES, "customers.transfer_customer"],
    roles.HR: ["customers.view_customer"],
    roles.LEGAL: [
        *_READ_ALL,
        "customers.reveal_basic",
        "customers.reveal_contact",
        "customers.reveal_identity",
        "customers.export_raw",
    ],
    roles.AUDITOR: _READ_ALL,
}


def register() -> None:
    from customers.models import Customer

    roles.register_default_permissions(DEFAULT_PERMISSIONS)
    register_policy(
        CUSTOMERS, Policy(permissions=ACTION_PERMISSION, role_scopes=ROLE_SCOPES, grants=shares)
    )
    register_rows(Customer, policy=CUSTOMERS, rows=customer_rows)

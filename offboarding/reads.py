"""Offboarding pages show customers (masked names, ids): each such read is an access event.

Rule 3 holds here as everywhere: one event per page with the customer ids it showed, or, for the
CSV download, one export event with its row count. `model` is the customer, so an auditor's
"every event that touched this customer" finds the hand-over pages too.
"""

from collections.abc import Sequence

from customers.models import Customer
from offboarding.models import OffboardingCase
from scrm.audit.models import AccessAction
from scrm.audit.services import record_access


def record_customers_shown(
    *, request, channel: str, case: OffboardingCase, view: str, customer_ids: Sequence[int]
) -> None:
    record_access(
        actor=request.user,
        action=AccessAction.LIST,
        model=Customer,
        object_ids=customer_ids,
        channel=channel,
        request=request,
        query={"view": view, "case": case.pk},
    )


def record_customer_rows(
    *, request, channel: str, view: str, customer_ids: Sequence[int], params: dict
) -> None:
    """One list event for a page of offboarding rows (transfers, revoked shares), naming the
    customers it showed and the page's query parameters."""
    record_access(
        actor=request.user,
        action=AccessAction.LIST,
        model=Customer,
        object_ids=customer_ids,
        channel=channel,
        request=request,
        query={"view": view, **params},
    )


def record_report_export(*, request, channel: str, case: OffboardingCase) -> None:
    record_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        model=Customer,
        channel=channel,
        request=request,
        query={"view": "handover_report_csv", "case": case.pk, "row_count": case.transfers.count()},
    )

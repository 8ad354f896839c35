"""The handover report: what moved where, counts, and what failed or was refused and why."""

from collections import Counter
from collections.abc import Iterator

from offboarding.models import CustomerTransfer, OffboardingCase
from scrm.csv_stream import csv_pieces
from scrm.masking.policy import customer_label


def report_summary(case: OffboardingCase) -> dict:
    transfers = case.transfers.all()
    by_status = Counter(transfers.values_list("status", flat=True))
    by_successor = Counter(transfers.values_list("to_owner__username", flat=True))
    return {
        "leaver": case.leaver.username,
        "status": case.status,
        "customers": sum(by_status.values()),
        "completed": by_status.get(CustomerTransfer.Status.COMPLETED, 0),
        "refused": by_status.get(CustomerTransfer.Status.REFUSED, 0),
        "failed": by_status.get(CustomerTransfer.Status.FAILED, 0),
        "by_successor": dict(sorted(by_successor.items(), key=lambda kv: str(kv[0]))),
        "steps": [
            {
                "name": s.name,
                "status": s.status,
                "done": s.done,
                "total": s.total,
                "detail": s.detail,
                "error": s.error,
            }
            for s in case.steps.order_by("position")
        ],
    }


def report_rows(case: OffboardingCase):
    return case.transfers.select_related("customer", "to_owner", "from_owner").order_by("id")


def report_csv(case: OffboardingCase, *, user) -> Iterator[str]:
    """One row per customer; names as the masking matrix shows them to `user` who downloads
    it (masked for HR; the report travels by email and print)."""
    header = ["customer_id", "customer", "from", "to", "status", "reason", "at", "refused_at"]
    rows = report_rows(case).iterator(chunk_size=2000)
    return csv_pieces(header, (_report_row(t, user) for t in rows))


def _report_row(t: CustomerTransfer, user) -> list:
    return [
        t.customer_id,
        customer_label(user, t.customer),
        t.from_owner.username,
        t.to_owner.username if t.to_owner else "",
        t.status,
        t.reason,
        t.at.isoformat(),
        t.refused_at.isoformat() if t.refused_at else "",
    ]

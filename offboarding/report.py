"""The handover report: what moved where, counts, and what failed or was refused and why."""

from collections import Counter
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING

from django.utils import timezone

from offboarding.models import CustomerTransfer, OffboardingCase, RevokedShare
from scrm.csv_stream import csv_pieces
from scrm.masking.detectors import mask_text
from scrm.masking.policy import customer_label

if TYPE_CHECKING:
    from scrm.staff.types import Viewer


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
        "shares_revoked": case.revoked_shares.count(),
        "shares_reconfirmed": case.revoked_shares.filter(reconfirmed_at__isnull=False).count(),
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


def report_people(case: OffboardingCase) -> dict:
    """Who signs the printed report: the leaver, each successor who received customers (or
    was named), and HR who opened the case; plus customers received per successor."""
    received = Counter(case.transfers.exclude(to_owner=None).values_list("to_owner_id", flat=True))
    Staff = type(case.leaver)
    named = set(case.successors.values_list("pk", flat=True))
    successors = Staff.objects.filter(pk__in=named | set(received)).order_by("username")
    return {
        "leaver": case.leaver.display_name,
        "hr": case.created_by.display_name,
        "approver": case.approved_by.display_name if case.approved_by else "",
        "successors": [
            {"name": s.display_name, "customers": received.get(s.pk, 0)} for s in successors
        ],
    }


def local_time(moment) -> str:
    """A time in the CSV: local (TIME_ZONE), to the second, as spreadsheets read it."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def report_rows(case: OffboardingCase):
    return case.transfers.select_related("customer", "to_owner", "from_owner").order_by("id")


def revoked_share_rows(case: OffboardingCase):
    """The shares the leaver gave that the run revoked: customer, colleague, level, fate."""
    return case.revoked_shares.select_related(
        "case__leaver", "customer", "colleague", "reconfirmed_by"
    )


def report_csv(case: OffboardingCase, *, user: "Viewer") -> Iterator[str]:
    """One row per customer, then one per share the run revoked (status `share_revoked` or
    `share_reconfirmed`, "to" the colleague); names as the masking matrix shows them to `user`
    who downloads it (masked for HR; the report travels by email and print)."""
    header = ["customer_id", "customer", "from", "to", "status", "reason", "at", "refused_at"]
    transfers = (_report_row(t, user) for t in report_rows(case).iterator(chunk_size=2000))
    shares = (_share_row(s, user) for s in revoked_share_rows(case).iterator(chunk_size=2000))
    return csv_pieces(header, chain(transfers, shares))


def _share_row(share: RevokedShare, user: "Viewer") -> list:
    reconfirmed = share.reconfirmed_by.username if share.reconfirmed_by else ""
    return [
        share.customer_id,
        customer_label(user, share.customer),
        share.case.leaver.username,
        share.colleague.username,
        "share_reconfirmed" if reconfirmed else "share_revoked",
        f"{share.level} share given by the leaver"
        + (f"; re-confirmed by {reconfirmed}" if reconfirmed else "; revoked by the run"),
        local_time(share.revoked_at),
        "",
    ]


def _report_row(t: CustomerTransfer, user: "Viewer") -> list:
    return [
        t.customer_id,
        customer_label(user, t.customer),
        t.from_owner.username,
        t.to_owner.username if t.to_owner else "",
        t.status,
        mask_text(t.reason),
        local_time(t.at),
        local_time(t.refused_at),
    ]

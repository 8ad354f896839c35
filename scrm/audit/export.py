"""CSV export of access events, streamed so memory stays flat however many rows match."""

from collections.abc import Iterable, Iterator

from scrm.audit.models import AccessEvent
from scrm.csv_stream import csv_pieces
from scrm.masking.detectors import mask_text

COLUMNS = [
    "id",
    "at",
    "actor",
    "channel",
    "action",
    "model",
    "object_ids",
    "fields",
    "query",
    "reason",
    "allowed",
    "flagged",
    "ip",
    "user_agent",
    "path",
]


def csv_rows(events: Iterable[AccessEvent]) -> Iterator[str]:
    return csv_pieces(COLUMNS, map(_row, events))


def _row(event: AccessEvent) -> list[object]:
    return [
        event.pk,
        event.at.isoformat(),
        event.actor.username if event.actor else "",
        event.channel,
        event.action,
        event.model,
        " ".join(map(str, event.object_ids)),
        " ".join(event.fields),
        event.query,
        mask_text(event.reason),
        event.allowed,
        event.flagged,
        event.ip or "",
        event.user_agent,
        event.path,
    ]

"""CSV export of access events, streamed so memory stays flat however many rows match."""

import csv
from collections.abc import Iterable, Iterator

from scrm.audit.models import AccessEvent

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


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(events: Iterable[AccessEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events:
        yield writer.writerow(
            [
                event.pk,
                event.at.isoformat(),
                event.actor.username if event.actor else "",
                event.channel,
                event.action,
                event.model,
                " ".join(map(str, event.object_ids)),
                " ".join(event.fields),
                event.query,
                event.reason,
                event.allowed,
                event.flagged,
                event.ip or "",
                event.user_agent,
                event.path,
            ]
        )

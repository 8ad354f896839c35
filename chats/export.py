"""Exporting chat messages as CSV or XLSX: masked unless raw export is allowed, one access event.

Memory stays flat however many rows match: CSV is streamed from a server-side cursor
(`iterator(chunk_size=...)`) in ~64 KB pieces; XLSX goes through openpyxl's write-only workbook
(rows are flushed to a temporary file as they are appended) into a spooled temporary file that
is then streamed back. The API view and the admin action both call `export_response`.
"""

import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from chats.models import Message
from scrm.audit.models import AccessAction
from scrm.audit.services import record_access
from scrm.csv_stream import csv_pieces as stream_csv
from scrm.dbrouting import read_replica
from scrm.masking.detectors import mask_text
from scrm.masking.policy import shown

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

EXPORT_PERMISSION = "chats.export_message"
RAW_EXPORT_PERMISSION = "customers.export_raw"
CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
CHUNK_SIZE = 2000
XLSX_SPOOL_BYTES = 8 * 1024 * 1024
# A worksheet holds at most 1,048,576 rows; a larger export continues on further sheets.
XLSX_SHEET_ROWS = 1_000_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The fields a raw export shows unmasked (recorded in the access event's `fields`).
RAW_FIELDS = ("name", "text")

COLUMNS = [
    "message_id",
    "sent_at",
    "channel",
    "type",
    "conversation_id",
    "customer_id",
    "customer_name",
    "staff",
    "sender",
    "text",
    "revoked",
    "digest",
    "attachment_name",
]


class ExportRow(NamedTuple):
    """What one message contributes, read as a plain tuple (building three model instances per
    row would make model construction the bulk of an export's time)."""

    id: int
    sent_at: datetime
    channel: str
    msg_type: str
    conversation_id: int
    customer_id: int | None
    customer_name: str | None
    customer_owner_id: int | None
    staff_username: str | None
    sender_staff_username: str | None
    sender_customer_id: int | None
    text: str
    revoked_at: datetime | None
    digest: str
    attachment_name: str


# The same fields as lookups: the related names come through joins in the one query, and
# search_tokens and the customer's encrypted fields are never read.
_ROW_LOOKUPS = (
    "id",
    "sent_at",
    "channel",
    "msg_type",
    "conversation_id",
    "customer_id",
    "customer__name",
    "customer__owner_id",
    "staff__username",
    "sender_staff__username",
    "sender_customer_id",
    "text",
    "revoked_at",
    "digest",
    "attachment_name",
)


class Presentation(NamedTuple):
    """How the two sensitive columns are written: the customer's name (given the customer's
    owner, which the masking matrix needs) and the message text."""

    name: Callable[[str, int | None], str]
    text: Callable[[str], str]


RAW = Presentation(name=lambda value, owner_id: value, text=str)


def presentation_for(user: "Viewer") -> Presentation:
    """RAW for holders of customers.export_raw; otherwise names as the masking matrix shows
    them to `user` (raw in a sales viewer's book, else masked) and text through the detectors."""
    if user.has_perm(RAW_EXPORT_PERMISSION):
        return RAW
    return Presentation(
        name=lambda value, owner_id: shown(user, "name", value, owner_id=owner_id) or "",
        text=mask_text,
    )


def _sender(row: ExportRow) -> str:
    if row.sender_staff_username:
        return row.sender_staff_username
    return "customer" if row.sender_customer_id else ""


def message_row(row: ExportRow, presentation: Presentation, tz: tzinfo) -> list:
    """One line of the file, in the order of COLUMNS."""
    return [
        row.id,
        row.sent_at.astimezone(tz).isoformat(),
        row.channel,
        row.msg_type,
        row.conversation_id,
        row.customer_id or "",
        presentation.name(row.customer_name, row.customer_owner_id) if row.customer_name else "",
        row.staff_username or "",
        _sender(row),
        presentation.text(row.text),
        row.revoked_at is not None,
        row.digest,
        presentation.text(row.attachment_name),
    ]


def export_rows(queryset: QuerySet) -> Iterator[ExportRow]:
    """The messages in sending order: one joined query, read from a server-side cursor."""
    rows = (
        queryset.order_by("sent_at", "id")
        .values_list(*_ROW_LOOKUPS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return map(ExportRow._make, rows)


def csv_pieces(rows: Iterator[ExportRow], presentation: Presentation) -> Iterator[str]:
    tz = timezone.get_current_timezone()
    return stream_csv(COLUMNS, (message_row(row, presentation, tz) for row in rows))


def _xlsx_value(sheet, value):
    """XML-safe text; openpyxl would store text starting with "=" as a formula: not ours."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _new_sheet(workbook: Workbook, number: int):
    sheet = workbook.create_sheet("messages" if number == 1 else f"messages {number}")
    sheet.append(COLUMNS)
    return sheet


def xlsx_file(rows: Iterator[ExportRow], presentation: Presentation):
    """A spooled temporary file holding the workbook, positioned at its start."""
    workbook = Workbook(write_only=True)
    tz = timezone.get_current_timezone()
    for number, row in enumerate(rows):
        if number % XLSX_SHEET_ROWS == 0:
            sheet = _new_sheet(workbook, number // XLSX_SHEET_ROWS + 1)
        sheet.append([_xlsx_value(sheet, v) for v in message_row(row, presentation, tz)])
    if not workbook.worksheets:
        _new_sheet(workbook, 1)
    # Not a `with` block: the file outlives this function and FileResponse closes it when sent.
    spool = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # noqa: SIM115
    try:
        workbook.save(spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _filename(fmt: str) -> str:
    return f"messages-{timezone.localtime():%Y%m%d-%H%M%S}.{fmt}"


def export_response(
    *, user: "Viewer", queryset: QuerySet, fmt: str, channel: str, filters: dict, request=None
) -> HttpResponseBase:
    """Export `queryset` (already `Message.objects.visible_to(user)` and filtered) as a download.

    Guarantees: the exporter holds chats.export_message and is not in their notice period (else
    PermissionDenied); names per the masking matrix, text masked, unless customers.export_raw; one
    EXPORT access event is written before any row leaves, with `filters`, the format and the
    row count (no ids: an export can be millions of rows). The count is a separate query, so a
    message ingested or purged between it and the stream makes the file differ from it
    slightly. ValueError for an unknown fmt.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied(_("Your role does not allow exporting chat messages."))
    if getattr(user, "employment_status", "active") != "active":
        # From the notice date a leaver keeps working but takes nothing with them.
        raise PermissionDenied(_("Staff in their notice period may not export."))
    presentation = presentation_for(user)
    # The count and the rows from the read replica when there is one (scrm/dbrouting.py); the
    # scope ids inside the queryset were read from the primary, the access event goes there.
    queryset = queryset.using(read_replica())
    record_access(
        actor=user,
        action=AccessAction.EXPORT,
        model=Message,
        object_ids=[],
        channel=channel,
        request=request,
        fields=RAW_FIELDS if presentation is RAW else (),
        query={**filters, "format": fmt, "row_count": queryset.count()},
    )
    rows = export_rows(queryset)
    if fmt == XLSX:
        return FileResponse(
            xlsx_file(rows, presentation),
            as_attachment=True,
            filename=_filename(fmt),
            content_type=XLSX_CONTENT_TYPE,
        )
    response = StreamingHttpResponse(
        csv_pieces(rows, presentation), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(fmt)}"'
    return response

"""CSV for StreamingHttpResponse, the same for every download (chat export, audit events,
handover report).

csv.writer writes to a file; Django's documented streaming pattern hands it an object whose
write() returns the line. This buffers lines into pieces of about 64 KB instead, so a million
rows are a few thousand chunks, not a million. Each download starts with a BOM, so Excel reads
the UTF-8 (Chinese names, messages), and every text cell a spreadsheet would run as a formula
(`=HYPERLINK(...)` pasted into a chat or a reason) is prefixed with an apostrophe.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

PIECE_BYTES = 64 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_pieces(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The CSV text of `header` and `rows`, in pieces of about PIECE_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        if buffer.tell() >= PIECE_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

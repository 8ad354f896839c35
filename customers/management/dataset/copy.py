"""PostgreSQL bulk loading: COPY text rows, and secondary indexes dropped during the load.

Rows are built as COPY text format (tab-separated, `\\N` for NULL) by worker processes and
streamed through psycopg 3's `cursor.copy()`. Loading into a table without its secondary indexes
and building them afterwards is several times faster than maintaining them row by row (GIN above
all); `indexes_dropped` keeps each definition (`pg_get_indexdef`) and recreates it even when
the load fails half way, so an interrupted run never leaves a table without its indexes.
Constraint-backed indexes (primary and unique keys) stay in place.
"""

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value: str) -> str:
    # translate() is slow on non-ASCII strings; most values need no escaping at all.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def ts(epoch: float) -> str:
    """An aware timestamp literal PostgreSQL reads unambiguously."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def line(fields: Iterable[str]) -> str:
    return "\t".join(fields) + "\n"


def copy_rows(cursor, table: str, columns: list[str], payload: bytes) -> None:
    if not payload:
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        copy.write(payload)


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = %s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY i.relname
        """,
        [table],
    )
    return list(cursor.fetchall())


@contextmanager
def indexes_dropped(cursor, tables: list[str], report) -> Iterator[None]:
    """Drop the tables' secondary indexes for the block, then rebuild them (always)."""
    dropped = [(table, *index) for table in tables for index in secondary_indexes(cursor, table)]
    for _table, name, _definition in dropped:
        cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        # Index builds are the one place where more memory means much less time.
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table, name, definition in dropped:
            started = time.monotonic()
            cursor.execute(definition)
            report(f"  index {table}.{name}: {time.monotonic() - started:.1f} s")
        cursor.execute("RESET maintenance_work_mem")

"""Chat ingest's database differences, one object per database (chats/ingest.py calls them).

On PostgreSQL a batch's rows go in through COPY and set-based statements, without a model
instance per row: building the instances and a statement per row cost more than PostgreSQL
spent storing them (docs/benchmarks.md#chat-ingest). SQLite takes the ORM's bulk statements
and keeps its FTS5 search tables in step (chats.search_backends.SqliteSearch).
"""

from datetime import datetime

from django.db import connections

from chats.models import Conversation, Message
from chats.search import masked_tokens
from chats.search_backends import search_backend
from scrm.dbvendor import PerDatabase


class PostgresIngest:
    # Batches may be stored by several processes at once (import_chats --workers): row locks.
    concurrent_batches = True

    def __init__(self, alias: str):
        self.alias = alias

    def insert_messages(self, rows: list[dict], *, batch_size: int) -> None:
        """Insert new messages (a dict of column values each) and set each row's "id": COPY,
        with ids drawn from the table's identity sequence beforehand."""
        table = Message._meta.db_table
        columns = list(rows[0]) if rows else []
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row["id"] = pk
            # The raw psycopg cursor's COPY; wrap_database_errors turns a unique violation into
            # the IntegrityError that ingest_records retries on.
            sql = f"COPY {table} ({', '.join(['id', *columns])}) FROM STDIN"
            with connection.wrap_database_errors, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row([row["id"], *(row[column] for column in columns)])

    def insert_pairs(self, model, columns: tuple[str, str], pairs: list[tuple[int, int]]) -> None:
        """Insert (a, b) rows of a two-column link table, skipping those already there."""
        if not pairs:
            return
        # Nearly every pair is already there: one statement, without a model instance each.
        with connections[self.alias].cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} ({columns[0]}, {columns[1]}) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                [[a for a, _ in pairs], [b for _, b in pairs]],
            )

    def advance_last_message_at(self, pairs: list[tuple[int, datetime]]) -> None:
        """Move each conversation's last_message_at forward to `last` (never back, never from
        NULL), in one UPDATE for the batch: one per conversation cost a round trip each
        (docs/benchmarks.md#chat-ingest).

        The rows are locked in id order first: an UPDATE ... FROM locks them in whatever order
        its join yields, and two batches sharing conversations then deadlocked (seen with two
        API clients at once)."""
        if not pairs:
            return
        with connections[self.alias].cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM chats_conversation WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                [[pk for pk, _ in pairs]],
            )
            cursor.execute(
                "UPDATE chats_conversation AS c SET last_message_at = v.last "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, last) "
                "WHERE c.id = v.id AND c.last_message_at < v.last",
                [[pk for pk, _ in pairs], [last for _, last in pairs]],
            )


class SqliteIngest:
    # SQLite has one writer: parallel batches would only wait for each other.
    concurrent_batches = False

    def __init__(self, alias: str):
        self.alias = alias

    def insert_messages(self, rows: list[dict], *, batch_size: int) -> None:
        """Insert new messages (a dict of column values each), set each row's "id", and add
        them to the FTS5 search tables."""
        messages = Message.objects.using(self.alias).bulk_create(
            [Message(**row) for row in rows], batch_size=batch_size
        )
        for row, message in zip(rows, messages, strict=True):
            row["id"] = message.pk
        search = search_backend(self.alias)
        search.index([(row["id"], row["search_tokens"]) for row in rows if row["search_tokens"]])
        search.index_masked([(row["id"], masked_tokens(row)) for row in rows])

    def insert_pairs(self, model, columns: tuple[str, str], pairs: list[tuple[int, int]]) -> None:
        """Insert (a, b) rows of a two-column link table, skipping those already there."""
        if not pairs:
            return
        model.objects.using(self.alias).bulk_create(
            [model(**{columns[0]: a, columns[1]: b}) for a, b in pairs], ignore_conflicts=True
        )

    def advance_last_message_at(self, pairs: list[tuple[int, datetime]]) -> None:
        """Move each conversation's last_message_at forward to `last` (never back, never from
        NULL)."""
        for pk, last in pairs:
            Conversation.objects.using(self.alias).filter(pk=pk, last_message_at__lt=last).update(
                last_message_at=last
            )


# Typed as the union: the two classes share no base for PerDatabase to infer.
ingest_backend: PerDatabase[PostgresIngest | SqliteIngest] = PerDatabase(
    "Chat ingest", postgresql=PostgresIngest, sqlite=SqliteIngest
)

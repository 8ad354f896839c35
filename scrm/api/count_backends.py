"""The bounded count's database differences: counting within a time budget.

PostgreSQL cancels a statement past `statement_timeout`, which a count can set for itself;
SQLite has no per-statement timeout, so there a count is only bounded by its row cap
(scrm/api/pagination.py).
"""

from django.db import OperationalError, connections, transaction
from django.db.models import QuerySet

from scrm.dbvendor import PerDatabase

QUERY_CANCELED = "57014"  # PostgreSQL SQLSTATE of a statement cancelled by statement_timeout


class PostgresCount:
    def __init__(self, alias: str):
        self.alias = alias

    def within(self, queryset: QuerySet, timeout_ms: int) -> int | None:
        """queryset.count(), or None when it has not finished within `timeout_ms`."""
        connection = connections[self.alias]
        nested = connection.in_atomic_block
        try:
            # A transaction scopes the timeout: set_config(..., true) lasts until it ends. Inside
            # an outer transaction this is a savepoint, which undoes the setting only when it
            # rolls back, so there the previous value is put back by hand.
            with transaction.atomic(using=self.alias), connection.cursor() as cursor:
                if nested:
                    cursor.execute("SELECT current_setting('statement_timeout')")
                    previous = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"]
                )
                counted = queryset.count()
                if nested:
                    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
                return counted
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
                return None
            raise


class SqliteCount:
    def __init__(self, alias: str):
        self.alias = alias

    def within(self, queryset: QuerySet, timeout_ms: int) -> int | None:
        return queryset.count()


# Typed as the union: the two classes share no base for PerDatabase to infer.
bounded_count: PerDatabase[PostgresCount | SqliteCount] = PerDatabase(
    "The bounded count", postgresql=PostgresCount, sqlite=SqliteCount
)

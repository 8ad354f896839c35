"""The audit selectors' database differences: how to find the events that showed an object.

`AccessEvent.object_ids` is a JSON array of the ids a request showed. PostgreSQL tests it with
jsonb containment (`@>`), which the GIN index on the column serves; SQLite has no containment
operator and expands the array with json_each.
"""

from typing import Protocol

from django.db.models import QuerySet

from scrm.audit.models import AccessEvent
from scrm.dbvendor import PerDatabase


class AuditSelectors(Protocol):
    def showing(self, queryset: QuerySet[AccessEvent], object_id: int) -> QuerySet[AccessEvent]: ...


class PostgresAuditSelectors:
    def __init__(self, alias: str):
        self.alias = alias

    def showing(self, queryset: QuerySet[AccessEvent], object_id: int) -> QuerySet[AccessEvent]:
        return queryset.filter(object_ids__contains=[object_id])  # jsonb @>, GIN-indexed


class SqliteAuditSelectors:
    def __init__(self, alias: str):
        self.alias = alias

    def showing(self, queryset: QuerySet[AccessEvent], object_id: int) -> QuerySet[AccessEvent]:
        return queryset.extra(
            where=[
                "EXISTS (SELECT 1 FROM json_each(audit_accessevent.object_ids) WHERE value = %s)"
            ],
            params=[object_id],
        )


# Typed by the protocol: the two classes have no common base for it to infer.
audit_selectors: PerDatabase[AuditSelectors] = PerDatabase(
    "The audit selectors", postgresql=PostgresAuditSelectors, sqlite=SqliteAuditSelectors
)

"""The audit selectors' database differences: how to find the events that showed an object.

`AccessEvent.object_ids` is a JSON array of the ids a request showed. PostgreSQL tests it with
jsonb containment (`@>`), which the GIN index on the column serves; SQLite has no containment
operator and expands the array with json_each.
"""

from django.db.models import QuerySet

from scrm.dbvendor import PerDatabase


class PostgresAuditSelectors:
    def __init__(self, alias: str):
        self.alias = alias

    def showing(self, queryset: QuerySet, object_id: int) -> QuerySet:
        return queryset.filter(object_ids__contains=[object_id])  # jsonb @>, GIN-indexed


class SqliteAuditSelectors:
    def __init__(self, alias: str):
        self.alias = alias

    def showing(self, queryset: QuerySet, object_id: int) -> QuerySet:
        return queryset.extra(
            where=[
                "EXISTS (SELECT 1 FROM json_each(audit_accessevent.object_ids) WHERE value = %s)"
            ],
            params=[object_id],
        )


audit_selectors = PerDatabase(
    "The audit selectors", postgresql=PostgresAuditSelectors, sqlite=SqliteAuditSelectors
)

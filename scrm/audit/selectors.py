from django.db import connection
from django.db.models import QuerySet

from scrm.audit.models import AccessEvent


def events_touching(
    queryset: QuerySet[AccessEvent], model: str, object_id: int
) -> QuerySet[AccessEvent]:
    """Events whose object_ids include `object_id` (a list event counts for every id it showed)."""
    queryset = queryset.filter(model=model)
    if connection.vendor == "postgresql":
        return queryset.filter(object_ids__contains=[object_id])  # jsonb @>, GIN-indexed
    # SQLite has no JSON containment operator; json_each expands the array instead.
    return queryset.extra(
        where=["EXISTS (SELECT 1 FROM json_each(audit_accessevent.object_ids) WHERE value = %s)"],
        params=[object_id],
    )

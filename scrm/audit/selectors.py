from django.db.models import QuerySet

from scrm.audit.models import AccessEvent
from scrm.audit.selector_backends import audit_selectors


def events_touching(
    queryset: QuerySet[AccessEvent], model: str, object_id: int
) -> QuerySet[AccessEvent]:
    """Events whose object_ids include `object_id` (a list event counts for every id it showed)."""
    return audit_selectors(queryset.db).showing(queryset.filter(model=model), object_id)

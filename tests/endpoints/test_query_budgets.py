"""Every read costs exactly its query budget (`Endpoint.queries`), pinned on each database.

A budget is the number of queries the read needs as the role that needs the most; every other
role needs no more. A read that starts querying per row, or a scope that loses its join, fails
here; so does a read that got cheaper, until its budget is lowered to match (a pin, as Zulip's
`assert_database_query_count` and Saleor's benchmark tests pin theirs). Raise a budget only with
the reason in the change; where SQLite and PostgreSQL differ the registry gives both.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from tests.endpoints.harness import client_for, perform, user_of
from tests.endpoints.registry import ENDPOINTS, ROLES

BUDGETED = [e for e in ENDPOINTS if e.queries is not None]


def queries_of(endpoint, world, user) -> int:
    """How many queries the read makes as `user` (signing in is not the read's cost)."""
    with transaction.atomic():
        client = client_for(endpoint, user)
        # The connection keeps the last 9,000 queries only: counted from an empty log, else a
        # long run would count nothing once the log is full.
        reset_queries()
        # Content types are cached per process: whether an earlier test warmed the cache would
        # change the count. Measured cold, the most a request can need.
        ContentType.objects.clear_cache()
        with CaptureQueriesContext(connection) as captured:
            perform(endpoint, world, client)
        transaction.set_rollback(True)
    return len(captured)


def test_every_read_costs_exactly_its_query_budget(world):
    vendor = connection.vendor
    wrong = []
    for endpoint in BUDGETED:
        counts = {role: queries_of(endpoint, world, user_of(world, role)) for role in ROLES}
        most = max(counts.values())
        budget = endpoint.budget(vendor)
        if most != budget:
            roles = ", ".join(role for role, count in counts.items() if count == most)
            wrong.append(f"{endpoint.key}: budget {budget} on {vendor}, needs {most} ({roles})")
    assert not wrong, "\n".join(wrong)

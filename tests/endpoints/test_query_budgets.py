"""Every read stays within its query budget (`Endpoint.queries`), as every role.

A budget is the most queries any role's request needed when it was measured, on SQLite and on
PostgreSQL (the larger where they differ; the registry says where), so a read that starts
querying per row, or a scope that loses its join, fails here. Lower a budget when a change
makes a read cheaper; raise one only with the reason in the change.
"""

import pytest
from django.db import transaction

from tests.endpoints.harness import client_for, perform, user_of
from tests.endpoints.registry import ENDPOINTS, ROLES

BUDGETED = [e for e in ENDPOINTS if e.queries is not None]


@pytest.mark.parametrize("role", ROLES)
def test_every_read_stays_within_its_query_budget(role, world, django_assert_max_num_queries):
    user = user_of(world, role)
    over = []
    for endpoint in BUDGETED:
        with transaction.atomic():
            client = client_for(endpoint, user)  # signing in is not the read's cost
            try:
                with django_assert_max_num_queries(endpoint.queries):
                    perform(endpoint, world, client)
            except pytest.fail.Exception as failure:
                over.append(f"{endpoint.key}: {str(failure).splitlines()[0]}")
            transaction.set_rollback(True)
    assert not over, "\n".join(over)

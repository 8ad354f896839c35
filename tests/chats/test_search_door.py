"""Chat search reads through the one door: it plans with the scope `visible_to` applied and
refuses a queryset that did not come through it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chats.models import Message
from chats.search import search
from scrm.access.scope import scope_for


def test_chat_search_refuses_a_queryset_that_did_not_come_through_the_door(org, archive):
    # given: every message, read past the door
    everything = Message.objects.all()
    # then: search will not run over it, on either database
    with pytest.raises(LookupError):
        search(everything, "理赔", user=org.rep)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's search has one plan and reads no scope"
)
def test_chat_search_plans_with_the_scope_the_door_applied(org, archive):
    # given: a team lead's visible messages (the door builds the scope once)
    visible = Message.objects.visible_to(org.lead)
    assert visible.applied_scope == scope_for(org.lead)
    # when: the lead searches them, and the scope's id queries are counted
    with CaptureQueriesContext(connection) as queries:
        found = list(search(visible, "理赔", user=org.lead))
    # then: the lead's messages, and the staff of the team were not read a second time
    assert found
    team_reads = [q for q in queries.captured_queries if '"staff_staff"."team_id"' in q["sql"]]
    assert team_reads == []

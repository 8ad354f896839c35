"""Chat search and export read the message table from the "replica" alias; the rest stays on
the primary (scrm/dbrouting.py).

The replica here is what DATABASE_REPLICA_URL gives a test run: an alias marked TEST MIRROR of
"default", i.e. a second connection to the same test database. When the variable is not set the
module adds that alias itself (the same settings Django's set_as_test_mirror would leave), so
every query below really goes through a connection of its own. Being a separate connection, it
sees only committed rows: hence transactional tests. (So the rest of the suite, whose tests run
in a rolled-back transaction and do not list the replica, must run without the variable.)
"""

import copy
import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from customers.services import revoke_share, share_customer
from scrm.audit.models import AccessAction, AccessEvent
from scrm.dbrouting import REPLICA, read_replica
from tests.signin import verified_login

SEARCH = "/api/v1/chats/search/"
EXPORT = "/api/v1/chats/export/"
ADMIN_SEARCH = "/admin/chats/message/search/"
WRITES = ("INSERT", "UPDATE", "DELETE")
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "scrm" / "settings.py"

# serialized_rollback: each test starts from the migrated data (the default history windows),
# which the flush after a transactional test removes.
pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=[DEFAULT_DB_ALIAS, REPLICA]
)


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """A "replica" alias mirroring the test database, unless DATABASE_REPLICA_URL made one."""
    if REPLICA in connections.settings:
        yield
        return
    mirror = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)  # NAME: the test DB
    mirror["TEST"]["MIRROR"] = DEFAULT_DB_ALIAS
    for databases in {id(d): d for d in (connections.settings, settings.DATABASES)}.values():
        databases[REPLICA] = mirror
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    for databases in (connections.settings, settings.DATABASES):
        databases.pop(REPLICA, None)


@pytest.fixture
def captured():
    """Queries on the primary and on the replica while the block runs."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        yield primary, replica


def sqls(context) -> list[str]:
    return [query["sql"] for query in context.captured_queries]


def reads_messages(context) -> bool:
    return any('FROM "chats_message"' in sql for sql in sqls(context))


def mentions(context, table: str) -> bool:
    return any(f'"{table}"' in sql for sql in sqls(context))


def writes_access_event(context) -> bool:
    return any(sql.startswith('INSERT INTO "audit_accessevent"') for sql in sqls(context))


def writes(context) -> bool:
    """Any INSERT, UPDATE or DELETE (reads may also BEGIN, set_config or DECLARE a cursor)."""
    return any(sql.lstrip().upper().startswith(WRITES) for sql in sqls(context))


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_read_replica_names_the_replica_only_when_it_is_configured(monkeypatch):
    assert read_replica() == REPLICA
    monkeypatch.delitem(settings.DATABASES, REPLICA)
    assert read_replica() == DEFAULT_DB_ALIAS


def test_settings_add_a_mirrored_replica_alias_from_database_replica_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@primary.internal:5432/scrm")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica.internal:5433/scrm")
    monkeypatch.setenv("DB_CONN_MAX_AGE", "30")

    databases = runpy.run_path(str(SETTINGS_FILE))["DATABASES"]

    replica = databases["replica"]
    assert replica["ENGINE"] == databases["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert (replica["USER"], replica["HOST"], replica["PORT"], replica["NAME"]) == (
        "reader",
        "replica.internal",
        5433,
        "scrm",
    )
    assert replica["CONN_MAX_AGE"] == 30
    assert replica["TEST"] == {"MIRROR": "default"}

    monkeypatch.delenv("DATABASE_REPLICA_URL")
    assert set(runpy.run_path(str(SETTINGS_FILE))["DATABASES"]) == {"default"}


def test_api_search_reads_messages_on_the_replica_and_records_on_the_primary(
    api_client_for, org, archive, captured
):
    primary, replica = captured

    response = api_client_for(org.lead).get(SEARCH, {"q": "理赔"})

    assert ids(response) == {archive["rep_today"], archive["rep_10d"]}
    assert reads_messages(replica)
    assert not reads_messages(primary)
    # The scope's lookups (team members, shares, history window) were read on the primary.
    assert mentions(primary, "customers_customeruserobjectpermission")
    assert mentions(primary, "chats_historywindow")
    assert not mentions(replica, "customers_customeruserobjectpermission")
    assert not mentions(replica, "chats_historywindow")
    # The access event is written on the primary; nothing is written on the replica.
    assert writes_access_event(primary)
    assert not writes(replica)
    assert AccessEvent.objects.get(actor=org.lead, action=AccessAction.SEARCH).object_ids


def test_a_revoked_share_is_gone_from_a_search_on_the_replica_at_once(
    api_client_for, org, customers, archive
):
    share = share_customer(actor=org.rep, customer=customers.of_rep, with_staff=org.rep_b)
    assert ids(api_client_for(org.rep_b).get(SEARCH, {"q": "理赔"})) == {archive["rep_today"]}

    revoke_share(actor=org.rep, share=share)
    with CaptureQueriesContext(connections[REPLICA]) as replica:
        response = api_client_for(org.rep_b).get(SEARCH, {"q": "理赔"})

    # The share ids reach the replica as values read on the primary, not as a subquery.
    assert ids(response) == set()
    assert reads_messages(replica)
    assert not mentions(replica, "customers_customeruserobjectpermission")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_api_export_reads_messages_on_the_replica_and_records_on_the_primary(
    api_client_for, org, archive, captured, fmt
):
    primary, replica = captured

    response = api_client_for(org.lead).get(EXPORT, {"format": fmt})
    assert response.status_code == 200
    b"".join(response.streaming_content)  # the CSV rows are read while streaming

    # The row count and the rows: both message queries on the replica.
    assert sum('FROM "chats_message"' in sql for sql in sqls(replica)) >= 2
    assert not reads_messages(primary)
    assert not mentions(replica, "customers_customeruserobjectpermission")
    assert writes_access_event(primary)
    assert not writes(replica)
    event = AccessEvent.objects.get(actor=org.lead, action=AccessAction.EXPORT)
    assert event.query["row_count"] == 2  # counted on the replica


def test_admin_search_and_export_action_read_messages_on_the_replica(client, org, archive):
    verified_login(client, org.lead)

    with CaptureQueriesContext(connections[REPLICA]) as replica:
        response = client.get(ADMIN_SEARCH, {"q": "理赔"})
    assert response.status_code == 200
    assert {row["message"].pk for row in response.context["rows"]} == {
        archive["rep_today"],
        archive["rep_10d"],
    }
    assert reads_messages(replica)

    with CaptureQueriesContext(connections[REPLICA]) as replica:
        response = client.post(
            "/admin/chats/message/",
            {"action": "export_csv", "_selected_action": [archive["rep_today"]]},
        )
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(body.strip().splitlines()) == 2
    assert reads_messages(replica)
    assert AccessEvent.objects.filter(
        actor=org.lead, action=AccessAction.EXPORT, channel="admin"
    ).exists()

"""A mobile team's view of the API: a client generated from the live schema with
openapi-python-client imports whole, and a rep's day runs through it against a live server.

The client is generated once per run (a few seconds) into a temporary package, `scrm_client`.
"""

import importlib
import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.utils.encoders import JSONEncoder

from tests.chats.wecom_records import text_record
from tests.factories import TEST_PASSWORD, CustomerFactory, StaffFactory

PACKAGE = "scrm_client"
BIN = Path(sys.executable).parent  # the venv's: openapi-python-client and the ruff it runs


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package generated from the schema /api/schema/?lang=en serves (its generator,
    run here: no account or database rows are needed to read it)."""
    with translation.override("en"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    root = tmp_path_factory.mktemp("client")
    (root / "schema.json").write_text(json.dumps(schema, cls=JSONEncoder))
    tool = shutil.which("openapi-python-client", path=str(BIN)) or "openapi-python-client"
    result = subprocess.run(
        [
            tool,
            "generate",
            "--path",
            "schema.json",
            "--output-path",
            PACKAGE,
            "--meta",
            "none",
        ],
        cwd=root,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_every_generated_module_imports(generated):
    failures, count = [], 0
    for module in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}."):
        count += 1
        try:
            importlib.import_module(module.name)
        except Exception as error:  # noqa: BLE001 (collect them all)
            failures.append(f"{module.name}: {error!r}")
    assert count > 100
    assert failures == []


def api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def models():
    return importlib.import_module(f"{PACKAGE}.models")


def sign_in(base_url: str, username: str):
    client_module = importlib.import_module(PACKAGE)
    anonymous = client_module.Client(base_url=base_url, raise_on_unexpected_status=True)
    answer = api("auth.auth_token_create").sync(
        client=anonymous,
        body=models().CredentialsRequest(username=username, password=TEST_PASSWORD),
    )
    assert isinstance(answer, models().SignInAnswer), answer
    assert not answer.mfa_required  # a rep has no second factor to give
    return client_module.AuthenticatedClient(
        base_url=base_url, token=answer.access, raise_on_unexpected_status=True
    )


@pytest.fixture
def book(org, customers):
    org.rep.wecom_userid = "rep"
    org.rep.save()
    first = customers.of_rep
    first.wecom_external_userid = "wm-cust-1"
    first.mobile = "13812345678"
    first.stage = "qualified"
    first.save()
    others = [CustomerFactory(owner=org.rep, stage="qualified") for _ in range(3)]
    CustomerFactory(owner=org.rep, stage="lost")
    return [first, *others]


@pytest.fixture
def sync_account(db):
    account = StaffFactory(username="wecom-sync", is_staff=False)
    account.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    return account


# serialized_rollback: the live server needs committed rows; the migrated ones (roles, history
# windows) come back for the tests after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reps_day_through_the_generated_client(generated, live_server, org, book, sync_account):
    m = models()
    unset = importlib.import_module(f"{PACKAGE}.types").UNSET

    # The sync account files the night's WeCom archive.
    sync = sign_in(live_server.url, sync_account.username)
    records = [
        text_record("rep", "wm-cust-1", "您好，报价已发送"),
        text_record("wm-cust-1", "rep", "收到，报价我看一下"),
        {"msgid": "bad-1", "from": "rep", "msgtime": "yesterday", "msgtype": "text"},
    ]
    batch = api("chats.chats_messages_batch_create").sync(
        client=sync,
        body=m.BatchRequest(
            # Each record an object of WeCom's own fields (the schema's free-form item)
            messages=[m.BatchRequestMessagesItem.from_dict(r) for r in records],
            channel=m.ChatChannelEnum.WECOM,
        ),
    )
    assert isinstance(batch, m.BatchResult)
    assert (batch.created, batch.duplicate, batch.error) == (2, 0, 1)
    assert [r.status for r in batch.results] == [
        m.BatchItemStatusEnum.CREATED,
        m.BatchItemStatusEnum.CREATED,
        m.BatchItemStatusEnum.ERROR,
    ]
    assert isinstance(batch.results[0].id, int) and batch.results[2].reason

    # The rep signs in and pages through the qualified customers, two at a time.
    rep = sign_in(live_server.url, org.rep.username)
    listing = api("customers.customers_list")
    seen, page = [], 1
    while True:
        answer = listing.sync(
            client=rep, stage=m.CustomersListStage.QUALIFIED, page=page, page_size=2
        )
        assert isinstance(answer, m.PaginatedCustomerList)
        assert answer.count == 4
        assert all(c.stage == m.StageEnum.QUALIFIED for c in answer.results)
        seen += [c.id for c in answer.results]
        if answer.next_ is None:
            break
        page += 1
    assert sorted(seen) == sorted(c.pk for c in book)
    assert page == 2

    # One customer: masked on the list, unmasked on a reveal with a reason.
    detail = api("customers.customers_retrieve").sync(id=book[0].pk, client=rep)
    assert isinstance(detail, m.CustomerDetail)
    assert detail.owner == org.rep.pk and detail.owner_name == org.rep.username
    assert [p.owner for p in detail.ownership_history] == [org.rep.pk]
    revealed = api("customers.customers_reveal_create").sync(
        id=book[0].pk,
        client=rep,
        body=m.RevealRequest(field=m.FieldEnum.MOBILE, reason="回电确认报价"),
    )
    assert isinstance(revealed, m.RevealResult)
    assert (revealed.field, revealed.value) == ("mobile", "13812345678")

    # What happened with them, and a search of the chats.
    timeline = api("customers.customers_timeline_retrieve").sync(id=book[0].pk, client=rep)
    assert isinstance(timeline, m.CustomerTimeline)
    assert timeline.customer == book[0].pk and timeline.truncated is False
    messages = [e for e in timeline.entries if e.kind == m.TimelineEntryKindEnum.MESSAGE]
    assert [e.summary for e in messages] == ["您好，报价已发送", "收到，报价我看一下"]
    found = api("chats.chats_search_list").sync(client=rep, q="报价", customer=book[0].pk)
    assert isinstance(found, m.PaginatedMessageList)
    assert found.count == 2 and {msg.customer for msg in found.results} == {book[0].pk}

    # Shares: none yet; share with a teammate (201), and the list shows it.
    shares = api("customers.customers_shares_list")
    assert shares.sync(id=book[0].pk, client=rep) == []
    shared = api("customers.customers_shares_create").sync_detailed(
        id=book[0].pk,
        client=rep,
        body=m.ShareRequest(staff_id=org.rep_b.pk, level=m.LevelEnum.VIEW),
    )
    assert shared.status_code == 201 and isinstance(shared.parsed, m.Share)
    listed = shares.sync(id=book[0].pk, client=rep)
    assert [(s.staff, s.level) for s in listed] == [(org.rep_b.pk, m.LevelEnum.VIEW)]

    # The call back, logged as a follow-up; then marked done; the timeline lists it.
    logged = api("customers.customers_follow_ups_create").sync_detailed(
        id=book[0].pk, client=rep, body=m.FollowUpWriteRequest(note="已回电，下周报价")
    )
    assert logged.status_code == 201 and isinstance(logged.parsed, m.FollowUp)
    assert logged.parsed.staff == org.rep.pk and logged.parsed.done is False
    done = api("customers.customers_follow_ups_partial_update").sync(
        id=book[0].pk,
        row_id=logged.parsed.id,
        client=rep,
        body=m.PatchedFollowUpWriteRequest(done=True),
    )
    assert isinstance(done, m.FollowUp) and done.done is True
    listed = api("customers.customers_follow_ups_list").sync(id=book[0].pk, client=rep)
    assert [f.id for f in listed.results] == [logged.parsed.id]
    timeline = api("customers.customers_timeline_retrieve").sync(id=book[0].pk, client=rep)
    follow_ups = [e for e in timeline.entries if e.kind == m.TimelineEntryKindEnum.FOLLOW_UP]
    assert [e.summary for e in follow_ups] == ["已回电，下周报价"]

    # Errors come back typed, in the one envelope.
    unrelated = CustomerFactory(owner=org.rep_unrelated)
    missing = api("customers.customers_retrieve").sync_detailed(id=unrelated.pk, client=rep)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, m.Error) and missing.parsed.code == "not_found"
    invalid = api("customers.customers_reveal_create").sync_detailed(
        id=book[0].pk, client=rep, body=m.RevealRequest(field=m.FieldEnum.MOBILE, reason="")
    )
    assert invalid.status_code == 400 and invalid.parsed.code == "invalid"
    assert list(invalid.parsed.errors.additional_properties) == ["reason"]
    assert invalid.parsed.errors is not unset

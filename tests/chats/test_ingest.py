"""Ingest through the batch API and `import_chats`: idempotent, per-item, nothing lost."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection

from chats.ingest import ingest_records
from chats.models import Conversation, Message
from customers.models import Customer
from scrm.audit.models import SecurityAlert
from tests.chats.wecom_records import revoke_record, text_record
from tests.factories import CustomerFactory, StaffFactory

BATCH_URL = "/api/v1/chats/messages/batch/"


@pytest.fixture
def sync_account(db):
    account = StaffFactory(username="wecom-sync", is_staff=False)
    account.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    return account


@pytest.fixture
def linked(org):
    org.rep.wecom_userid = "rep"
    org.rep.save()
    customer = CustomerFactory(owner=org.rep, wecom_external_userid="wm-cust-1")
    return customer


def test_batch_stores_valid_items_and_reports_each(api_client_for, sync_account, org, linked):
    records = [
        text_record("rep", "wm-cust-1", "您好，报价已发送"),
        {"msgid": "bad-1", "from": "rep", "msgtime": "yesterday", "msgtype": "text"},
        text_record("wm-cust-1", "rep", "收到，谢谢"),
    ]

    response = api_client_for(sync_account).post(BATCH_URL, {"messages": records}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicate"], body["error"]) == (2, 0, 1)
    assert [r["status"] for r in body["results"]] == ["created", "error", "created"]
    assert "msgtime" in body["results"][1]["reason"]
    stored = Message.objects.order_by("sent_at", "id")
    assert [m.text for m in stored] == ["您好，报价已发送", "收到，谢谢"]
    first, second = stored
    assert (first.customer, first.staff, first.sender_staff) == (linked, org.rep, org.rep)
    assert second.sender_customer == linked
    assert first.conversation == second.conversation
    assert len(first.digest) == 64


def test_re_ingest_is_idempotent(api_client_for, sync_account, linked):
    records = [text_record("rep", "wm-cust-1", "hello"), text_record("rep", "wm-cust-1", "again")]
    client = api_client_for(sync_account)
    first = client.post(BATCH_URL, {"messages": records}, format="json").json()

    second = client.post(BATCH_URL, {"messages": records}, format="json").json()

    assert second["duplicate"] == 2 and second["created"] == 0
    assert [r["id"] for r in second["results"]] == [r["id"] for r in first["results"]]
    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 1


def test_duplicate_inside_one_batch_is_stored_once(api_client_for, sync_account, linked):
    record = text_record("rep", "wm-cust-1", "once")

    body = (
        api_client_for(sync_account)
        .post(BATCH_URL, {"messages": [record, record]}, format="json")
        .json()
    )

    assert [r["status"] for r in body["results"]] == ["created", "duplicate"]
    assert Message.objects.count() == 1


def test_unknown_customer_becomes_unassigned(api_client_for, sync_account, linked):
    api_client_for(sync_account).post(
        BATCH_URL, {"messages": [text_record("wm-new-9", "rep", "我想了解一下")]}, format="json"
    )

    customer = Customer.objects.get(wecom_external_userid="wm-new-9")
    assert customer.owner is None
    assert Message.objects.get().customer == customer


def test_batch_over_the_limit_and_bad_shapes_answer_400(api_client_for, sync_account):
    client = api_client_for(sync_account)
    too_many = [text_record("a", "b", "x") for _ in range(1001)]

    assert client.post(BATCH_URL, {"messages": too_many}, format="json").status_code == 400
    assert client.post(BATCH_URL, {"messages": "nope"}, format="json").status_code == 400
    assert client.post(BATCH_URL, {"messages": [], "extra": 1}, format="json").status_code == 400
    assert Message.objects.count() == 0


def test_only_ingest_holders_may_post(api_client_for, org):
    for user in (org.rep, org.manager, org.legal):
        response = api_client_for(user).post(
            BATCH_URL, {"messages": [text_record("a", "b", "x")]}, format="json"
        )
        assert response.status_code == 403
    assert (
        api_client_for(org.admin_user)
        .post(BATCH_URL, {"messages": [text_record("a", "b", "x")]}, format="json")
        .status_code
        == 200
    )


def test_sensitive_word_rule_raises_an_alert(api_client_for, sync_account, linked):
    from chats.models import SensitiveWordRule

    SensitiveWordRule.objects.create(kind="keyword", pattern="回扣", severity="high")
    SensitiveWordRule.objects.create(kind="regex", pattern=r"私下\s*转账")

    body = (
        api_client_for(sync_account)
        .post(
            BATCH_URL,
            {
                "messages": [
                    text_record("rep", "wm-cust-1", "给你百分之五的回扣"),
                    text_record("rep", "wm-cust-1", "我们私下 转账吧"),
                    text_record("rep", "wm-cust-1", "正常消息"),
                ]
            },
            format="json",
        )
        .json()
    )

    ids = [r["id"] for r in body["results"]]
    alerts = SecurityAlert.objects.filter(kind="sensitive_word").order_by("object_id")
    assert [(a.object_id, a.severity) for a in alerts] == [(ids[0], "high"), (ids[1], "medium")]


def write_lines(path, lines) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_import_chats_reads_wecom_format_with_revoke_and_malformed_lines(
    tmp_path, sync_account, linked, capsys
):
    original = text_record("rep", "wm-cust-1", "这条消息会被撤回", msgid="m-orig")
    image = {
        "msgid": "m-img",
        "action": "send",
        "from": "wm-cust-1",
        "tolist": ["rep"],
        "roomid": "",
        "msgtime": original["msgtime"] + 1000,
        "msgtype": "image",
        "image": {"md5sum": "abc", "filesize": 2048, "sdkfileid": "x"},
    }
    lines = [
        json.dumps(original, ensure_ascii=False),
        "{not json",
        json.dumps(image),
        json.dumps(revoke_record("rep", "wm-cust-1", "m-orig")),
        json.dumps({"msgid": "m-switch", "action": "switch", "time": 1, "user": "rep"}),
    ]
    path = write_lines(tmp_path / "archive.jsonl", lines)

    call_command("import_chats", path)

    out = capsys.readouterr().out
    assert "created 3, duplicates 0, skipped 2" in out
    assert "line 2: malformed JSON" in out
    assert "line 5: 动作 'switch' 不是消息" in out  # "action 'switch' is not a message"
    revoked = Message.objects.get(external_id="m-orig")
    assert revoked.revoked_at is not None and revoked.text == "这条消息会被撤回"
    assert Message.objects.get(external_id="m-img").attachment_size == 2048

    call_command("import_chats", path)
    assert "created 0, duplicates 3, skipped 2" in capsys.readouterr().out


def test_import_chats_clear_errors(tmp_path, db, sync_account):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_chats", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CommandError, match="no staff account"):
        call_command("import_chats", str(tmp_path / "missing.jsonl"), actor="nobody")


def _archive_with_cross_batch_revoke(tmp_path) -> tuple[str, list[str]]:
    """Nine lines, in batches of two: a revoke in the last batch targets the first message,
    and one line is malformed."""
    messages = [text_record("rep", "wm-cust-1", f"第{n}条消息", msgid=f"p-{n}") for n in range(7)]
    lines = [json.dumps(m, ensure_ascii=False) for m in messages]
    lines.insert(3, "{not json")
    lines.append(json.dumps(revoke_record("rep", "wm-cust-1", "p-0")))
    return write_lines(tmp_path / "archive.jsonl", lines), [m["msgid"] for m in messages]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel import needs PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_import_chats_with_workers_stores_everything_and_applies_revokes(
    tmp_path, sync_account, linked, capsys
):
    # given: batches of two spread over two worker processes (committed, so they see them)
    path, msgids = _archive_with_cross_batch_revoke(tmp_path)

    # when
    call_command("import_chats", path, workers=2, batch_size=2)

    # then: every message once, the malformed line reported by number, the revoke applied
    out = capsys.readouterr().out
    assert "created 8, duplicates 0, skipped 1" in out
    assert "line 4: malformed JSON" in out
    assert set(msgids) <= set(Message.objects.values_list("external_id", flat=True))
    assert Message.objects.get(external_id="p-0").revoked_at is not None
    assert Conversation.objects.filter(external_id="rep|wm-cust-1").count() == 1

    call_command("import_chats", path, workers=2, batch_size=2)
    assert "created 0, duplicates 8, skipped 1" in capsys.readouterr().out


def test_import_chats_rejects_bad_worker_and_batch_options(tmp_path, sync_account):
    path, _ = _archive_with_cross_batch_revoke(tmp_path)
    with pytest.raises(CommandError, match="--batch-size must be between 1 and 1000"):
        call_command("import_chats", path, batch_size=0)
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        call_command("import_chats", path, workers=0)
    if connection.vendor == "sqlite":
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            call_command("import_chats", path, workers=2)
    assert not Message.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_batches_over_the_same_conversations_all_land(sync_account, org):
    # given: ten customers the rep chats with, and two clients each uploading batches that
    # touch all ten conversations, in opposite orders
    import threading

    from django.db import connections

    org.rep.wecom_userid = "rep"
    org.rep.save()
    externals = [
        CustomerFactory(owner=org.rep, wecom_external_userid=f"wm-c{n}") for n in range(10)
    ]
    batches = {
        client: [
            [
                text_record("rep", c.wecom_external_userid, f"{client}-{b}-{n}")
                for n, c in enumerate(externals if client == "a" else externals[::-1])
            ]
            for b in range(6)
        ]
        for client in ("a", "b")
    }
    failures = []

    def upload(client):
        try:
            for batch in batches[client]:
                results = ingest_records(records=batch, actor=sync_account)
                assert {r.status for r in results} == {"created"}
        except Exception as error:  # reported below, with the client
            failures.append((client, repr(error)))
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=upload, args=(c,)) for c in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: no batch failed (a deadlock used to fail one), every message stored once
    assert failures == []
    assert Message.objects.count() == 2 * 6 * 10
    assert Conversation.objects.count() == 10

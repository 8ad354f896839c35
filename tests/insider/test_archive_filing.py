"""§6 The archive files every message where it belongs (issue 9), attacked as an insider would.

- A group room is the room's conversation, seen through its staff members' scopes: a rep whose
  customer spoke in a room they were not in never sees it, on any surface.
- `wecom_external_userid` binds the archive to a customer: sales roles cannot set or change it,
  and a refused attempt says nothing about which ids exist elsewhere.
- One unstorable archive record is that record's error; the rest of the batch is stored.
- Sensitive-word rules run on RE2 (linear time) and are validated when saved.
"""

import base64
import importlib
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

import chats
import customers as customers_app
from chats.holds import place_legal_hold
from chats.ingest import ingest_records
from chats.models import (
    Conversation,
    ConversationCustomer,
    Message,
    SensitiveWordRule,
    scope_customer_q,
    visible_message_q,
)
from chats.retention import purge_expired_messages
from customers.models import Customer
from scrm.access.scope import scope_for
from scrm.audit.models import SecurityAlert
from tests.admin.test_customer_admin import form_data
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.chats.wecom_records import text_record
from tests.factories import CustomerFactory, StaffFactory
from tests.signin import verified_login

pytestmark = pytest.mark.django_db

BATCH_URL = "/api/v1/chats/messages/batch/"
ROOM_A_WORD = "群聊暗号"  # said only in room A
ROOM_B_WORD = "团队群通知"  # said only in room B


@pytest.fixture
def sync(db):
    account = StaffFactory(username="wecom-sync", is_staff=False)
    account.user_permissions.add(Permission.objects.get(codename="ingest_message"))
    return account


@pytest.fixture
def linked(org, customers):
    for user in (org.rep, org.rep_b, org.rep_other_team, org.rep_unrelated, org.lead):
        user.wecom_userid = user.username
        user.save()
    for name in ("of_rep", "of_rep_b", "of_other_team", "of_unrelated"):
        customer = getattr(customers, name)
        customer.wecom_external_userid = f"wm-{name}"
        customer.save()
    return customers


def room_record(sender: str, members: list[str], content: str, room: str) -> dict:
    record = text_record(sender, "", content, roomid=room)
    record["tolist"] = [m for m in members if m != sender]
    return record


@pytest.fixture
def rooms(org, linked, sync):
    """Room A: rep_other_team (team 2) with rep's customer of_rep and of_unrelated; of_rep
    speaks last. Room B: rep (team 1) with rep_b's customer of_rep_b. Plus private chats."""
    members_a = ["rep_other_team", "wm-of_rep", "wm-of_unrelated"]
    members_b = ["rep", "wm-of_rep_b"]
    records = [
        room_record("rep_other_team", members_a, f"{ROOM_A_WORD}：新产品报价", "room-a"),
        room_record("wm-of_unrelated", members_a, f"{ROOM_A_WORD}，收到", "room-a"),
        room_record("wm-of_rep", members_a, f"{ROOM_A_WORD}，我再考虑", "room-a"),
        room_record("rep", members_b, f"{ROOM_B_WORD}：明天开会", "room-b"),
        text_record("rep", "wm-of_rep", "私聊：您好"),
        text_record("rep_other_team", "wm-of_other_team", "私聊：报价已发"),
    ]
    results = ingest_records(records=records, actor=sync)
    assert {r.status for r in results} == {"created"}, [r.as_dict() for r in results]
    ids = [r.id for r in results]
    return {"a": set(ids[:3]), "b": {ids[3]}, "private_rep": ids[4], "private_other": ids[5]}


def api_ids(client, url: str, **params) -> set[int]:
    response = client.get(url, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- group rooms ------------------------------------------------------------------------------


def test_a_room_is_one_conversation_of_the_room_with_every_member_linked(org, linked, rooms):
    # when: the room's messages came from three different speakers (of_rep spoke last)
    room = Conversation.objects.get(room_id="room-a")

    # then: one conversation, filed under no single customer, every external member linked,
    # its staff member recorded, and its messages filed under the room (not under of_rep)
    assert Conversation.objects.filter(room_id="room-a").count() == 1
    assert room.customer_id is None
    assert set(
        ConversationCustomer.objects.filter(conversation=room).values_list("customer_id", flat=True)
    ) == {linked.of_rep.pk, linked.of_unrelated.pk}
    assert set(room.staff.all()) == {org.rep_other_team}
    messages = Message.objects.filter(pk__in=rooms["a"])
    assert {m.conversation_id for m in messages} == {room.pk}
    assert {m.customer_id for m in messages} == {None}
    assert {m.sender_customer_id for m in messages} == {
        None,
        linked.of_rep.pk,
        linked.of_unrelated.pk,
    }


def test_a_rep_whose_customer_spoke_in_a_room_they_were_not_in_never_sees_it(
    org, linked, rooms, api_client_for
):
    # given: rep owns of_rep, who spoke (last) in room A; rep is not a member of room A
    client = api_client_for(org.rep)
    room_a = Conversation.objects.get(room_id="room-a")

    # when / then: no surface that starts from the message scope shows room A
    assert api_ids(client, "/api/v1/chats/messages/") & rooms["a"] == set()
    assert api_ids(client, "/api/v1/chats/search/", q=ROOM_A_WORD) == set()
    assert client.get(f"/api/v1/chats/messages/{min(rooms['a'])}/").status_code == 404
    assert room_a.pk not in api_ids(client, "/api/v1/chats/conversations/")
    assert client.get(f"/api/v1/chats/conversations/{room_a.pk}/").status_code == 404
    timeline = client.get(f"/api/v1/customers/{linked.of_rep.pk}/timeline/").json()
    assert {e["id"] for e in timeline["entries"] if e["kind"] == "message"} == {
        rooms["private_rep"]
    }
    filtered = api_ids(client, "/api/v1/chats/messages/", customer=linked.of_rep.pk)
    assert filtered == {rooms["private_rep"]}
    admin = Client()
    verified_login(admin, org.rep)
    assert ROOM_A_WORD not in admin.get("/admin/chats/message/").content.decode()
    page = admin.get("/admin/chats/message/search/", {"q": ROOM_A_WORD}).content.decode()
    assert "新产品报价" not in page and "我再考虑" not in page  # (the page echoes the keyword)
    assert admin.get(f"/admin/chats/message/{min(rooms['a'])}/change/").status_code != 200
    assert admin.get(f"/admin/chats/conversation/{room_a.pk}/change/").status_code != 200


def test_a_lead_sees_the_rooms_of_their_team_only_and_exports_nothing_else(
    org, linked, rooms, api_client_for
):
    # given: the lead's team (rep, rep_b) is in room B; room A has only a team 2 member
    client = api_client_for(org.lead)

    # when
    listed = api_ids(client, "/api/v1/chats/messages/")
    export = client.get("/api/v1/chats/export/", {"format": "csv"})
    exported = "".join(chunk.decode() for chunk in export.streaming_content)

    # then
    assert rooms["b"] <= listed and not listed & rooms["a"]
    assert ROOM_B_WORD in exported and ROOM_A_WORD not in exported
    assert api_ids(client, "/api/v1/chats/search/", q=ROOM_B_WORD) == rooms["b"]


@pytest.mark.parametrize(
    ("who", "sees_a", "sees_b"),
    [
        ("rep", False, True),  # member of B; their customer spoke in A
        ("rep_b", False, False),  # their customer is in B, they are not
        ("lead", False, True),  # team 1 lead: rep is in B
        ("rep_other_team", True, False),  # member of A
        ("manager", True, True),  # the whole sales tree
        ("manager_other", False, False),  # of_unrelated (their department's) spoke in A
        ("rep_unrelated", False, False),
        ("hr", False, False),
        ("legal", True, True),  # every conversation
        ("auditor", True, True),
        ("admin_user", True, True),
    ],
)
def test_room_visibility_follows_the_members_scopes(
    org, rooms, api_client_for, who, sees_a, sees_b
):
    user = getattr(org, who)
    client = api_client_for(user)

    listed = Message.objects.visible_to(user).values_list("pk", flat=True)
    conversations = set(Conversation.objects.visible_to(user).values_list("room_id", flat=True))
    response = client.get("/api/v1/chats/messages/", {"page_size": 100})

    assert (rooms["a"] <= set(listed), rooms["b"] <= set(listed)) == (sees_a, sees_b)
    assert (not rooms["a"] & set(listed)) == (not sees_a)
    assert ("room-a" in conversations, "room-b" in conversations) == (sees_a, sees_b)
    if response.status_code == 200:
        seen = {row["id"] for row in response.json()["results"]}
        assert (rooms["a"] <= seen, rooms["b"] <= seen) == (sees_a, sees_b)
    else:
        assert response.status_code == 403 and not (sees_a or sees_b)


def test_the_timeline_shows_the_rooms_a_customer_took_part_in(org, linked, rooms, api_client_for):
    # when: legal (sees every room) reads of_unrelated's timeline, the lead of_rep_b's
    legal = api_client_for(org.legal).get(f"/api/v1/customers/{linked.of_unrelated.pk}/timeline/")
    lead = api_client_for(org.lead).get(f"/api/v1/customers/{linked.of_rep_b.pk}/timeline/")

    # then: the room messages are there, whoever spoke, alongside their private chats
    legal_ids = {e["id"] for e in legal.json()["entries"] if e["kind"] == "message"}
    assert legal_ids == rooms["a"]
    lead_ids = {e["id"] for e in lead.json()["entries"] if e["kind"] == "message"}
    assert lead_ids == rooms["b"]


def test_a_successor_of_the_room_owner_sees_the_room(org, linked, rooms, api_client_for):
    # given: room B moves to rep_b (as offboarding moves a room without a customer)
    Conversation.objects.filter(room_id="room-b").update(owner=org.rep_b)

    # then
    assert rooms["b"] <= api_ids(api_client_for(org.rep_b), "/api/v1/chats/messages/")


def test_private_chats_keep_their_scope_shape_for_users_in_no_room(org, linked, rooms):
    # A user whose scope holds no room gets exactly the customer scope's SQL (the plans tuned
    # at 10 M messages); a room member gets one OR branch on conversation_id on top of it.
    for user in (org.rep_b, org.manager_other, org.rep_unrelated):
        plain = Message.objects.filter(scope_customer_q(scope_for(user)))
        assert str(Message.objects.filter(visible_message_q(user)).query) == str(plain.query)
    plain = str(Message.objects.filter(scope_customer_q(scope_for(org.rep))).query)
    member = str(Message.objects.filter(visible_message_q(org.rep)).query)
    plain, member = plain.split(" WHERE ", 1)[1], member.split(" WHERE ", 1)[1]
    assert "conversation_id" not in plain and "conversation_id" in member


def _migration(app, suffix: str):
    folder = Path(app.__file__).parent / "migrations"
    (path,) = folder.glob(f"*_{suffix}.py")
    return importlib.import_module(f"{app.__name__}.migrations.{path.stem}")


def test_rooms_filed_under_a_customer_before_are_refiled_by_the_migration(org, customers):
    # given: a room as ingest filed it before, under its first external member, each message
    # under whoever spoke last
    room = ConversationFactory(customer=customers.of_rep, owner=org.rep_other_team, room_id="r9")
    said = MessageFactory(
        conversation=room, customer=customers.of_rep, sender_customer=customers.of_unrelated
    )
    staff_said = MessageFactory(conversation=room, sender_staff=org.rep_other_team)
    private = MessageFactory(conversation=ConversationFactory(customer=customers.of_rep))
    # ... and a private chat ingest mislabelled as a room (keyed by its one known side)
    customers.of_rep_b.wecom_external_userid = "wm-one-side"
    customers.of_rep_b.save()
    one_sided = ConversationFactory(customer=customers.of_rep_b, room_id="wm-one-side")
    one_sided_message = MessageFactory(conversation=one_sided)

    # when
    _migration(chats, "room_members").file_rooms_under_their_members(global_apps, None)

    # then
    room.refresh_from_db()
    assert room.customer_id is None
    assert set(room.customers.all()) == {customers.of_rep, customers.of_unrelated}
    assert org.rep_other_team in room.staff.all()
    assert set(
        Message.objects.filter(pk__in=[said.pk, staff_said.pk]).values_list(
            "customer_id", flat=True
        )
    ) == {None}
    assert Message.objects.get(pk=private.pk).customer_id == customers.of_rep.pk
    one_sided.refresh_from_db()
    assert (one_sided.room_id, one_sided.customer_id) == ("", customers.of_rep_b.pk)
    assert Message.objects.get(pk=one_sided_message.pk).customer_id == customers.of_rep_b.pk


# --- the archive binding ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "lead", "manager"])
def test_sales_cannot_repoint_a_customer_to_another_customers_wecom_id(
    org, linked, api_client_for, who
):
    # given: of_rep is bound to wm-of_rep; wm-of_other_team belongs to another customer
    client = api_client_for(getattr(org, who))
    url = f"/api/v1/customers/{linked.of_rep.pk}/"

    # when: probing an id that exists elsewhere, one that exists nowhere, and detaching
    taken = client.patch(url, {"wecom_external_userid": "wm-of_other_team"}, format="json")
    free = client.patch(url, {"wecom_external_userid": "wm-nobody-has-this"}, format="json")
    detach = client.patch(url, {"wecom_external_userid": None}, format="json")
    blank = client.patch(url, {"wecom_external_userid": ""}, format="json")

    # then: the same refusal for each (no uniqueness oracle), nothing changed
    assert taken.status_code == free.status_code == detach.status_code == blank.status_code == 403
    assert taken.json() == free.json() == detach.json() == blank.json()
    assert "您的角色只读" in taken.json()["detail"]  # read-only
    assert "企业微信" in taken.json()["detail"]
    assert Customer.objects.get(pk=linked.of_rep.pk).wecom_external_userid == "wm-of_rep"


def test_sales_cannot_set_it_at_create_but_may_send_the_current_value_back(
    org, linked, api_client_for
):
    client = api_client_for(org.rep)

    # An id nobody holds (one held elsewhere is refused as well, by the same rule)
    created = client.post(
        "/api/v1/customers/",
        {"name": "欧阳测试", "wecom_external_userid": "wm-free-id"},
        format="json",
    )
    taken = client.post(
        "/api/v1/customers/",
        {"name": "欧阳测试", "wecom_external_userid": "wm-of_other_team"},
        format="json",
    )
    unchanged = client.patch(
        f"/api/v1/customers/{linked.of_rep.pk}/",
        {"wecom_external_userid": "wm-of_rep", "company": "新公司"},
        format="json",
    )

    assert created.status_code == taken.status_code == 403
    assert created.json() == taken.json()
    assert "企业微信" in created.json()["detail"]
    assert not Customer.objects.filter(name="欧阳测试").exists()
    assert unchanged.status_code == 200
    assert Customer.objects.get(pk=linked.of_rep.pk).company == "新公司"


def test_an_administrator_binds_and_blanks_are_stored_as_null(org, linked, api_client_for):
    admin = api_client_for(org.admin_user)
    rep = api_client_for(org.rep)

    bound = admin.patch(
        f"/api/v1/customers/{linked.of_rep.pk}/", {"wecom_external_userid": "wm-new"}, format="json"
    )
    taken = admin.patch(
        f"/api/v1/customers/{linked.of_rep.pk}/",
        {"wecom_external_userid": "wm-of_other_team"},
        format="json",
    )
    # Two customers without an id, created with a blank one: no collision on ''.
    url = "/api/v1/customers/"
    first = rep.post(url, {"name": "甲", "wecom_external_userid": ""}, format="json")
    second = admin.post(url, {"name": "乙", "wecom_external_userid": " "}, format="json")

    assert bound.status_code == 200 and bound.json()["wecom_external_userid"] == "wm-new"
    assert taken.status_code == 400 and "wecom_external_userid" in taken.json()["errors"]
    assert first.status_code == 201 and second.status_code == 201, (first.json(), second.json())
    assert Customer.objects.filter(name__in=["甲", "乙"], wecom_external_userid=None).count() == 2


def test_the_migration_turns_blank_ids_into_null(db):
    blanks = [CustomerFactory(), CustomerFactory()]
    Customer.objects.filter(pk=blanks[0].pk).update(wecom_external_userid="")

    _migration(customers_app, "blank_wecom_id_as_null").blanks_to_null(global_apps, None)

    assert Customer.objects.filter(wecom_external_userid="").count() == 0
    assert Customer.objects.get(pk=blanks[0].pk).wecom_external_userid is None


def test_the_admin_form_is_read_only_for_sales_and_writable_for_administrators(org, linked):
    url = f"/admin/customers/customer/{linked.of_rep.pk}/change/"
    rep = Client()
    verified_login(rep, org.rep)
    form = rep.get(url).content.decode()
    admin = Client()
    verified_login(admin, org.admin_user)

    # when: the rep posts a changed id anyway
    data = form_data(
        linked.of_rep, name=linked.of_rep.name, wecom_external_userid="wm-of_other_team"
    )
    response = rep.post(url, data)

    # then: no input for it, the save went through, and the stored id stands
    assert 'name="wecom_external_userid"' not in form
    assert response.status_code == 302
    assert Customer.objects.get(pk=linked.of_rep.pk).wecom_external_userid == "wm-of_rep"
    assert 'name="wecom_external_userid"' in admin.get(url).content.decode()
    add = rep.get("/admin/customers/customer/add/").content.decode()
    assert 'name="wecom_external_userid"' not in add
    assert admin.post(url, {**data, "wecom_external_userid": "wm-admin"}).status_code == 302
    assert Customer.objects.get(pk=linked.of_rep.pk).wecom_external_userid == "wm-admin"


# --- one bad record ---------------------------------------------------------------------------


def _with(record: dict, **changes) -> dict:
    return {**record, **changes}


_file_ids = itertools.count(1)


def _file(name: str, media: bool = True) -> dict:
    record = {
        "msgid": f"file-{next(_file_ids)}",
        "action": "send",
        "from": "rep",
        "tolist": ["wm-of_rep"],
        "roomid": "",
        "msgtime": text_record("rep", "wm-of_rep", "")["msgtime"],
        "msgtype": "file",
        "file": {"filename": name, "filesize": 3},
    }
    if media:
        record["media_base64"] = base64.b64encode(b"abc").decode()
    return record


BAD_RECORDS = {
    "path traversal in the file name": _file("../../etc/passwd"),
    "a folder in the file name": _file("a/b.jpg"),
    "a Windows path in the file name": _file("..\\..\\boot.ini", media=False),
    "an over-long file name": _file("长" * 256 + ".pdf"),
    "an over-long recipient id": _with(text_record("rep", "x" * 65, "hi"), msgid="long-to"),
    "an over-long sender id": _with(text_record("y" * 65, "rep", "hi"), msgid="long-from"),
    "an over-long room id": _with(text_record("rep", "wm-of_rep", "hi", roomid="r" * 129)),
    "a file size past a bigint": _with(
        _file("ok.pdf", media=False), file={"filename": "ok.pdf", "filesize": 2**64}
    ),
    "a timestamp in the year 9999": _with(
        text_record("rep", "wm-of_rep", "hi"), msgtime=253402300799000
    ),
    "a NUL character in the text": text_record("rep", "wm-of_rep", "a\x00b"),
    "a lone surrogate in the text": text_record("rep", "wm-of_rep", "a\ud800b"),
}


@pytest.mark.parametrize("bad", list(BAD_RECORDS), ids=list(BAD_RECORDS))
def test_one_bad_record_is_an_item_error_and_the_rest_is_stored(
    linked, sync, api_client_for, bad, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    records = [
        text_record("rep", "wm-of_rep", "第一条"),
        BAD_RECORDS[bad],
        _file("报价单.pdf"),
    ]

    # Encoded here (ASCII escapes): the test client's encoder refuses a lone surrogate, which
    # a sync client may well send as \ud800.
    payload = json.dumps({"messages": records})
    response = api_client_for(sync).post(BATCH_URL, payload, content_type="application/json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "error", "created"], body
    assert body["results"][1]["reason"], body
    assert Message.objects.count() == 2
    stored = Message.objects.get(attachment_name="报价单.pdf")
    assert Path(stored.attachment.path).resolve().is_relative_to(tmp_path.resolve())
    assert not list(tmp_path.rglob("passwd"))


def test_import_chats_skips_the_bad_line_and_stores_the_rest(
    linked, sync, tmp_path, settings, capsys
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    lines = [
        text_record("rep", "wm-of_rep", "第一条"),
        _file("../../etc/passwd"),
        text_record("wm-of_rep", "rep", "第三条"),
    ]
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")

    call_command("import_chats", str(path))

    out = capsys.readouterr().out
    assert "created 2, duplicates 0, skipped 1" in out
    assert "line 2: “filename”必须是不带路径的文件名" in out  # "must be a plain file name"
    assert set(Message.objects.values_list("text", flat=True)) == {"第一条", "第三条"}


# --- sensitive-word rules ---------------------------------------------------------------------


def test_a_catastrophic_pattern_does_not_stall_ingest(linked, sync, api_client_for):
    # given: rules that backtrack exponentially in Python's re on a long near-miss
    SensitiveWordRule.objects.create(kind="regex", pattern=r"(a+)+$", severity="high")
    SensitiveWordRule.objects.create(kind="regex", pattern=r"^(\w+\s?)*$", severity="low")
    adversarial = "a" * 50_000 + "!"
    records = [
        text_record("rep", "wm-of_rep", adversarial),
        text_record("rep", "wm-of_rep", "aaaa"),
    ]

    # when
    response = api_client_for(sync).post(BATCH_URL, {"messages": records}, format="json")

    # then: both stored; only the real match raised alerts
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    alerted = set(
        SecurityAlert.objects.filter(kind="sensitive_word").values_list("object_id", flat=True)
    )
    assert alerted == {body["results"][1]["id"]}


@pytest.mark.parametrize(
    "pattern",
    [r"(?<=转账)密码", r"(?<!不)同意", r"(\w)\1", r"回扣(?=吧)", r"a{1001}"],
)
def test_a_pattern_re2_cannot_run_is_refused_in_the_admin(org, pattern):
    client = Client()
    verified_login(client, org.security)

    response = client.post(
        "/admin/chats/sensitivewordrule/add/",
        {"kind": "regex", "pattern": pattern, "severity": "high", "active": "on"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert "RE2" in response.content.decode()
    assert not SensitiveWordRule.objects.exists()
    with pytest.raises(ValidationError) as refused:
        SensitiveWordRule(kind="regex", pattern=pattern).full_clean()
    assert "pattern" in refused.value.message_dict


def test_valid_rules_are_saved_and_keywords_stay_literal(org, linked, sync):
    client = Client()
    verified_login(client, org.security)
    for kind, pattern in (("regex", r"私下\s*转账"), ("keyword", "a.b(")):
        response = client.post(
            "/admin/chats/sensitivewordrule/add/",
            {"kind": kind, "pattern": pattern, "severity": "high", "active": "on"},
        )
        assert response.status_code == 302, response.content.decode()

    results = ingest_records(
        records=[
            text_record("rep", "wm-of_rep", "我们私下  转账"),
            text_record("rep", "wm-of_rep", "axb("),
            text_record("rep", "wm-of_rep", "A.B("),
        ],
        actor=sync,
    )

    alerted = set(SecurityAlert.objects.values_list("object_id", flat=True))
    assert alerted == {results[0].id, results[2].id}


@pytest.mark.parametrize("rare", [True, False])
@pytest.mark.parametrize("who", ["lead", "lead of a wide scope", "rep"])
def test_every_search_plan_finds_the_room_messages_of_the_scope(org, rooms, monkeypatch, rare, who):
    # given: every plan chats.search.search picks on PostgreSQL (as in test_scope_shapes):
    # a rare or common keyword, for a book, a team, and a team counted as wide
    from chats import search as search_module
    from chats import search_backends

    user = org.rep if who == "rep" else org.lead
    common = {
        *search_module.keyword_tokens(ROOM_A_WORD)[0],
        *search_module.keyword_tokens(ROOM_B_WORD)[0],
    }
    frequencies = {} if rare else dict.fromkeys(common, 0.5)
    monkeypatch.setattr(search_backends, "_token_frequencies", lambda: frequencies)
    if who == "lead of a wide scope":
        monkeypatch.setattr(search_backends, "NARROW_SCOPE_MAX_CUSTOMERS", 0)

    # when
    found = search_module.search(Message.objects.visible_to(user), ROOM_B_WORD, user=user)
    hidden = search_module.search(Message.objects.visible_to(user), ROOM_A_WORD, user=user)

    # then: room B (rep is a member) is found, room A never
    assert {m.pk for m in found} == rooms["b"]
    assert not hidden.exists()


def test_a_customer_hold_keeps_the_rooms_they_were_in(org, linked, sync):
    # given: an old room where of_unrelated was a member but never spoke, and a private chat
    # nobody holds
    old = timezone.now() - timedelta(days=400)
    members = ["rep_other_team", "wm-of_rep", "wm-of_unrelated"]
    results = ingest_records(
        records=[
            room_record("rep_other_team", members, "一年前的群消息", "room-old"),
            text_record("rep", "wm-of_rep", "一年前的私聊", at=old),
        ],
        actor=sync,
    )
    Message.objects.filter(pk=results[0].id).update(sent_at=old)
    place_legal_hold(actor=org.legal, reason="Litigation", customer=linked.of_unrelated)

    # when
    purge_expired_messages(now=timezone.now())

    # then: the room message is held through the membership; the private chat is purged
    remaining = set(Message.objects.values_list("pk", flat=True))
    assert remaining == {results[0].id}

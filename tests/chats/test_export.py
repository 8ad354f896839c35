"""Chat export: scoped, masked unless raw export is allowed, recorded, streamed in flat memory."""

import csv
import hashlib
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from openpyxl import load_workbook

from chats.export import COLUMNS, export_response
from chats.models import Message
from scrm.audit.models import AccessAction, AccessEvent
from scrm.staff.models import Staff
from tests.chats.factories import ConversationFactory, MessageFactory

EXPORT_URL = "/api/v1/chats/export/"
MOBILE = "13812345678"


def bulk_messages(conversation, count: int, *, text: str = "Message {n}"):
    """`count` customer messages in one conversation via bulk_create, one second apart."""
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                channel=conversation.channel,
                external_id=f"{conversation.external_id}-bulk-{n}",
                customer_id=conversation.customer_id,
                staff_id=conversation.owner_id,
                sender_customer_id=conversation.customer_id,
                sent_at=now - timedelta(seconds=count - n),
                text=text.format(n=n),
                digest=hashlib.sha256(f"{conversation.external_id}-{n}".encode()).hexdigest(),
            )
            for n in range(count)
        ],
        batch_size=1000,
    )


def from_customer(conversation, **extra):
    """A message the conversation's customer sent (MessageFactory's sender is the staff)."""
    return MessageFactory(
        conversation=conversation,
        sender_staff=None,
        sender_customer=conversation.customer,
        **extra,
    )


def grant(user, perm: str):
    app_label, codename = perm.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = content_of(response).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in reader]


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(content_of(response)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


def export(client, **params):
    return client.get(EXPORT_URL, {"format": "csv", **params})


@pytest.fixture
def chat(customers):
    """One conversation per customer of the conversation owner; `chat.of_rep` etc."""
    return SimpleNamespace(
        **{name: ConversationFactory(customer=c) for name, c in vars(customers).items()}
    )


def test_rep_exports_only_own_customers_within_history_window(org, chat, api_client_for):
    # given: a rep whose role was given the export right; the rep role reads 7 days back
    grant(org.rep, "chats.export_message")
    own_recent = MessageFactory(conversation=chat.of_rep)
    MessageFactory(conversation=chat.of_rep, sent_at=timezone.now() - timedelta(days=8))
    MessageFactory(conversation=chat.of_rep_b)
    MessageFactory(conversation=chat.of_other_team)

    # when
    rows = csv_rows(export(api_client_for(org.rep)))

    # then
    assert [int(r["message_id"]) for r in rows] == [own_recent.pk]


def test_lead_sees_the_team_text_masked_and_names_as_the_matrix_shows(
    org, customers, chat, api_client_for
):
    # given
    on_team = from_customer(chat.of_rep_b, text=f"call me on {MOBILE} please")
    MessageFactory(conversation=chat.of_other_team)
    MessageFactory(conversation=chat.of_rep, sent_at=timezone.now() - timedelta(days=40))

    # when
    rows = csv_rows(export(api_client_for(org.lead)))

    # then
    assert len(rows) == 1
    row = rows[0]
    assert row["message_id"] == str(on_team.pk)
    assert row["text"] == "call me on 138****5678 please"
    # insider §5: a team lead sees the names of the team's customers (the masking matrix).
    assert row["customer_name"] == customers.of_rep_b.name
    assert row["staff"] == "rep_b"
    assert row["sender"] == "customer"
    assert row["customer_id"] == str(customers.of_rep_b.pk)
    assert row["conversation_id"] == str(chat.of_rep_b.pk)
    assert row["digest"] == on_team.digest
    assert row["revoked"] == "False"
    assert row["sent_at"] == timezone.localtime(on_team.sent_at).isoformat()


def test_legal_exports_raw(org, customers, chat, api_client_for):
    # given: legal holds customers.export_raw and has no history window
    old = from_customer(
        chat.of_unrelated,
        text=f"my number is {MOBILE}",
        sent_at=timezone.now() - timedelta(days=400),
    )
    reply = MessageFactory(conversation=chat.of_unrelated, sender_staff=org.rep_unrelated)

    # when
    rows = csv_rows(export(api_client_for(org.legal)))

    # then
    assert [r["message_id"] for r in rows] == [str(old.pk), str(reply.pk)]
    assert rows[0]["text"] == f"my number is {MOBILE}"
    assert rows[0]["customer_name"] == customers.of_unrelated.name
    assert rows[1]["sender"] == "rep_unrelated"
    event = AccessEvent.objects.get(action=AccessAction.EXPORT)
    assert sorted(event.fields) == ["name", "text"]


def test_filters_narrow_the_export(org, chat, api_client_for):
    wanted = MessageFactory(conversation=chat.of_rep, msg_type=Message.Type.TEXT)
    MessageFactory(conversation=chat.of_rep, msg_type=Message.Type.IMAGE)
    MessageFactory(conversation=chat.of_rep_b)
    MessageFactory(conversation=chat.of_rep, sent_at=timezone.now() - timedelta(days=3))

    rows = csv_rows(
        export(
            api_client_for(org.lead),
            customer=chat.of_rep.customer_id,
            type="text",
            start=(timezone.now() - timedelta(days=1)).isoformat(),
        )
    )

    assert [r["message_id"] for r in rows] == [str(wanted.pk)]


def test_xlsx_opens_with_openpyxl_and_holds_the_rows(org, customers, chat, api_client_for):
    # given: one message that a spreadsheet would take for a formula
    first = MessageFactory(
        conversation=chat.of_rep,
        text=f'=HYPERLINK("http://x","{MOBILE}")',
        sent_at=timezone.now() - timedelta(hours=2),
    )
    second = MessageFactory(conversation=chat.of_rep_b, text="hello\x0b there")

    # when
    response = export(api_client_for(org.lead), format="xlsx")

    # then
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    header, *rows = xlsx_rows(response)
    assert list(header) == COLUMNS
    assert [r[0] for r in rows] == [first.pk, second.pk]
    assert rows[0][COLUMNS.index("text")] == '=HYPERLINK("http://x","138****5678")'
    assert rows[0][COLUMNS.index("customer_name")] == customers.of_rep.name  # lead's team
    assert rows[1][COLUMNS.index("text")] == "hello there"


def test_xlsx_continues_on_a_new_sheet_past_the_sheet_limit(org, chat, api_client_for, monkeypatch):
    monkeypatch.setattr("chats.export.XLSX_SHEET_ROWS", 4)
    bulk_messages(chat.of_rep, 10)

    response = export(api_client_for(org.lead), format="xlsx")

    workbook = load_workbook(io.BytesIO(content_of(response)), read_only=True)
    assert workbook.sheetnames == ["messages", "messages 2", "messages 3"]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    assert [len(rows) for rows in sheets] == [5, 5, 3]
    assert all(list(rows[0]) == COLUMNS for rows in sheets)


def test_empty_xlsx_has_the_header_only(org, api_client_for):
    assert xlsx_rows(export(api_client_for(org.lead), format="xlsx")) == [tuple(COLUMNS)]


@pytest.mark.parametrize("username", ["hr", "security", "rep"])
def test_roles_without_the_export_right_get_403(org, chat, api_client_for, username):
    MessageFactory(conversation=chat.of_rep)

    response = export(api_client_for(getattr(org, username)))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not AccessEvent.objects.filter(action=AccessAction.EXPORT).exists()


def test_anonymous_is_refused(anon_client):
    assert anon_client.get(EXPORT_URL).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"format": "pdf"}, "format"), ({"start": "not-a-date"}, "start"), ({"type": "x"}, "type")],
)
def test_invalid_parameters_answer_400(org, api_client_for, params, field):
    response = export(api_client_for(org.lead), **params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert not AccessEvent.objects.filter(action=AccessAction.EXPORT).exists()


def test_accept_header_does_not_change_the_error_format(org, api_client_for):
    response = api_client_for(org.lead).get(EXPORT_URL, {"format": "pdf"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response.json()["errors"]["format"]


def test_export_writes_one_access_event_with_filters_and_row_count(org, chat, api_client_for):
    # given
    bulk_messages(chat.of_rep, 7)
    bulk_messages(chat.of_other_team, 5)

    # when
    response = export(api_client_for(org.lead), format="xlsx", staff=org.rep.pk)
    xlsx_rows(response)

    # then
    event = AccessEvent.objects.get()
    assert event.action == AccessAction.EXPORT
    assert event.actor == org.lead
    assert event.channel == "api"
    assert event.model == "chats.message"
    assert event.object_ids == []
    assert event.fields == []
    assert event.query["format"] == "xlsx"
    assert event.query["staff"] == str(org.rep.pk)
    assert event.query["row_count"] == 7
    assert event.path == EXPORT_URL


def test_export_response_serves_the_admin_channel(org, chat):
    bulk_messages(chat.of_rep, 3)

    response = export_response(
        user=org.lead,
        queryset=Message.objects.visible_to(org.lead),
        fmt="csv",
        channel="admin",
        filters={"customer": chat.of_rep.customer_id},
    )

    assert len(csv_rows(response)) == 3
    event = AccessEvent.objects.get()
    assert event.channel == "admin"
    assert event.query["row_count"] == 3
    assert event.query["customer"] == chat.of_rep.customer_id


def test_export_response_refuses_without_the_export_right(org):
    with pytest.raises(PermissionDenied):
        export_response(
            user=org.rep,
            queryset=Message.objects.visible_to(org.rep),
            fmt="csv",
            channel="admin",
            filters={},
        )
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_query_count_does_not_grow_with_rows(
    org, chat, api_client_for, django_assert_max_num_queries, fmt
):
    counts = []
    for rows in (10, 100):
        Message.objects.all().delete()
        bulk_messages(chat.of_rep, rows)
        # A fresh user object each round, so neither round profits from a warm permission cache.
        client = api_client_for(Staff.objects.get(pk=org.lead.pk))
        # 11: +1 query for the group rooms of the scope (insider §6, chats.models.scope_room_ids)
        # and +1 for the lead's book, for names (insider §5).
        with django_assert_max_num_queries(11) as captured:
            response = export(client, format=fmt)
            assert len(content_of(response)) > 0
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_three_thousand_rows_export_masked(org, customers, chat, api_client_for):
    # given
    bulk_messages(chat.of_rep, 3000, text="row {n}: reach me on " + MOBILE)
    client = api_client_for(org.lead)

    # when
    rows = csv_rows(export(client))
    header, *sheet = xlsx_rows(export(client, format="xlsx"))

    # then
    assert len(rows) == 3000 == len(sheet)
    assert rows[0]["text"] == "row 0: reach me on 138****5678"
    assert rows[-1]["text"] == "row 2999: reach me on 138****5678"
    assert {r["customer_name"] for r in rows} == {customers.of_rep.name}  # the lead's book
    assert sheet[-1][COLUMNS.index("text")] == "row 2999: reach me on 138****5678"
    assert [int(r["message_id"]) for r in rows] == [row[0] for row in sheet]
    assert [int(e.query["row_count"]) for e in AccessEvent.objects.order_by("id")] == [3000, 3000]

"""A rep's chat pages in the admin: timeline, thread and search (issue 11 item 4)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from chats.admin.messages import SEARCH_PAGE_SIZE, highlighted
from chats.models import Conversation, Message
from scrm.audit.models import AccessAction, AccessEvent
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.signin import verified_login

SEARCH = "/admin/chats/message/search/"


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def test_timeline_is_newest_first_with_sender_and_direction(org, customers, archive):
    # The lead (the rep's history window is shorter than rep_10d's age); both see the book's
    # names.
    response = admin_client(org.lead).get(f"/admin/chats/message/timeline/{customers.of_rep.pk}/")

    entries = response.context["entries"]
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    by_id = {e["id"]: e for e in entries}
    # rep_today was sent by the rep, rep_10d by the customer (shown by name to the owner rep)
    assert (by_id[archive["rep_today"]]["sender"], by_id[archive["rep_today"]]["direction"]) == (
        org.rep.display_name,
        "outgoing",
    )
    assert by_id[archive["rep_10d"]]["sender"] == customers.of_rep.name
    assert by_id[archive["rep_10d"]]["direction"] == "incoming"
    body = response.content.decode()
    assert "发出" in body and "收到" in body
    assert "13912345678" not in body


def test_thread_shows_bubbles_masked_and_records_the_read(org, customers, archive):
    message = Message.objects.get(pk=archive["rep_10d"])
    revoked = Message.objects.get(pk=archive["rep_today"])
    revoked.revoked_at = timezone.now()
    revoked.save()
    MessageFactory(
        conversation=message.conversation,
        msg_type=Message.Type.FILE,
        text="",
        attachment_name="身份证 13912345678.pdf",
        sent_at=timezone.now() - timedelta(days=1),
    )
    url = f"/admin/chats/message/thread/{message.conversation_id}/?around={message.pk}"

    response = admin_client(org.lead).get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert "13912345678" not in body and "139****5678" in body
    assert f'id="m-{message.pk}"' in body
    assert "已撤回" in body
    bubbles = response.context["bubbles"]
    assert [b["at"] for b in bubbles] == sorted(b["at"] for b in bubbles)
    assert {b["direction"] for b in bubbles} == {"incoming", "outgoing"}
    event = AccessEvent.objects.get(actor=org.lead, action=AccessAction.VIEW, model="chats.message")
    assert set(event.object_ids) == {b["id"] for b in bubbles}
    assert event.query["view"] == "thread"


def test_thread_out_of_scope_is_refused_and_recorded(org, archive):
    other = Conversation.objects.get(messages__pk=archive["unrelated"])

    response = admin_client(org.rep).get(f"/admin/chats/message/thread/{other.pk}/")

    assert response.status_code == 403
    assert AccessEvent.objects.filter(
        actor=org.rep, action=AccessAction.DENIED, query={"attempt": "thread"}
    ).exists()


def test_highlight_escapes_first_then_marks():
    assert str(highlighted("<b>报价</b> & 报价单", "报价")) == (
        "&lt;b&gt;<mark>报价</mark>&lt;/b&gt; &amp; <mark>报价</mark>单"
    )
    assert str(highlighted("a &amp b", "amp")) == "a &amp;<mark>amp</mark> b"
    assert str(highlighted("<script>", "")) == "&lt;script&gt;"


def test_search_highlights_links_to_the_thread_and_pages_past_fifty(org, customers):
    conversation = ConversationFactory(customer=customers.of_rep)
    now = timezone.now()
    for i in range(SEARCH_PAGE_SIZE + 5):
        MessageFactory(
            conversation=conversation,
            text=f"<i>报价</i>第{i}版",
            sent_at=now - timedelta(minutes=i),
        )
    client = admin_client(org.rep)

    first = client.get(SEARCH, {"q": "报价"})
    body = first.content.decode()
    assert len(first.context["rows"]) == SEARCH_PAGE_SIZE
    assert "&lt;i&gt;<mark>报价</mark>&lt;/i&gt;" in body
    assert "<i>报价" not in body
    hit = first.context["rows"][0]
    assert hit["thread_url"].endswith(f"?around={hit['message'].pk}#m-{hit['message'].pk}")
    assert first.context["next_url"] and not first.context["previous_url"]
    assert "下一页" in body

    second = client.get(SEARCH, {"q": "报价", "p": "2"})
    assert len(second.context["rows"]) == 5
    assert second.context["previous_url"] and not second.context["next_url"]
    shown_first = {r["message"].pk for r in first.context["rows"]}
    assert shown_first.isdisjoint(r["message"].pk for r in second.context["rows"])
    events = AccessEvent.objects.filter(actor=org.rep, action=AccessAction.SEARCH)
    assert events.count() == 2
    assert client.get(SEARCH, {"q": "报价", "p": "abc"}).status_code == 200


def test_a_long_thread_pages_to_earlier_and_later_messages(org, customers, monkeypatch):
    monkeypatch.setattr("chats.timeline.THREAD_LIMIT", 5)  # a page of 5 instead of 200
    conversation = ConversationFactory(customer=customers.of_rep)
    now = timezone.now()
    messages = [
        MessageFactory(
            conversation=conversation, text=f"第{i}条", sent_at=now - timedelta(hours=12 - i)
        )
        for i in range(12)
    ]
    client = admin_client(org.rep)
    url = f"/admin/chats/message/thread/{conversation.pk}/"

    newest = client.get(url)
    assert [b["id"] for b in newest.context["bubbles"]] == [m.pk for m in messages[-5:]]
    assert "更早的消息" in newest.content.decode() and newest.context["newer"] is None

    earlier = client.get(url, {"around": newest.context["older"]})
    shown = [b["id"] for b in earlier.context["bubbles"]]
    assert shown == [m.pk for m in messages[3:12]]  # 5 up to the edge, the 4 after it
    assert earlier.context["older"] == messages[3].pk

    first = client.get(url, {"around": messages[0].pk})
    assert first.context["older"] is None
    assert first.context["newer"] == messages[5].pk
    assert "更新的消息" in first.content.decode()

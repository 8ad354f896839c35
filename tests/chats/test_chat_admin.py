"""The chat archive in the admin: scoped, masked, read-only, searchable, with a timeline."""

from django.test import Client

from scrm.audit.models import AccessAction, AccessEvent
from tests.signin import verified_login


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def test_message_changelist_is_scoped_and_masked(org, archive):
    response = admin_client(org.lead).get("/admin/chats/message/")

    assert response.status_code == 200
    shown = {m.pk for m in response.context["cl"].result_list}
    assert shown == {archive["rep_today"], archive["rep_10d"]}
    body = response.content.decode()
    assert "13912345678" not in body and "139****5678" in body
    event = AccessEvent.objects.get(actor=org.lead, action=AccessAction.LIST, model="chats.message")
    assert set(event.object_ids) == shown


def test_legal_reads_raw_content(org, archive):
    response = admin_client(org.legal).get(f"/admin/chats/message/{archive['rep_10d']}/change/")

    assert response.status_code == 200
    assert "13912345678" in response.content.decode()


def test_archive_cannot_be_edited_or_deleted_even_by_a_superuser(org, archive):
    client = admin_client(org.admin_user)
    url = f"/admin/chats/message/{archive['rep_today']}/"

    assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert b'name="_save"' not in client.get(f"{url}change/").content


def test_admin_search_page_finds_two_character_keyword_and_records_it(org, archive):
    response = admin_client(org.manager).get("/admin/chats/message/search/", {"q": "理赔"})

    assert response.status_code == 200
    found = {row["message"].pk for row in response.context["rows"]}
    assert found == {
        archive["rep_today"],
        archive["rep_10d"],
        archive["rep_40d"],
        archive["other_team"],
    }
    assert "13912345678" not in response.content.decode()
    assert AccessEvent.objects.filter(
        actor=org.manager, action=AccessAction.SEARCH, query__q="理赔"
    ).exists()


def test_admin_timeline_page(org, customers, archive):
    response = admin_client(org.lead).get(f"/admin/chats/message/timeline/{customers.of_rep.pk}/")

    assert response.status_code == 200
    # Newest first on the admin page (the API stays oldest first).
    assert [e["id"] for e in response.context["entries"]] == [
        archive["rep_today"],
        archive["rep_10d"],
    ]
    assert (
        admin_client(org.rep)
        .get(f"/admin/chats/message/timeline/{customers.of_unrelated.pk}/")
        .status_code
        == 403
    )


def test_admin_export_action_streams_masked_csv_of_the_selection(org, archive):
    selected = [archive["rep_10d"], archive["rep_today"]]

    response = admin_client(org.lead).post(
        "/admin/chats/message/", {"action": "export_csv", "_selected_action": selected}
    )

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "139****5678" in body and "13912345678" not in body
    assert len(body.strip().splitlines()) == 3
    assert AccessEvent.objects.filter(
        actor=org.lead, action=AccessAction.EXPORT, channel="admin"
    ).exists()


def test_rep_has_no_export_action(org, archive):
    response = admin_client(org.rep).get("/admin/chats/message/")

    assert response.status_code == 200
    assert response.context["action_form"] is None

"""Chat retention: policies, legal holds, and the batched, resumable purge."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chats import retention
from chats.holds import place_legal_hold, release_legal_hold
from chats.models import Channel, LegalHold, Message, MessageHide, PurgeLog, RetentionPolicy
from chats.retention import purge_expired_messages
from customers.models import Tag
from tests.chats.factories import ConversationFactory, MessageFactory
from tests.signin import verified_login

NOW = timezone.now()


def days_ago(days: float):
    return NOW - timedelta(days=days)


def purge(**kwargs) -> PurgeLog:
    return purge_expired_messages(now=NOW, **kwargs)


def remaining(*messages) -> set[int]:
    return set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("pk", flat=True))


def fts_rowids() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM chats_message_fts")
        return {row[0] for row in cursor.fetchall()}


def message_for(customer, **kwargs) -> Message:
    conversation = ConversationFactory(
        customer=customer, channel=kwargs.pop("channel", Channel.WECOM)
    )
    return MessageFactory(conversation=conversation, **kwargs)


# --- which messages expire --------------------------------------------------------------------


def test_default_retention_is_180_days_from_sending(customers, settings):
    assert settings.SCRM_CHAT_RETENTION_DAYS == 180
    old = message_for(customers.of_rep, sent_at=days_ago(181))
    young = message_for(customers.of_rep, sent_at=days_ago(179))

    log = purge()

    assert remaining(old, young) == {young.pk}
    assert log.deleted == 1
    assert log.counts_by_policy == {"default": 1}
    assert log.finished_at is not None


def test_longest_applicable_policy_wins_over_shorter_ones(customers):
    regulated = Tag.objects.create(name="regulated")
    RetentionPolicy.objects.create(name="WeCom 30 days", days=30, channel=Channel.WECOM)
    RetentionPolicy.objects.create(name="Regulated 3 years", days=3 * 365, tag=regulated)
    customers.of_rep_b.tags.add(regulated)
    regulated_old = message_for(customers.of_rep_b, sent_at=days_ago(400))
    regulated_expired = message_for(customers.of_rep_b, sent_at=days_ago(3 * 365 + 1))
    plain_31 = message_for(customers.of_rep, sent_at=days_ago(31))
    plain_29 = message_for(customers.of_rep, sent_at=days_ago(29))
    phone_31 = message_for(customers.of_rep, sent_at=days_ago(31), channel=Channel.PHONE)

    log = purge()

    # 30 days applies to plain WeCom messages (shorter than the default: a policy applies),
    # 3 years to the regulated customer's, the default to the phone message.
    assert remaining(regulated_old, regulated_expired, plain_31, plain_29, phone_31) == {
        regulated_old.pk,
        plain_29.pk,
        phone_31.pk,
    }
    assert log.counts_by_policy == {"Regulated 3 years": 1, "WeCom 30 days": 1}


def test_department_policy_applies_to_sub_department_staff(org, customers):
    RetentionPolicy.objects.create(name="Sales 1 year", days=365, department=org.sales)
    of_sales_east_rep = message_for(customers.of_rep, sent_at=days_ago(200))
    of_retail_rep = message_for(customers.of_unrelated, sent_at=days_ago(200))
    assert org.rep.department == org.sales_east

    log = purge()

    assert remaining(of_sales_east_rep, of_retail_rep) == {of_sales_east_rep.pk}
    assert log.counts_by_policy == {"default": 1}


def test_policy_applies_only_when_every_scope_it_names_matches(org, customers):
    RetentionPolicy.objects.create(
        name="Sales email 10 days", days=10, department=org.sales, channel=Channel.EMAIL
    )
    email = message_for(customers.of_rep, sent_at=days_ago(20), channel=Channel.EMAIL)
    wecom = message_for(customers.of_rep, sent_at=days_ago(20))
    retail_email = message_for(customers.of_unrelated, sent_at=days_ago(20), channel="email")

    purge()

    assert remaining(email, wecom, retail_email) == {wecom.pk, retail_email.pk}


# --- legal holds ------------------------------------------------------------------------------


def test_legal_hold_on_customer_keeps_their_messages(org, customers):
    held = message_for(customers.of_rep, sent_at=days_ago(400))
    held_too = message_for(customers.of_rep, sent_at=days_ago(300))
    other = message_for(customers.of_rep_b, sent_at=days_ago(400))
    place_legal_hold(actor=org.legal, reason="Litigation 2026-17", customer=customers.of_rep)

    log = purge()

    assert remaining(held, held_too, other) == {held.pk, held_too.pk}
    assert (log.deleted, log.held) == (1, 2)


def test_customer_hold_covers_what_they_said_in_a_group_room(org, customers):
    room = ConversationFactory(customer=customers.of_rep_b, room_id="room-1")
    said_in_room = MessageFactory(
        conversation=room, sender_customer=customers.of_rep, sent_at=days_ago(400)
    )
    place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)

    purge()

    assert remaining(said_in_room) == {said_in_room.pk}


def test_legal_hold_on_conversation_keeps_only_that_conversation(org, customers):
    held = message_for(customers.of_rep, sent_at=days_ago(400))
    same_customer_other_chat = message_for(customers.of_rep, sent_at=days_ago(400))
    place_legal_hold(actor=org.legal, reason="Complaint 88", conversation=held.conversation)

    log = purge()

    assert remaining(held, same_customer_other_chat) == {held.pk}
    assert (log.deleted, log.held) == (1, 1)


def test_released_hold_makes_messages_purgeable_again(org, customers):
    message = message_for(customers.of_rep, sent_at=days_ago(400))
    hold = place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)
    purge()
    assert remaining(message) == {message.pk}

    release_legal_hold(actor=org.legal, hold=hold, reason="Case closed")
    log = purge()

    assert remaining(message) == set()
    assert (log.deleted, log.held) == (1, 0)


def test_rep_may_not_place_or_release_holds(org, customers):
    with pytest.raises(PermissionDenied):
        place_legal_hold(actor=org.rep, reason="mine", customer=customers.of_rep)
    hold = place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)

    with pytest.raises(PermissionDenied):
        release_legal_hold(actor=org.rep, hold=hold, reason="please")

    hold.refresh_from_db()
    assert hold.released_at is None
    assert LegalHold.objects.count() == 1


def test_legal_places_and_releases_a_hold_with_audit_entries(org, customers):
    hold = place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)
    release_legal_hold(actor=org.legal, hold=hold, reason="Case closed")

    hold.refresh_from_db()
    assert (hold.placed_by, hold.released_by) == (org.legal, org.legal)
    assert hold.release_reason == "Case closed" and hold.released_at is not None
    entries = LogEntry.objects.get_for_object(hold).order_by("pk")
    assert [(e.action, e.actor) for e in entries] == [
        (LogEntry.Action.CREATE, org.legal),
        (LogEntry.Action.UPDATE, org.legal),
    ]


def test_hold_services_keep_the_surrounding_audit_context(org, customers):
    with set_actor(org.hr):
        hold = place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)
        policy = RetentionPolicy.objects.create(name="WeCom", days=30, channel=Channel.WECOM)

    assert LogEntry.objects.get_for_object(hold).get().actor == org.legal
    assert LogEntry.objects.get_for_object(policy).get().actor == org.hr


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reason": "  ", "customer": "of_rep"},
        {"reason": "Litigation"},
    ],
    ids=["empty-reason", "no-target"],
)
def test_hold_needs_a_reason_and_a_target(org, customers, kwargs):
    if "customer" in kwargs:
        kwargs = {**kwargs, "customer": getattr(customers, kwargs["customer"])}

    with pytest.raises(ValidationError):
        place_legal_hold(actor=org.legal, **kwargs)

    assert not LegalHold.objects.exists()


def test_release_needs_a_reason_and_an_active_hold(org, customers):
    hold = place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)
    with pytest.raises(ValidationError):
        release_legal_hold(actor=org.legal, hold=hold, reason="")
    release_legal_hold(actor=org.legal, hold=hold, reason="Case closed")

    with pytest.raises(ValidationError):
        release_legal_hold(actor=org.legal, hold=hold, reason="again")


# --- the purge run ----------------------------------------------------------------------------


def test_purge_in_batches_deletes_everything_and_counts_right(org, customers):
    messages = [message_for(customers.of_rep, sent_at=days_ago(200 + i)) for i in range(5)]
    MessageHide.objects.create(message=messages[0], staff=org.rep)

    log = purge(batch_size=2)

    assert remaining(*messages) == set()
    assert not MessageHide.objects.exists()
    assert (log.deleted, log.held, log.counts_by_policy) == (5, 0, {"default": 5})
    assert log.last_message_id == max(m.pk for m in messages)
    log.refresh_from_db()
    assert log.deleted == 5 and log.finished_at is not None
    if connection.vendor == "sqlite":
        assert fts_rowids().isdisjoint(m.pk for m in messages)


def test_purge_is_audited_through_its_purge_log(customers):
    message_for(customers.of_rep, sent_at=days_ago(200))
    message_for(customers.of_rep, sent_at=days_ago(201))

    log = purge(batch_size=1)

    entries = LogEntry.objects.get_for_object(log).order_by("pk")
    # created, one update per batch, finished
    assert [e.action for e in entries] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.UPDATE,
    ]
    assert entries[2].changes_dict["deleted"] == ["1", "2"]


def test_purge_deletes_attachment_files_after_commit(
    customers, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    old = message_for(customers.of_rep, sent_at=days_ago(200), msg_type=Message.Type.FILE)
    old.attachment.save("quote.pdf", ContentFile(b"%PDF-1.4 quote"), save=True)
    young = message_for(customers.of_rep, sent_at=days_ago(10), msg_type=Message.Type.FILE)
    young.attachment.save("contract.pdf", ContentFile(b"%PDF-1.4 contract"), save=True)
    old_file, young_file = Path(old.attachment.path), Path(young.attachment.path)
    assert old_file.exists()

    with django_capture_on_commit_callbacks() as callbacks:
        log = purge()
        assert old_file.exists()  # nothing is removed before the batch commits
    for callback in callbacks:
        callback()

    assert not old_file.exists()
    assert young_file.exists()
    assert log.attachments_deleted == 1


def test_dry_run_deletes_nothing_and_reports_the_counts(org, customers):
    message_for(customers.of_rep, sent_at=days_ago(200))
    message_for(customers.of_rep_b, sent_at=days_ago(200))
    message_for(customers.of_rep_b, sent_at=days_ago(10))
    place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_rep)
    entries_before = LogEntry.objects.count()

    log = purge(dry_run=True, batch_size=1)

    assert log.pk is None and log.dry_run
    assert (log.deleted, log.held, log.counts_by_policy) == (1, 1, {"default": 1})
    assert Message.objects.count() == 3
    assert not PurgeLog.objects.exists()
    assert LogEntry.objects.count() == entries_before


def test_rerun_after_a_crash_continues_without_duplicates(org, customers, monkeypatch):
    messages = [message_for(customers.of_rep, sent_at=days_ago(200 + i)) for i in range(5)]
    place_legal_hold(actor=org.legal, reason="Litigation", conversation=messages[0].conversation)
    calls = []
    real_unindex = retention.unindex_messages

    def crash_on_second_batch(ids):
        calls.append(ids)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real_unindex(ids)

    monkeypatch.setattr(retention, "unindex_messages", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        purge(batch_size=2)
    monkeypatch.setattr(retention, "unindex_messages", real_unindex)
    crashed = PurgeLog.objects.get()
    assert crashed.finished_at is None
    assert (crashed.deleted, crashed.held) == (1, 1)  # batch 1: one held, one deleted
    assert len(remaining(*messages)) == 4  # batch 2 rolled back

    resumed = purge(batch_size=2)
    again = purge(batch_size=2)

    assert resumed.pk == crashed.pk
    assert (resumed.deleted, resumed.held, resumed.counts_by_policy) == (4, 1, {"default": 4})
    assert remaining(*messages) == {messages[0].pk}
    assert (again.deleted, again.held) == (0, 1)
    assert PurgeLog.objects.count() == 2


def test_bad_batch_size_is_refused(db):
    with pytest.raises(ValueError):
        purge(batch_size=0)


# --- scheduling and the command ---------------------------------------------------------------


def test_daily_purge_is_a_beat_task_that_runs_the_service(customers):
    from chats.tasks import purge_expired_messages as task
    from scrm.celery import app

    row = PeriodicTask.objects.get(task="chats.tasks.purge_expired_messages")
    assert row.task == "chats.tasks.purge_expired_messages"
    assert row.enabled and row.crontab is not None
    assert row.task in app.tasks
    message = message_for(customers.of_rep, sent_at=timezone.now() - timedelta(days=181))

    log_id = task.apply().get()

    assert remaining(message) == set()
    assert PurgeLog.objects.get(pk=log_id).deleted == 1


def test_command_reports_what_would_go_and_what_went(org, customers):
    RetentionPolicy.objects.create(name="Phone 30 days", days=30, channel=Channel.PHONE)
    message_for(customers.of_rep, sent_at=timezone.now() - timedelta(days=181))
    message_for(customers.of_rep_b, sent_at=timezone.now() - timedelta(days=40), channel="phone")
    message_for(customers.of_other_team, sent_at=timezone.now() - timedelta(days=181))
    place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_other_team)

    dry = StringIO()
    call_command("purge_expired_messages", "--dry-run", stdout=dry)
    assert Message.objects.count() == 3
    out = StringIO()
    call_command("purge_expired_messages", "--batch-size", "1", stdout=out)

    assert "Would delete 2 message(s)" in dry.getvalue()
    assert "1 expired message(s) kept under legal hold" in dry.getvalue()
    assert "  Phone 30 days: 1\n" in dry.getvalue() and "  default: 1\n" in dry.getvalue()
    assert "Dry run: nothing was deleted." in dry.getvalue()
    assert "Deleted 2 message(s)" in out.getvalue()
    assert Message.objects.count() == 1


@pytest.mark.parametrize("dry_run", [True, False])
def test_purge_reports_progress_after_every_batch(org, customers, dry_run):
    # given: three expired messages, one of them under legal hold
    for customer in (customers.of_rep, customers.of_rep_b, customers.of_other_team):
        message_for(customer, sent_at=timezone.now() - timedelta(days=181))
    place_legal_hold(actor=org.legal, reason="Litigation", customer=customers.of_other_team)
    progress = []

    # when: purging two at a time
    purge(
        dry_run=dry_run,
        batch_size=2,
        on_batch=lambda log, handled: progress.append((handled, log.deleted, log.held)),
    )

    # then: one report per batch, the counts so far growing to the totals
    assert progress == [(2, 2, 0), (1, 2, 1)]


@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--batch-size", "many"]])
def test_command_refuses_bad_arguments_in_one_line(db, args):
    with pytest.raises(CommandError) as excinfo:
        call_command("purge_expired_messages", *args, stdout=StringIO())

    assert "\n" not in str(excinfo.value)
    assert "batch-size" in str(excinfo.value)


# --- admin ------------------------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def test_legal_places_a_hold_in_the_admin_and_releases_it_with_a_reason(org, customers):
    client = admin_client(org.legal)
    assert client.get("/admin/chats/legalhold/add/").status_code == 200
    response = client.post("/admin/chats/legalhold/add/", {"reason": "Nothing named"})
    assert response.status_code == 200 and not LegalHold.objects.exists()

    response = client.post(
        "/admin/chats/legalhold/add/",
        {"customer": customers.of_rep.pk, "conversation": "", "reason": "Litigation 9"},
        REMOTE_ADDR="10.9.8.7",
    )

    assert response.status_code == 302, response.content
    hold = LegalHold.objects.get()
    assert (hold.customer, hold.placed_by, hold.reason) == (
        customers.of_rep,
        org.legal,
        "Litigation 9",
    )
    [entry] = LogEntry.objects.get_for_object(hold)
    assert (entry.actor, entry.remote_addr) == (org.legal, "10.9.8.7")
    assert client.get(f"/admin/chats/legalhold/{hold.pk}/change/").status_code == 200
    action = {"action": "release_holds", "_selected_action": [hold.pk], "index": 0}
    client.post("/admin/chats/legalhold/", {**action, "reason": ""})
    hold.refresh_from_db()
    assert hold.released_at is None  # no reason, no release

    client.post("/admin/chats/legalhold/", {**action, "reason": "Settled"})

    hold.refresh_from_db()
    assert (hold.released_by, hold.release_reason) == (org.legal, "Settled")
    response = client.get("/admin/chats/legalhold/?status=active")
    assert list(response.context["cl"].result_list) == []


def test_rep_has_no_legal_hold_pages(org, customers):
    client = admin_client(org.rep)

    assert client.get("/admin/chats/legalhold/").status_code == 403
    assert (
        client.post(
            "/admin/chats/legalhold/add/", {"customer": customers.of_rep.pk, "reason": "x"}
        ).status_code
        == 403
    )
    assert not LegalHold.objects.exists()


def test_purge_log_is_read_only_in_the_admin(org, customers):
    message_for(customers.of_rep, sent_at=days_ago(200))
    log = purge(actor=org.admin_user)
    client = admin_client(org.admin_user)

    assert client.get("/admin/chats/purgelog/").status_code == 200
    assert client.get("/admin/chats/purgelog/add/").status_code == 403
    assert client.get(f"/admin/chats/purgelog/{log.pk}/delete/").status_code == 403
    assert client.post(f"/admin/chats/purgelog/{log.pk}/change/", {"deleted": 0}).status_code == 403
    log.refresh_from_db()
    assert log.deleted == 1 and log.actor == org.admin_user


def test_history_windows_are_edited_in_the_list(org):
    client = admin_client(org.admin_user)
    response = client.get("/admin/chats/historywindow/")
    assert response.status_code == 200
    assert "form-0-days" in response.content.decode()


def test_retention_policies_are_listed_and_edited(org):
    policy = RetentionPolicy.objects.create(name="WeCom", days=30, channel=Channel.WECOM)
    client = admin_client(org.admin_user)

    assert client.get("/admin/chats/retentionpolicy/").status_code == 200
    response = client.post(
        f"/admin/chats/retentionpolicy/{policy.pk}/change/",
        {"name": "WeCom", "days": 60, "channel": "wecom", "department": "", "tag": ""},
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.days == 60
    assert LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(RetentionPolicy), object_id=policy.pk
    ).exists()

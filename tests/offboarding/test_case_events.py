"""The case's event trail: each verb writes exactly its event, with its actor and the state before
and after; a refused verb writes none and changes nothing; "run now" sends its task only when
its transaction commits; the run's final state reaches the change log; the cancel summary is
built from the events; the migration reconstructs events for cases older than the trail."""

import importlib
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation

from offboarding import events, runner, steps
from offboarding.models import (
    CaseEvent,
    CaseStep,
    CustomerTransfer,
    OffboardingCase,
    RevokedShare,
)
from offboarding.runner import run_case
from offboarding.services import (
    approve_case,
    cancel_case,
    reconfirm_share,
    record_refusal,
    run_now,
    schedule_case,
)
from tests.offboarding.cases import CASES_URL, approved_case, open_case, run_to_completion

Kind = CaseEvent.Kind
STEPS = list(steps.STEPS)
STEP_KEYS = [name for name, _ in STEPS]


def kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


def newest(case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).latest("created_at", "id")


def state(case) -> tuple:
    row = OffboardingCase.objects.get(pk=case.pk)
    return (row.status, row.approved_by_id, row.scheduled_task_id, row.cancel_summary)


# --- each verb writes exactly its event ----------------------------------------------------


def test_opening_a_case_writes_created_with_hr_as_actor(org, leaver):
    case = open_case(org, leaver, notice_date=timezone.localdate() + timedelta(days=3))

    [event] = CaseEvent.objects.filter(case=case)
    assert event.kind == Kind.CREATED
    assert event.actor == org.hr
    assert event.before == {}
    assert event.after["status"] == "draft"
    assert event.after["approver_id"] == org.lead.pk
    assert event.data == {"successors": [org.rep.pk], "approval_requested_from": org.lead.pk}


def test_approving_writes_approved_then_notice_started_when_the_notice_date_has_come(org, leaver):
    case = open_case(org, leaver)  # notice date: today

    approve_case(actor=org.lead, case=case)

    assert kinds(case) == [Kind.CREATED, Kind.APPROVED, Kind.NOTICE_STARTED]
    approved, notice = CaseEvent.objects.filter(case=case)[1:]
    assert approved.actor == org.lead
    assert approved.before == {"status": "draft", "approved_by_id": None, "approved_at": None}
    assert approved.after["status"] == "approved"
    assert approved.after["approved_by_id"] == org.lead.pk
    assert notice.actor == org.lead
    assert (notice.before, notice.after["employment_status"]) == (
        {"employment_status": "active"},
        "notice",
    )


def test_approving_before_the_notice_date_writes_approved_only(org, leaver):
    case = open_case(org, leaver, notice_date=timezone.localdate() + timedelta(days=3))

    approve_case(actor=org.lead, case=case)

    assert kinds(case) == [Kind.CREATED, Kind.APPROVED]


def test_the_daily_notice_task_writes_notice_started_with_no_actor(org, leaver):
    from offboarding.tasks import start_notice_periods

    case = approved_case(org, leaver, notice_date=timezone.localdate() + timedelta(days=3))
    OffboardingCase.objects.filter(pk=case.pk).update(notice_date=timezone.localdate())

    assert start_notice_periods() == 1
    assert start_notice_periods() == 0

    event = newest(case)
    assert (event.kind, event.actor) == (Kind.NOTICE_STARTED, None)
    assert kinds(case).count(Kind.NOTICE_STARTED) == 1


def test_scheduling_writes_scheduled_with_the_beat_task(org, leaver):
    case = approved_case(org, leaver)
    before = kinds(case)

    case = schedule_case(actor=org.hr, case=case)

    assert kinds(case) == [*before, Kind.SCHEDULED]
    event = newest(case)
    assert event.actor == org.hr
    assert event.before == {"status": "approved", "scheduled_task_id": None}
    assert event.after == {"status": "scheduled", "scheduled_task_id": case.scheduled_task_id}
    assert event.data == {"run_at": case.effective_at.isoformat()}


def test_run_now_writes_run_requested_and_the_run_writes_its_own_events(org, leaver, book):
    case = approved_case(org, leaver)
    before = kinds(case)

    case = run_now(actor=org.hr, case=case)

    assert case.status == "completed", case.error
    trail = list(CaseEvent.objects.filter(case=case))[len(before) :]
    assert [e.kind for e in trail] == [
        Kind.RUN_REQUESTED,
        Kind.STARTED,
        *[Kind.STEP_DONE] * len(STEP_KEYS),
        Kind.COMPLETED,
    ]
    requested, started, *done, completed = trail
    assert requested.actor == org.hr
    assert (requested.before, requested.after) == ({"status": "approved"}, {"status": "approved"})
    assert requested.data == {"resume": False, "scheduled_task_disabled": False}
    # The run is the system's: no actor.
    assert {e.actor for e in (started, *done, completed)} == {None}
    assert (started.before["status"], started.after["status"]) == ("approved", "running")
    assert [e.data["step"] for e in done] == STEP_KEYS
    transfer = done[STEP_KEYS.index("transfer")]
    assert (transfer.data["done"], transfer.data["total"]) == (6, 6)
    assert transfer.data["detail"] == {"completed": 6, "refused": 0}
    assert (completed.before["status"], completed.after["status"]) == ("running", "completed")
    assert completed.data == {"customers_transferred": 6}


def test_a_failing_step_writes_step_failed_and_failed_and_the_resume_writes_the_rest(
    org, leaver, book, monkeypatch
):
    case = approved_case(org, leaver)

    def broken(case, step):
        raise RuntimeError("database went away")

    monkeypatch.setattr(runner, "STEPS", [(n, broken if n == "grants" else f) for n, f in STEPS])
    run_case(case.pk)

    failed_step, failed = list(CaseEvent.objects.filter(case=case))[-2:]
    assert (failed_step.kind, failed.kind) == (Kind.STEP_FAILED, Kind.FAILED)
    assert failed_step.data["step"] == "grants"
    assert "database went away" in failed_step.data["error"]
    assert (failed.before, failed.after) == ({"status": "running"}, {"status": "failed"})
    assert failed.data["step"] == "grants"

    # when: resumed with the step fixed
    monkeypatch.setattr(runner, "STEPS", STEPS)
    before = kinds(case)
    case = run_now(actor=org.hr, case=case)

    assert case.status == "completed", case.error
    new = list(CaseEvent.objects.filter(case=case))[len(before) :]
    assert [e.kind for e in new] == [
        Kind.RUN_REQUESTED,
        Kind.STARTED,
        *[Kind.STEP_DONE] * 5,
        Kind.COMPLETED,
    ]
    assert new[0].data["resume"] is True
    assert new[1].data["resumed"] is True
    # Each step is done once in the whole trail: the resume skipped what was done.
    done = CaseEvent.objects.filter(case=case, kind=Kind.STEP_DONE)
    assert sorted(e.data["step"] for e in done) == sorted(STEP_KEYS)


def test_cancelling_writes_cancelled_with_the_reason_and_what_was_done(org, leaver):
    case = schedule_case(actor=org.hr, case=approved_case(org, leaver))
    task_id = case.scheduled_task_id

    case = cancel_case(actor=org.hr, case=case, reason="She stays")

    event = newest(case)
    assert (event.kind, event.actor) == (Kind.CANCELLED, org.hr)
    assert event.before == {"status": "scheduled", "scheduled_task_id": task_id}
    assert event.after == {"status": "cancelled", "scheduled_task_id": None}
    assert event.data == {
        "reason": "She stays",
        "steps_done": [],
        "customers_transferred": 0,
        "leaver_back_to_active": True,
    }


def test_recording_a_refusal_writes_refusal_recorded(org, leaver, book):
    case = run_to_completion(org, leaver)
    transfer = CustomerTransfer.objects.filter(case=case).first()

    record_refusal(actor=org.hr, transfer=transfer, reason="Wants to stay with the leaver")

    event = newest(case)
    assert (event.kind, event.actor) == (Kind.REFUSAL_RECORDED, org.hr)
    assert event.before == {"transfer_status": "completed", "to_owner_id": org.rep.pk}
    assert event.after == {"transfer_status": "refused", "to_owner_id": org.lead.pk}
    assert event.data == {"transfer": transfer.pk, "customer": transfer.customer_id}


def test_reconfirming_a_share_writes_share_reconfirmed(org, leaver, book):
    case = run_to_completion(org, leaver)
    share = RevokedShare.objects.get(case=case, customer=book.customers[2])

    grant = reconfirm_share(actor=org.rep, share=share)

    event = newest(case)
    assert (event.kind, event.actor) == (Kind.SHARE_RECONFIRMED, org.rep)
    assert event.before == {"reconfirmed_at": None}
    assert event.after["reconfirmed_by_id"] == org.rep.pk
    assert event.data["grant"] == grant.pk
    assert event.data["colleague"] == org.rep_other_team.pk


# --- a refused verb writes nothing and changes nothing -------------------------------------


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(
            lambda org, case: approve_case(actor=org.hr, case=case), id="creator-approves"
        ),
        pytest.param(lambda org, case: approve_case(actor=org.rep, case=case), id="rep-approves"),
        pytest.param(
            lambda org, case: schedule_case(actor=org.hr, case=case), id="draft-scheduled"
        ),
        pytest.param(lambda org, case: run_now(actor=org.hr, case=case), id="draft-run"),
        pytest.param(lambda org, case: run_now(actor=org.lead, case=case), id="lead-runs"),
        pytest.param(
            lambda org, case: cancel_case(actor=org.lead, case=case, reason="x"), id="lead-cancels"
        ),
        pytest.param(
            lambda org, case: cancel_case(actor=org.hr, case=case, reason=" "), id="no-reason"
        ),
    ],
)
def test_a_refused_verb_writes_no_event_and_changes_nothing(attempt, org, leaver):
    case = open_case(org, leaver)
    trail, before = kinds(case), state(case)

    with pytest.raises((PermissionDenied, ValidationError)):
        attempt(org, case)

    assert kinds(case) == trail
    assert state(case) == before


def test_approving_twice_writes_one_approved(org, leaver):
    case = approved_case(org, leaver)
    trail = kinds(case)

    with pytest.raises(ValidationError):
        approve_case(actor=org.lead, case=case)

    assert kinds(case) == trail
    assert trail.count(Kind.APPROVED) == 1


def test_a_second_refusal_of_the_same_transfer_writes_nothing(org, leaver, book):
    case = run_to_completion(org, leaver)
    transfer = CustomerTransfer.objects.filter(case=case).first()
    record_refusal(actor=org.hr, transfer=transfer, reason="No")
    trail = kinds(case)

    with pytest.raises(ValidationError):
        record_refusal(actor=org.hr, transfer=transfer, reason="No again")

    assert kinds(case) == trail


# --- run now enqueues only on commit -------------------------------------------------------


def test_run_now_sends_its_task_only_when_the_transaction_commits(
    org, leaver, book, django_capture_on_commit_callbacks, monkeypatch
):
    from offboarding import tasks

    sent = []
    monkeypatch.setattr(tasks.run_offboarding_case, "delay", lambda case_id: sent.append(case_id))
    case = approved_case(org, leaver)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_now(actor=org.hr, case=case)
        assert sent == []  # not while the request's transaction is open

    assert len(callbacks) == 1
    assert sent == [case.pk]


def test_run_now_inside_a_transaction_that_rolls_back_sends_nothing(
    org, leaver, book, django_capture_on_commit_callbacks, monkeypatch
):
    from offboarding import tasks

    sent = []
    monkeypatch.setattr(tasks.run_offboarding_case, "delay", lambda case_id: sent.append(case_id))
    case = approved_case(org, leaver)
    trail = kinds(case)

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        run_now(actor=org.hr, case=case)
        raise Abort

    assert callbacks == []
    assert sent == []
    assert kinds(case) == trail  # and the run_requested event went with the rollback
    assert OffboardingCase.objects.get(pk=case.pk).status == "approved"


def test_a_refused_run_now_registers_no_callback(org, leaver, on_commit_deferred):
    case = open_case(org, leaver)
    pending = len(connection.run_on_commit)

    with pytest.raises(ValidationError):
        run_now(actor=org.hr, case=case)

    assert len(connection.run_on_commit) == pending


# --- the runner's final states are in the change log ---------------------------------------


def _status_changes(case) -> list[list[str]]:
    entries = LogEntry.objects.get_for_object(case).order_by("id")
    return [e.changes_dict["status"] for e in entries if "status" in e.changes_dict]


def test_the_runs_final_state_is_in_the_change_log(org, leaver, book):
    case = run_to_completion(org, leaver)

    assert _status_changes(case)[-2:] == [["approved", "running"], ["running", "completed"]]
    completed = LogEntry.objects.get_for_object(case).order_by("id").last()
    assert "finished_at" in completed.changes_dict
    assert completed.actor is None  # the system ran it


def test_a_failed_run_is_in_the_change_log_for_the_case_and_the_step(
    org, leaver, book, monkeypatch
):
    monkeypatch.setattr(steps, "BATCH", 2)
    real = steps.batch_committed
    calls = []

    def flaky(step):
        calls.append(step.name)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        real(step)

    monkeypatch.setattr(steps, "batch_committed", flaky)
    case = run_case(approved_case(org, leaver).pk)

    assert case.status == "failed"
    assert _status_changes(case)[-1] == ["running", "failed"]
    step = CaseStep.objects.get(case=case, name="transfer")
    step_changes = [e.changes_dict for e in LogEntry.objects.get_for_object(step).order_by("id")]
    assert step_changes[-1]["status"] == ["running", "failed"]
    # The event has the counts that committed (one batch), not the batch that did not.
    failed = CaseEvent.objects.get(case=case, kind=Kind.STEP_FAILED)
    assert (failed.data["done"], failed.data["total"]) == (2, 6)


# --- the cancel summary reads the events ---------------------------------------------------


def _failed_in_conversations(org, leaver, monkeypatch) -> OffboardingCase:
    real = steps._follow_the_customer
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, "_follow_the_customer", flaky)
    case = approved_case(org, leaver)
    run_case(case.pk)
    monkeypatch.setattr(steps, "_follow_the_customer", real)
    return case


def test_the_cancel_summary_survives_a_renamed_step_label(org, leaver, book, monkeypatch):
    # given: the freeze step now reads differently (a new release renamed it)
    case = _failed_in_conversations(org, leaver, monkeypatch)
    field = CaseStep._meta.get_field("name")
    renamed = [
        (value, "Lock the account" if value == "freeze" else label)
        for value, label in field.choices
    ]
    monkeypatch.setattr(field, "choices", renamed)
    assert CaseStep.objects.get(case=case, name="freeze").get_name_display() == "Lock the account"

    # when
    with translation.override("en"):
        cancelled = cancel_case(actor=org.hr, case=case, reason="Rehired")

    # then: the freeze is still known as done (by its key), and shown by its new name
    assert (
        "Steps completed before cancelling: Lock the account, Transfer customers."
        in cancelled.cancel_summary
    )
    assert "The account stays deactivated" in cancelled.cancel_summary
    assert newest(cancelled).data["steps_done"] == ["freeze", "transfer"]
    leaver.refresh_from_db()
    assert leaver.employment_status == "departed"  # not set back to active: the freeze ran


def test_the_cancel_summary_follows_the_events_not_the_step_rows(org, leaver, book, monkeypatch):
    # given: the step rows say nothing is done, the events say the freeze and transfer are
    case = _failed_in_conversations(org, leaver, monkeypatch)
    CaseStep.objects.filter(case=case).update(status=CaseStep.Status.PENDING)

    with translation.override("en"):
        cancelled = cancel_case(actor=org.hr, case=case, reason="Rehired")

    assert "before cancelling: Freeze account, Transfer customers." in cancelled.cancel_summary


# --- the trail as people read it -----------------------------------------------------------


def test_the_case_page_and_the_report_show_the_trail(org, leaver, book):
    from django.test import Client

    from tests.signin import verified_login

    case = run_to_completion(org, leaver)
    browser = Client()
    verified_login(browser, org.hr)

    page = browser.get(f"/admin/offboarding/offboardingcase/{case.pk}/change/")
    report = browser.get(f"/admin/offboarding/offboardingcase/{case.pk}/report/")

    for response, table in ((page, 'id="case-events"'), (report, 'id="report-events"')):
        html = response.content.decode()
        assert response.status_code == 200
        assert table in html
        assert "离职单历程" in html
        assert html.count('data-kind="step_done"') == len(STEP_KEYS)
        assert "已审批" in html and "系统" in html


def test_event_rows_name_the_actor_and_say_what_happened(org, leaver, book):
    case = run_to_completion(org, leaver)

    with translation.override("zh-hans"):
        rows = events.event_rows(case)

    assert rows[0]["actor"] == org.hr.display_name
    assert rows[0]["summary"] == f"已请求 {org.lead.display_name} 审批"
    transfer = next(r for r in rows if r["summary"].startswith("转移客户"))
    assert transfer["summary"] == "转移客户（6 / 6）"
    assert rows[-1]["actor"] == "系统"


def test_the_case_detail_api_carries_the_events(org, leaver, book, api_client_for):
    case = run_to_completion(org, leaver)

    body = api_client_for(org.hr).get(f"{CASES_URL}{case.pk}/").json()

    assert [e["kind"] for e in body["events"]] == kinds(case)
    assert body["events"][0]["actor"] == org.hr.pk
    assert body["events"][-1]["actor"] is None
    listed = api_client_for(org.hr).get(CASES_URL).json()["results"]
    assert "events" not in listed[0]


# --- the backfill migration ----------------------------------------------------------------


def _legacy_case(org, leaver, **fields) -> OffboardingCase:
    """A case as the rows stood before the trail: written directly, no service, no event."""
    case = OffboardingCase.objects.create(
        leaver=leaver,
        reason="Resigned",
        notice_date=timezone.localdate(),
        effective_at=timezone.now() + timedelta(days=7),
        created_by=org.hr,
        approver=org.lead,
        created_at=timezone.now() - timedelta(days=1),
        **fields,
    )
    for position, name in enumerate(STEP_KEYS):
        CaseStep.objects.create(case=case, name=name, position=position)
    return case


def test_the_backfill_reconstructs_what_the_rows_prove(org, leaver):
    migration = importlib.import_module("offboarding.migrations.0008_backfill_case_events")
    now = timezone.now()
    draft = _legacy_case(org, org.rep_b)
    done = _legacy_case(
        org,
        org.rep_leaving,
        status="completed",
        approved_by=org.lead,
        approved_at=now - timedelta(hours=3),
        started_at=now - timedelta(hours=2),
        finished_at=now - timedelta(hours=1),
    )
    CaseStep.objects.filter(case=done).update(
        status="done", done=1, total=1, finished_at=now - timedelta(minutes=90)
    )
    failed = _legacy_case(
        org,
        org.rep_other_team,
        status="failed",
        approved_by=org.lead,
        approved_at=now - timedelta(hours=3),
        started_at=now - timedelta(hours=2),
    )
    CaseStep.objects.filter(case=failed, name="freeze").update(
        status="done", done=1, total=1, finished_at=now - timedelta(minutes=100)
    )
    CaseStep.objects.filter(case=failed, name="transfer").update(
        status="failed", done=2, total=6, started_at=now - timedelta(minutes=99), error="boom"
    )
    opened_by_service = open_case(org, leaver)  # has its own trail: left alone

    migration.backfill(apps, None)

    assert kinds(draft) == [Kind.CREATED]
    created = CaseEvent.objects.get(case=draft)
    assert (created.actor, created.created_at) == (org.hr, draft.created_at)
    assert created.data["backfilled"] is True
    assert kinds(done) == [
        Kind.CREATED,
        Kind.APPROVED,
        Kind.STARTED,
        *[Kind.STEP_DONE] * len(STEP_KEYS),
        Kind.COMPLETED,
    ]
    approved = CaseEvent.objects.get(case=done, kind=Kind.APPROVED)
    assert (approved.actor, approved.created_at) == (org.lead, done.approved_at)
    assert CaseEvent.objects.get(case=done, kind=Kind.COMPLETED).created_at == done.finished_at
    assert kinds(failed) == [
        Kind.CREATED,
        Kind.APPROVED,
        Kind.STARTED,
        Kind.STEP_DONE,
        Kind.STEP_FAILED,
    ]
    assert kinds(opened_by_service) == [Kind.CREATED]
    assert not CaseEvent.objects.filter(case=opened_by_service, data__backfilled=True).exists()

    # The reconstructed trail is enough for a cancel to say what the old run did.
    with translation.override("en"):
        cancelled = cancel_case(actor=org.hr, case=failed, reason="Stays")
    assert "before cancelling: Freeze account." in cancelled.cancel_summary
    assert "Partly done: Transfer customers (2 of 6)." in cancelled.cancel_summary

    # Run again (a re-applied migration): nothing doubles.
    count = CaseEvent.objects.count()
    migration.backfill(apps, None)
    assert CaseEvent.objects.count() == count

"""The case's event trail (`CaseEvent`), written the way Saleor writes order events: one small
typed function per kind, called by the verb (or the runner) inside the transaction that makes
the change, so an event exists exactly when its change committed.

Events store codes and ids (a step's key, a status value, a staff id), never display labels:
what a step is called may change, what happened does not. `event_rows` turns them into what
people read (the case page, the report), in the reader's language.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from offboarding.models import (
    CaseEvent,
    CaseStep,
    CustomerTransfer,
    OffboardingCase,
    RevokedShare,
)
from scrm.masking.detectors import mask_text
from scrm.staff.models import Staff
from scrm.staff.types import Actor

Kind = CaseEvent.Kind
Status = OffboardingCase.Status


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(case: OffboardingCase, *fields: str) -> dict[str, Any]:
    """The case's status and `fields` as JSON (a foreign key by its id: `approved_by_id`)."""
    return {name: _json(getattr(case, name)) for name in ("status", *fields)}


def record_event(
    *,
    case: OffboardingCase,
    kind: str,
    actor: Actor | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event (the only writer of CaseEvent: there is no update or delete path)."""
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        before=before or {},
        after=after or {},
        data=data or {},
    )


# --- the verbs' events (offboarding.services) ----------------------------------------------


def case_created_event(*, case: OffboardingCase, actor: Actor) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.CREATED,
        actor=actor,
        after=snapshot(case, "plan", "approver_id", "notice_date", "effective_at"),
        data={
            "successors": sorted(case.successors.values_list("pk", flat=True)),
            "approval_requested_from": case.approver_id,
        },
    )


def case_approved_event(
    *, case: OffboardingCase, actor: Actor, before: dict[str, Any]
) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.APPROVED,
        actor=actor,
        before=before,
        after=snapshot(case, "approved_by_id", "approved_at"),
    )


def notice_started_event(
    *, case: OffboardingCase, actor: Actor | None, before: str, after: str
) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.NOTICE_STARTED,
        actor=actor,
        before={"employment_status": before},
        after={"employment_status": after, "notice_date": _json(case.notice_date)},
        data={"leaver": case.leaver_id},
    )


def case_scheduled_event(
    *, case: OffboardingCase, actor: Actor, before: dict[str, Any]
) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.SCHEDULED,
        actor=actor,
        before=before,
        after=snapshot(case, "scheduled_task_id"),
        data={"run_at": _json(case.effective_at)},
    )


def run_requested_event(
    *,
    case: OffboardingCase,
    actor: Actor,
    before: dict[str, Any],
    scheduled_task_disabled: bool,
) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.RUN_REQUESTED,
        actor=actor,
        before=before,
        after=snapshot(case),
        data={
            "resume": before["status"] in (Status.FAILED, Status.RUNNING),
            "scheduled_task_disabled": scheduled_task_disabled,
        },
    )


def case_cancelled_event(
    *,
    case: OffboardingCase,
    actor: Actor,
    before: dict[str, Any],
    reason: str,
    steps_done: list[str],
    leaver_back_to_active: bool,
) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.CANCELLED,
        actor=actor,
        before=before,
        after=snapshot(case, "scheduled_task_id"),
        data={
            "reason": reason,
            "steps_done": steps_done,
            "customers_transferred": case.transfers.count(),
            "leaver_back_to_active": leaver_back_to_active,
        },
    )


def refusal_recorded_event(
    *, transfer: CustomerTransfer, actor: Actor, before: dict[str, Any]
) -> CaseEvent:
    return record_event(
        case=transfer.case,
        kind=Kind.REFUSAL_RECORDED,
        actor=actor,
        before=before,
        after={"transfer_status": transfer.status, "to_owner_id": transfer.to_owner_id},
        data={"transfer": transfer.pk, "customer": transfer.customer_id},
    )


def share_reconfirmed_event(*, share: RevokedShare, actor: Actor, grant_id: int) -> CaseEvent:
    return record_event(
        case=share.case,
        kind=Kind.SHARE_RECONFIRMED,
        actor=actor,
        before={"reconfirmed_at": None},
        after={
            "reconfirmed_by_id": share.reconfirmed_by_id,
            "reconfirmed_at": _json(share.reconfirmed_at),
        },
        data={
            "share": share.pk,
            "customer": share.customer_id,
            "colleague": share.colleague_id,
            "level": share.level,
            "grant": grant_id,
        },
    )


# --- the run's events (offboarding.runner): the system acts, no actor ------------------------


def run_started_event(*, case: OffboardingCase, before: dict[str, Any]) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.STARTED,
        before=before,
        after=snapshot(case, "started_at"),
        data={"resumed": case.steps.filter(status=CaseStep.Status.DONE).exists()},
    )


def _step_data(step: CaseStep) -> dict[str, Any]:
    return {"step": step.name, "done": step.done, "total": step.total}


def step_done_event(*, case: OffboardingCase, step: CaseStep) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.STEP_DONE,
        before={"step_status": CaseStep.Status.RUNNING},
        after={"step_status": step.status},
        data={**_step_data(step), "detail": step.detail},
    )


def step_failed_event(*, case: OffboardingCase, step: CaseStep) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.STEP_FAILED,
        before={"step_status": CaseStep.Status.RUNNING},
        after={"step_status": step.status},
        data={**_step_data(step), "error": step.error},
    )


def run_completed_event(*, case: OffboardingCase, before: dict[str, Any]) -> CaseEvent:
    return record_event(
        case=case,
        kind=Kind.COMPLETED,
        before=before,
        after=snapshot(case, "finished_at"),
        data={"customers_transferred": case.transfers.count()},
    )


def run_failed_event(
    *, case: OffboardingCase, before: dict[str, Any], step: str | None
) -> CaseEvent:
    """`step` is None when the plan stopped the run before any step began."""
    return record_event(
        case=case,
        kind=Kind.FAILED,
        before=before,
        after=snapshot(case),
        data={"step": step, "error": case.error},
    )


# --- reading the trail ----------------------------------------------------------------------


def step_label(name: str) -> str:
    """A step's name as people read it now (the label may change; the stored key does not)."""
    return str(dict(CaseStep._meta.get_field("name").flatchoices).get(name, name))


def step_outcomes(case: OffboardingCase) -> tuple[list[str], list[dict[str, Any]]]:
    """From the events: the steps done (keys, in the order they finished) and the steps that
    failed after committing part of their work (their last failure's counts), not done since."""
    done: dict[str, dict[str, Any]] = {}
    failed: dict[str, dict[str, Any]] = {}
    rows = case.events.filter(kind__in=(Kind.STEP_DONE, Kind.STEP_FAILED)).values_list(
        "kind", "data"
    )
    for kind, data in rows.order_by("created_at", "id"):
        name = data.get("step")
        if kind == Kind.STEP_DONE:
            done[name] = data
            failed.pop(name, None)
        elif name not in done:
            failed[name] = data
    partly = [data for data in failed.values() if data.get("done")]
    return list(done), partly


def _when(moment: str | None) -> str:
    if not moment:
        return ""
    return date_format(timezone.localtime(datetime.fromisoformat(moment)), "DATETIME_FORMAT")


def event_summary(event: CaseEvent, names: dict[int, str]) -> str:
    """One line about the event in the reader's language; `names`: staff id -> display name."""
    data, kind = event.data, event.kind

    def name(staff_id: int | None) -> str:
        return names.get(staff_id, f"#{staff_id}") if staff_id else "-"

    # Events the migration reconstructed for cases older than the trail say so.
    note = gettext("reconstructed from the case's timestamps") if data.get("backfilled") else ""
    if kind == Kind.CREATED:
        text = gettext("Approval asked of %(approver)s") % {
            "approver": name(data.get("approval_requested_from"))
        }
    elif kind == Kind.NOTICE_STARTED:
        text = gettext("The leaver may no longer export or reveal")
    elif kind == Kind.SCHEDULED:
        text = gettext("Runs at %(when)s") % {"when": _when(data.get("run_at"))}
    elif kind == Kind.RUN_REQUESTED:
        text = gettext("Resume the run") if data.get("resume") else gettext("Run now")
    elif kind == Kind.STARTED:
        text = gettext("Resumed after the steps done") if data.get("resumed") else ""
    elif kind == Kind.STEP_DONE:
        text = gettext("%(step)s (%(done)s of %(total)s)") % {
            "step": step_label(data.get("step", "")),
            "done": data.get("done", 0),
            "total": data.get("total", 0),
        }
    elif kind in (Kind.STEP_FAILED, Kind.FAILED):
        text = mask_text(data.get("error", ""))
    elif kind == Kind.COMPLETED:
        text = gettext("Customers transferred: %(count)s") % {
            "count": data.get("customers_transferred", 0)
        }
    elif kind == Kind.CANCELLED:
        text = mask_text(data.get("reason", ""))
    elif kind == Kind.REFUSAL_RECORDED:
        text = gettext("Customer #%(customer)s routed to %(lead)s") % {
            "customer": data.get("customer"),
            "lead": name(event.after.get("to_owner_id")),
        }
    elif kind == Kind.SHARE_RECONFIRMED:
        text = gettext("Customer #%(customer)s stays shared with %(colleague)s") % {
            "customer": data.get("customer"),
            "colleague": name(data.get("colleague")),
        }
    else:
        text = ""
    return gettext("%(text)s (%(note)s)") % {"text": text, "note": note} if note else text


def _staff_ids(events: Iterable[CaseEvent]) -> set[int]:
    ids: set[int] = set()
    for e in events:
        ids.update(
            i
            for i in (
                e.actor_id,
                e.data.get("approval_requested_from"),
                e.data.get("colleague"),
                e.after.get("to_owner_id"),
            )
            if isinstance(i, int)
        )
    return ids


def event_rows(case: OffboardingCase) -> list[dict[str, Any]]:
    """The trail as people read it: time, what happened, who, and a line about it."""
    events = list(case.events.order_by("created_at", "id"))
    names = {s.pk: s.display_name for s in Staff.objects.filter(pk__in=_staff_ids(events))}
    return [
        {
            "at": e.created_at,
            "kind": e.kind,
            "kind_label": e.get_kind_display(),
            "actor": names.get(e.actor_id, "") if e.actor_id else gettext("System"),
            "summary": event_summary(e, names),
        }
        for e in events
    ]

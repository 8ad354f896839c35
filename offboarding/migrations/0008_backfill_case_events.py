"""Cases opened before the event trail get the events their rows prove, at the times the rows
recorded: `created` (created_at, by created_by), `approved` (approved_at, by approved_by),
`started` (started_at), `step_done` per finished step (its finished_at, counts and detail), and
`completed` (finished_at of a completed case). A failed step with committed work gets a
`step_failed` at the step's start (its failure time was never recorded), so a later cancel still
says how far it got. Nothing else is guessed: a failure, a schedule or a cancel left no time
(the case's `error` and `cancel_summary` keep what they said). Every reconstructed event says
so: `data.backfilled`."""

from django.db import migrations


def _iso(moment):
    return moment.isoformat() if moment else None


def events_for(case, steps, Event) -> list:
    def event(kind, at, actor_id=None, before=None, after=None, **data):
        return Event(
            case_id=case.pk,
            kind=kind,
            actor_id=actor_id,
            created_at=at,
            before=before or {},
            after=after or {},
            data={**data, "backfilled": True},
        )

    rows = [
        event(
            "created",
            case.created_at,
            case.created_by_id,
            after={"status": "draft", "plan": case.plan, "approver_id": case.approver_id},
            approval_requested_from=case.approver_id,
        )
    ]
    if case.approved_at:
        rows.append(
            event(
                "approved",
                case.approved_at,
                case.approved_by_id,
                before={"status": "draft", "approved_by_id": None, "approved_at": None},
                after={
                    "status": "approved",
                    "approved_by_id": case.approved_by_id,
                    "approved_at": _iso(case.approved_at),
                },
            )
        )
    if case.started_at:
        rows.append(event("started", case.started_at, after={"status": "running"}, resumed=False))
    for step in steps:
        counts = {"step": step.name, "done": step.done, "total": step.total}
        if step.status == "done" and step.finished_at:
            rows.append(
                event(
                    "step_done",
                    step.finished_at,
                    before={"step_status": "running"},
                    after={"step_status": "done"},
                    **counts,
                    detail=step.detail,
                )
            )
        elif step.status == "failed" and step.done and step.started_at:
            rows.append(
                event(
                    "step_failed",
                    step.started_at,
                    before={"step_status": "running"},
                    after={"step_status": "failed"},
                    **counts,
                    error=step.error,
                    time="step_started",
                )
            )
    if case.status == "completed" and case.finished_at:
        rows.append(
            event(
                "completed",
                case.finished_at,
                before={"status": "running"},
                after={"status": "completed", "finished_at": _iso(case.finished_at)},
            )
        )
    return rows


def backfill(apps, schema_editor) -> None:
    Case = apps.get_model("offboarding", "OffboardingCase")
    Step = apps.get_model("offboarding", "CaseStep")
    Event = apps.get_model("offboarding", "CaseEvent")
    with_events = Event.objects.values("case_id")
    for case in Case.objects.exclude(pk__in=with_events).order_by("pk").iterator(chunk_size=500):
        steps = Step.objects.filter(case_id=case.pk).order_by("position")
        Event.objects.bulk_create(events_for(case, steps, Event))


def forget(apps, schema_editor) -> None:
    apps.get_model("offboarding", "CaseEvent").objects.filter(data__backfilled=True).delete()


class Migration(migrations.Migration):
    dependencies = [("offboarding", "0007_case_events")]

    operations = [migrations.RunPython(backfill, forget)]

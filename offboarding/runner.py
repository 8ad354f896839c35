"""Running a case: the steps in order, resumable after a crash at any point."""

import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from offboarding import events
from offboarding.models import CaseStep, OffboardingCase
from offboarding.planning import plan_still_to_run, validate_plan
from offboarding.steps import STEPS
from scrm.product_language import product_text

log = logging.getLogger(__name__)
RUNNABLE = (
    OffboardingCase.Status.APPROVED,
    OffboardingCase.Status.SCHEDULED,
    OffboardingCase.Status.RUNNING,  # a worker died mid-run: resume
    OffboardingCase.Status.FAILED,
)


def ensure_steps(case: OffboardingCase) -> list[CaseStep]:
    for position, (name, _) in enumerate(STEPS):
        step, created = CaseStep.objects.get_or_create(
            case=case, name=name, defaults={"position": position}
        )
        if not created and step.position != position:
            # A step added by a later release (e.g. `shares`) joins open cases at its place in
            # the order; the steps after it move down one. Only the order changes: a step that
            # is done stays done and is skipped.
            CaseStep.objects.filter(pk=step.pk).update(position=position)
    return list(case.steps.order_by("position"))


def _plan_problem(case: OffboardingCase) -> str:
    if not plan_still_to_run(case):
        return ""
    try:
        validate_plan(case)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return product_text(gettext_noop("Plan: %(problems)s"), problems=problems)
    return ""


def run_case(case_id: int) -> OffboardingCase:
    """Run (or resume) every step not yet done. A failing step marks the case failed with the
    error; running it again continues from that step. Returns the case as it ended.

    Each change of state is saved with `save(update_fields=...)` (auditlog logs it, with no
    actor: the system runs the case) together with its CaseEvent, in one transaction: a crash
    between two of them leaves the trail and the rows agreeing, and a resumed run writes only
    what it does anew (a done step is skipped, so its `step_done` is written once)."""
    with transaction.atomic():
        case = OffboardingCase.objects.select_for_update().select_related("leaver").get(pk=case_id)
        if case.status not in RUNNABLE:
            return case
        before = events.snapshot(case, "started_at")
        problem = _plan_problem(case)
        if problem:
            # Checked before the freeze step: a plan that would hand the book to someone the
            # approver could not assign stops the run with nothing done.
            case.status, case.error = OffboardingCase.Status.FAILED, problem
            case.save(update_fields=["status", "error"])
            events.run_failed_event(case=case, before=before, step=None)
            return case
        case.status = OffboardingCase.Status.RUNNING
        case.started_at = case.started_at or timezone.now()
        case.error = ""
        case.save(update_fields=["status", "started_at", "error"])
        events.run_started_event(case=case, before=before)
    # keyed by the step names as stored (str): CaseStep.Name members are equal to them
    functions: dict[str, Callable[[OffboardingCase, CaseStep], None]] = dict(STEPS)
    for step in ensure_steps(case):
        if step.status == CaseStep.Status.DONE:
            continue
        step.status, step.error = CaseStep.Status.RUNNING, ""
        step.started_at = step.started_at or timezone.now()
        step.save()
        try:
            functions[step.name](case, step)
        except Exception as exc:  # noqa: BLE001 - any failure must leave the case resumable
            log.exception("offboarding case %s failed in step %s", case.pk, step.name)
            return _fail(case, step, f"{step.get_name_display()}: {exc}")
        with transaction.atomic():
            step.status, step.finished_at = CaseStep.Status.DONE, timezone.now()
            step.save()
            events.step_done_event(case=case, step=step)
    with transaction.atomic():
        case = OffboardingCase.objects.select_for_update().get(pk=case.pk)
        before = events.snapshot(case, "finished_at")
        case.status, case.finished_at = OffboardingCase.Status.COMPLETED, timezone.now()
        case.save(update_fields=["status", "finished_at"])
        events.run_completed_event(case=case, before=before)
    return case


@transaction.atomic
def _fail(case: OffboardingCase, step: CaseStep, message: str) -> OffboardingCase:
    # The step's counts as committed, not as the batch that failed left them in memory: the
    # event and the cancel summary say how far it really got.
    step.refresh_from_db(fields=["done", "total", "detail"])
    step.status, step.error = CaseStep.Status.FAILED, message
    step.save(update_fields=["status", "error"])
    case = OffboardingCase.objects.select_for_update().get(pk=case.pk)
    before = events.snapshot(case)
    case.status, case.error = OffboardingCase.Status.FAILED, message
    case.save(update_fields=["status", "error"])
    events.step_failed_event(case=case, step=step)
    events.run_failed_event(case=case, before=before, step=step.name)
    return case

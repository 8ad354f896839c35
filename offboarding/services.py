"""Offboarding as verbs: keyword-only, explicit actor, one transaction each, audited.

Each verb locks the row it changes, checks, changes it with `save(update_fields=...)` (so
django-auditlog, registered in apps.py, logs the change) and appends the case's `CaseEvent`
(`offboarding.events`) in the same transaction. What reaches outside the database (the Celery
run) is sent from `transaction.on_commit`: a verb that rolls back starts nothing. The run itself
records its progress on CaseStep rows, each customer's fate on CustomerTransfer rows, and its
own events (offboarding.runner).
"""

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from customers.models import Customer, CustomerUserObjectPermission
from customers.ownership import move_customers
from customers.services import share_customer
from offboarding import events
from offboarding.models import (
    CaseStep,
    CustomerTransfer,
    OffboardingCase,
    RevokedShare,
    SuccessorOverride,
)
from offboarding.notice import start_notice
from offboarding.planning import (
    plan_still_to_run,
    team_lead_for,
    validate_plan,
    validate_successors,
)
from offboarding.runner import ensure_steps
from scrm.audit.attribution import attributed
from scrm.conflicts import Conflict
from scrm.masking.detectors import mask_text
from scrm.product_language import product_text
from scrm.staff import roles
from scrm.staff.models import Notification, Staff
from scrm.staff.types import Actor, Viewer
from scrm.types import Text

Status = OffboardingCase.Status


def _require(actor: Actor, perm: str, message: Text) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(message)


@attributed
@transaction.atomic
def create_case(
    *,
    actor: Actor,
    leaver: Staff,
    reason: str,
    notice_date: date,
    effective_at: datetime,
    plan: str = OffboardingCase.Plan.SINGLE,
    successors: Iterable[Staff] = (),
    overrides: dict[Customer, Staff] | None = None,
    handover_notes: str = "",
) -> OffboardingCase:
    """Open a draft case. Raises PermissionDenied (not HR) or ValidationError (bad plan, a
    leaver without an active supervisor, a successor who is not active / the leaver / leaving
    too / not a sales colleague the supervisor could assign, leaver already in an open case).

    The leaver's supervisor is recorded as the case's approver now: who approves, and whom
    customers may go to, no longer follow later edits of the supervisor field."""
    _require(actor, "offboarding.add_offboardingcase", _("Only HR opens offboarding cases."))
    errors: dict[str, Text] = {}
    approver = leaver.supervisor
    if approver is None or not approver.is_active or approver.employment_status != "active":
        errors["leaver"] = (
            f"{leaver.username} has no active supervisor to approve the case; "
            "an administrator sets one in Staff first."
        )
    if OffboardingCase.objects.filter(leaver=leaver, status__in=OffboardingCase.OPEN).exists():
        errors["leaver"] = _("%(username)s already has an open offboarding case.") % {
            "username": leaver.username
        }
    if leaver.employment_status == "departed" or not leaver.is_active:
        errors["leaver"] = _("%(username)s has already left.") % {"username": leaver.username}
    if not reason.strip():
        errors["reason"] = _("Say why the employee is leaving.")
    if notice_date > timezone.localtime(effective_at).date():
        errors["notice_date"] = _("The notice date must not be after the last working day.")
    if plan not in OffboardingCase.Plan.values:
        errors["plan"] = _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(OffboardingCase.Plan.values)
        }
    if errors:
        raise ValidationError(errors)
    successors = list(successors)
    named = plan in (OffboardingCase.Plan.SINGLE, OffboardingCase.Plan.SPLIT)
    if named and (not successors or (plan == OffboardingCase.Plan.SINGLE and len(successors) != 1)):
        raise ValidationError(
            {"successors": _("The single plan takes exactly one successor; a split at least one.")}
        )
    validate_successors(successors, leaver, approver)
    overrides = overrides or {}
    validate_successors(set(overrides.values()), leaver, approver, "overrides")
    foreign = [c.pk for c in overrides if c.owner_id != leaver.pk]
    if foreign:
        raise ValidationError(
            {"overrides": _("Not the leaver's customers: %(foreign)s.") % {"foreign": foreign}}
        )
    case = OffboardingCase.objects.create(
        leaver=leaver,
        # Free text people paste numbers into is stored through the content detectors, like
        # access-event reasons: a successor reveals a customer's contacts from the customer
        # (audited), never from a note everyone on the case reads.
        reason=mask_text(reason.strip()),
        notice_date=notice_date,
        effective_at=effective_at,
        plan=plan,
        handover_notes=mask_text(handover_notes),
        created_by=actor,
        approver=approver,
    )
    case.successors.set(successors)
    SuccessorOverride.objects.bulk_create(
        SuccessorOverride(case=case, customer=customer, successor=successor)
        for customer, successor in overrides.items()
    )
    ensure_steps(case)
    _ask_for_approval(case)
    events.case_created_event(case=case, actor=actor)
    return case


def _local_datetime(moment: datetime) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _ask_for_approval(case: OffboardingCase) -> None:
    # The approver's in-app notification (the admin home lists unread ones): a row in our
    # database, not a message sent out, so it is written in the case's transaction rather than
    # on commit; a refused case asks nobody.
    if case.approver is None:  # not reached: create_case refuses a leaver without a supervisor
        return
    Notification.objects.create(
        recipient=case.approver,
        title=product_text(
            gettext_noop("Offboarding case #%(pk)s for %(name)s awaits your approval"),
            pk=case.pk,
            name=case.leaver.display_name,
        ),
        body=product_text(
            gettext_noop("Opened by %(hr)s; the last working moment is %(when)s."),
            hr=case.created_by.display_name,
            when=_local_datetime(case.effective_at),
        ),
        link=reverse("admin:offboarding_offboardingcase_change", args=[case.pk]),
    )


def may_approve(actor: Viewer, case: OffboardingCase) -> bool:
    """The separation-of-duties rule for approvals, with no superuser or permission bypass:
    never the case's creator, never the leaver; the approver recorded when the case was opened,
    or an active sales manager whose department tree holds the leaver's or that approver's
    department."""
    if not (actor.is_authenticated and actor.is_active):
        return False
    if actor.pk in (case.created_by_id, case.leaver_id):
        return False
    if case.approver_id is not None and actor.pk == case.approver_id:
        return True
    if roles.SALES_MANAGER not in actor.role_names or actor.department is None:
        return False
    tree = set(actor.department.descendant_ids())
    departments = {
        case.leaver.department_id,
        case.approver.department_id if case.approver else None,
    }
    return bool(tree & (departments - {None}))


@attributed
@transaction.atomic
def approve_case(*, actor: Actor, case: OffboardingCase) -> OffboardingCase:
    """The supervisor recorded on the case (or a sales manager above them) approves a draft.
    Raises PermissionDenied (anyone else: the creator, the leaver, a superuser) or
    ValidationError (not a draft; the plan cannot be carried out)."""
    # Lock the case row only: the approver is a nullable join, which FOR UPDATE cannot lock.
    case = (
        OffboardingCase.objects.select_for_update(of=("self",))
        .select_related("leaver", "approver")
        .get(pk=case.pk)
    )
    if actor.pk == case.created_by_id:
        raise PermissionDenied(_("Whoever opened a case does not approve it."))
    if actor.pk == case.leaver_id:
        raise PermissionDenied(_("The leaver does not approve their own case."))
    if not may_approve(actor, case):
        raise PermissionDenied(
            _(
                "Only the leaver's supervisor at the time the case was opened, or a sales manager "
                "above them, approves this case."
            )
        )
    if case.status != Status.DRAFT:
        raise Conflict(
            {
                "status": _("Only a draft can be approved (this one is %(status)s).")
                % {"status": case.get_status_display()}
            }
        )
    validate_plan(case)
    before = events.snapshot(case, "approved_by_id", "approved_at")
    case.status, case.approved_by, case.approved_at = Status.APPROVED, actor, timezone.now()
    case.save(update_fields=["status", "approved_by", "approved_at"])
    events.case_approved_event(case=case, actor=actor, before=before)
    start_notice(case, actor=actor)
    return case


def _ready_to_run(case: OffboardingCase) -> None:
    # Approval is always required: a case nobody but its creator agreed to never runs.
    if case.status != Status.APPROVED:
        raise Conflict(
            {
                "status": _("A %(status)s case cannot be scheduled; it must be approved first.")
                % {"status": case.get_status_display()}
            }
        )
    team_lead_for(case.leaver)  # fail now, not at midnight, if refusals would have nowhere to go
    validate_plan(case)


@attributed
@transaction.atomic
def schedule_case(*, actor: Actor, case: OffboardingCase) -> OffboardingCase:
    """Start the run at the effective time through a one-off clocked beat task (HR).

    The beat task is a row in our database that django-celery-beat reads: created in the
    case's transaction, it exists exactly when the case says it is scheduled."""
    _require(actor, "offboarding.run_offboardingcase", _("Only HR schedules offboarding runs."))
    case = OffboardingCase.objects.select_for_update().get(pk=case.pk)
    _ready_to_run(case)
    before = events.snapshot(case, "scheduled_task_id")
    clock, _created = ClockedSchedule.objects.get_or_create(clocked_time=case.effective_at)
    case.scheduled_task = PeriodicTask.objects.create(
        name=product_text(gettext_noop("Offboarding case #%(pk)s"), pk=case.pk),
        task="offboarding.tasks.run_offboarding_case",
        clocked=clock,
        one_off=True,
        args=json.dumps([case.pk]),
    )
    case.status = Status.SCHEDULED
    case.save(update_fields=["status", "scheduled_task"])
    events.case_scheduled_event(case=case, actor=actor, before=before)
    start_notice(case, actor=actor)
    return case


def run_now(*, actor: Actor, case: OffboardingCase) -> OffboardingCase:
    """HR's "run now" (also resumes a failed case); runs inline when Celery is eager.

    The request is one transaction; the task is sent when it commits, so a refused or
    rolled-back request starts no run. Returns `case`, refreshed: with an eager Celery the run
    has finished by then, with a worker it has only been sent."""
    _request_run(actor=actor, case=case)
    case.refresh_from_db()
    return case


# The commit (and so the enqueue) happens outside the actor's attribution: the run is the
# system's work whoever asked for it, as it is when a worker picks it up.
@transaction.atomic
@attributed
def _request_run(*, actor: Actor, case: OffboardingCase) -> OffboardingCase:
    from offboarding.tasks import run_offboarding_case

    _require(actor, "offboarding.run_offboardingcase", _("Only HR runs offboarding cases."))
    case = (
        OffboardingCase.objects.select_for_update(of=("self",))
        .select_related("leaver")
        .get(pk=case.pk)
    )
    before = events.snapshot(case)
    if case.status not in (Status.SCHEDULED, Status.FAILED, Status.RUNNING):
        _ready_to_run(case)
    elif plan_still_to_run(case):
        validate_plan(case)  # a successor who no longer qualifies stops the run before it starts
        case.status = Status.APPROVED
        case.save(update_fields=["status"])
        start_notice(case, actor=actor)
    disabled = False
    if case.scheduled_task_id:
        # save(), not update(): beat notices a changed task through PeriodicTask's save signal;
        # the clocked run must not start a second time at the effective moment.
        task = PeriodicTask.objects.filter(pk=case.scheduled_task_id).first()
        if task is not None and task.enabled:
            task.enabled, disabled = False, True
            task.save(update_fields=["enabled"])
    events.run_requested_event(
        case=case, actor=actor, before=before, scheduled_task_disabled=disabled
    )
    # If the broker refuses the task after the commit, the event says it was asked for and the
    # case is still runnable: HR asks again (the run is idempotent).
    case_id = case.pk
    transaction.on_commit(lambda: run_offboarding_case.delay(case_id))
    return case


def _cancel_summary(
    case: OffboardingCase,
    *,
    actor: Actor,
    reason: str,
    done: list[str],
    partly: list[dict[str, Any]],
) -> str:
    """What the cancelled case did, from its events: step keys, never their labels, decide the
    sentences; the labels are only how they read. Written once, in the language of the request
    that cancels (the product's: zh-hans)."""
    moved = case.transfers.count()
    left = Customer.objects.filter(owner_id=case.leaver_id).count()
    summary = [
        gettext("Cancelled by %(actor)s: %(reason)s.")
        % {"actor": actor.username, "reason": reason},
        gettext("Steps completed before cancelling: %(steps)s.")
        % {"steps": gettext(", ").join(events.step_label(s) for s in done) or gettext("none")},
    ]
    if partly:
        # A step interrupted between batches committed part of its work: say how much.
        steps = [
            gettext("%(step)s (%(done)s of %(total)s)")
            % {"step": events.step_label(p["step"]), "done": p["done"], "total": p["total"]}
            for p in partly
        ]
        summary.append(gettext("Partly done: %(steps)s.") % {"steps": gettext(", ").join(steps)})
    summary.append(
        gettext("Customers transferred: %(moved)s; still owned by %(leaver)s: %(left)s.")
        % {"moved": moved, "leaver": case.leaver.username, "left": left}
    )
    if CaseStep.Name.FREEZE in done:
        summary.append(
            gettext("The account stays deactivated; reactivate it in Staff if the employee stays.")
        )
    return " ".join(str(part) for part in summary)


@attributed
@transaction.atomic
def cancel_case(*, actor: Actor, case: OffboardingCase, reason: str) -> OffboardingCase:
    """Cancel a case that is not running. If part of it ran, the summary says exactly what was
    done; committed transfers stay (every customer keeps exactly one owner)."""
    _require(actor, "offboarding.run_offboardingcase", _("Only HR cancels offboarding cases."))
    case = OffboardingCase.objects.select_for_update().get(pk=case.pk)
    if case.status in (Status.COMPLETED, Status.CANCELLED, Status.RUNNING):
        raise Conflict(
            {
                "status": _("A %(status)s case cannot be cancelled.")
                % {"status": case.get_status_display()}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case is cancelled.")})
    reason = mask_text(reason.strip())
    done, partly = events.step_outcomes(case)
    before = events.snapshot(case, "scheduled_task_id")
    case.cancel_summary = _cancel_summary(
        case, actor=actor, reason=reason, done=done, partly=partly
    )
    if case.scheduled_task_id:
        # A row beat reads, deleted with the cancel (a rolled-back cancel keeps it).
        PeriodicTask.objects.filter(pk=case.scheduled_task_id).delete()
        case.scheduled_task = None  # else the save below writes the deleted task's id back
    case.status = Status.CANCELLED
    case.save(update_fields=["status", "cancel_summary", "scheduled_task"])
    back_to_active = case.leaver.employment_status == "notice" and not done
    if back_to_active:
        case.leaver.employment_status = "active"
        case.leaver.save(update_fields=["employment_status"])
    events.case_cancelled_event(
        case=case,
        actor=actor,
        before=before,
        reason=reason,
        steps_done=done,
        leaver_back_to_active=back_to_active,
    )
    return case


@attributed
@transaction.atomic
def record_refusal(*, actor: Actor, transfer: CustomerTransfer, reason: str) -> CustomerTransfer:
    """The customer refused the hand-over outside scrm (WeCom): route them to the team lead."""
    _require(actor, "offboarding.run_offboardingcase", _("Only HR records refusals."))
    transfer = (
        CustomerTransfer.objects.select_for_update()
        .select_related("case__leaver")
        .get(pk=transfer.pk)
    )
    if transfer.status != CustomerTransfer.Status.COMPLETED:
        raise Conflict(
            {
                "status": _("This transfer is already %(status)s.")
                % {"status": transfer.get_status_display()}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say what the customer answered.")})
    lead = team_lead_for(transfer.case.leaver)
    before = {"transfer_status": transfer.status, "to_owner_id": transfer.to_owner_id}
    now = timezone.now()
    customer = Customer.objects.select_for_update().get(pk=transfer.customer_id)
    # What was handed over follows the customer to the lead, as in the run's conversation step:
    # the owner's side of the chats and the open follow-ups (customers.ownership).
    move_customers(
        actor_id=actor.pk,
        customer_ids=[customer.pk],
        to_owner_id=lead.pk,
        case_id=transfer.case_id,
        reason=mask_text(
            product_text(
                gettext_noop("Customer refused the transfer: %(reason)s"), reason=reason.strip()
            )
        ),
    )
    transfer.status, transfer.refused_at = CustomerTransfer.Status.REFUSED, now
    transfer.reason = mask_text(
        product_text(gettext_noop("Refused by the customer: %(reason)s"), reason=reason.strip())
    )[:500]
    transfer.to_owner = lead
    transfer.save(update_fields=["status", "refused_at", "reason", "to_owner"])
    events.refusal_recorded_event(transfer=transfer, actor=actor, before=before)
    return transfer


@attributed
@transaction.atomic
def reconfirm_share(*, actor: Actor, share: RevokedShare) -> CustomerUserObjectPermission:
    """The customer's owner keeps a share the leaver had given: the colleague gets the same
    level (and the same expiry) again, now granted by the owner, who answers for it.

    Only after the run: the owner is whoever holds the customer now (usually the successor the
    run handed it to); before the transfer nobody but the leaver owned it, and the revocation
    fails closed, so a colleague loses access until the owner decides.
    Raises PermissionDenied unless the actor owns the customer; ValidationError if the share was
    re-confirmed already, has expired since, or `share_customer` refuses (colleague inactive).
    """
    share = (
        RevokedShare.objects.select_for_update(of=("self",)).select_related("case").get(pk=share.pk)
    )
    # Locked: whoever owns the customer decides, not whoever owned it a moment ago.
    customer = Customer.objects.select_for_update().get(pk=share.customer_id)
    if customer.owner_id != actor.pk:
        raise PermissionDenied(
            _("Only the customer's owner may re-confirm a share the leaver gave.")
        )
    if share.reconfirmed_at is not None:
        raise Conflict({"share": _("This share has already been re-confirmed.")})
    if share.expires_at is not None and share.expires_at <= timezone.now():
        raise Conflict({"share": _("This share has expired; share the customer anew.")})
    grant = share_customer(
        actor=actor,
        customer=customer,
        with_staff=share.colleague,
        level=share.level,
        expires_at=share.expires_at,
    )
    share.reconfirmed_by, share.reconfirmed_at = actor, timezone.now()
    share.save(update_fields=["reconfirmed_by", "reconfirmed_at"])
    events.share_reconfirmed_event(share=share, actor=actor, grant_id=grant.pk)
    return grant

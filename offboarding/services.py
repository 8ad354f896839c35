"""Offboarding as verbs: keyword-only, explicit actor, one transaction each, audited.

Every case change is logged by django-auditlog (the model is registered in apps.py); the run
itself records its progress on CaseStep rows and each customer's fate on CustomerTransfer rows.
"""

import json
from collections.abc import Iterable
from datetime import date, datetime

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
from scrm.audit.attribution import attributed, audit_actor
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
    return case


def _local_datetime(moment: datetime) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _ask_for_approval(case: OffboardingCase) -> None:
    # The approver's in-app notification (the admin home lists unread ones); written in the
    # case's transaction, so a refused case asks nobody.
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
    case.status, case.approved_by, case.approved_at = Status.APPROVED, actor, timezone.now()
    case.save(update_fields=["status", "approved_by", "approved_at"])
    start_notice(case)
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
    """Start the run at the effective time through a one-off clocked beat task (HR)."""
    _require(actor, "offboarding.run_offboardingcase", _("Only HR schedules offboarding runs."))
    case = OffboardingCase.objects.select_for_update().get(pk=case.pk)
    _ready_to_run(case)
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
    start_notice(case)
    return case


def run_now(*, actor: Actor, case: OffboardingCase) -> OffboardingCase:
    """HR's "run now" (also resumes a failed case); runs inline when Celery is eager."""
    from offboarding.tasks import run_offboarding_case

    _require(actor, "offboarding.run_offboardingcase", _("Only HR runs offboarding cases."))
    if case.status not in (Status.SCHEDULED, Status.FAILED, Status.RUNNING):
        _ready_to_run(case)
    elif plan_still_to_run(case):
        validate_plan(case)  # a successor who no longer qualifies stops the run before it starts
        with transaction.atomic(), audit_actor(actor):
            OffboardingCase.objects.filter(pk=case.pk).update(status=Status.APPROVED)
            start_notice(case)
    if case.scheduled_task_id:
        PeriodicTask.objects.filter(pk=case.scheduled_task_id).update(enabled=False)
    run_offboarding_case.delay(case.pk)
    case.refresh_from_db()
    return case


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
    steps = list(case.steps.order_by("position"))
    done_steps = [s for s in steps if s.status == CaseStep.Status.DONE]
    done = [str(s.get_name_display()) for s in done_steps]
    # A step interrupted between batches committed part of its work: say how much.
    partly = [
        gettext("%(step)s (%(done)s of %(total)s)")
        % {"step": s.get_name_display(), "done": s.done, "total": s.total}
        for s in steps
        if s.status in (CaseStep.Status.FAILED, CaseStep.Status.RUNNING) and s.done
    ]
    moved = case.transfers.count()
    left = Customer.objects.filter(owner_id=case.leaver_id).count()
    # Written once, in the language of the request that cancels (the product's: zh-hans).
    summary = [
        gettext("Cancelled by %(actor)s: %(reason)s.")
        % {"actor": actor.username, "reason": mask_text(reason.strip())},
        gettext("Steps completed before cancelling: %(steps)s.")
        % {"steps": gettext(", ").join(done) or gettext("none")},
    ]
    if partly:
        summary.append(gettext("Partly done: %(steps)s.") % {"steps": gettext(", ").join(partly)})
    summary.append(
        gettext("Customers transferred: %(moved)s; still owned by %(leaver)s: %(left)s.")
        % {"moved": moved, "leaver": case.leaver.username, "left": left}
    )
    if any(s.name == CaseStep.Name.FREEZE for s in done_steps):
        summary.append(
            gettext("The account stays deactivated; reactivate it in Staff if the employee stays.")
        )
    case.cancel_summary = " ".join(str(part) for part in summary)
    if case.scheduled_task_id:
        PeriodicTask.objects.filter(pk=case.scheduled_task_id).delete()
        case.scheduled_task = None  # else the save below writes the deleted task's id back
    case.status = Status.CANCELLED
    case.save(update_fields=["status", "cancel_summary", "scheduled_task"])
    if case.leaver.employment_status == "notice" and not done:
        case.leaver.employment_status = "active"
        case.leaver.save(update_fields=["employment_status"])
    return case


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
    return transfer


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
    share = RevokedShare.objects.select_for_update().get(pk=share.pk)
    customer = Customer.objects.get(pk=share.customer_id)
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
    return grant

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from customers.models import SHARE_LEVEL_LABELS, Customer
from scrm.access.querysets import ScopedQuerySet
from scrm.access.scope import Scope

if TYPE_CHECKING:
    from scrm.staff.types import Viewer


class CaseQuerySet(ScopedQuerySet):
    """`visible_to(user)`: the door, with `case_rows` (offboarding.access)."""


def case_rows(queryset: QuerySet, scope: Scope, user: "Viewer") -> QuerySet:
    """HR and administrators see every case; leads and managers the cases of their people
    (their team, their department tree), and anyone permitted the cases of those they
    supervise."""
    if scope.everything:
        return queryset
    if not scope.permitted:
        return queryset.none()
    return queryset.filter(scope.owned_q("leaver_id") | Q(leaver__supervisor_id=user.pk))


class OffboardingCase(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed (resumable)")
        CANCELLED = "cancelled", _("Cancelled")

    class Plan(models.TextChoices):
        SINGLE = "single", _("One successor")
        SPLIT = "split", _("Split across named successors")
        ROUND_ROBIN = "round_robin", _("Round-robin within the team")
        LEAST_LOADED = "least_loaded", _("Least-loaded within the team")

    OPEN = (Status.DRAFT, Status.APPROVED, Status.SCHEDULED, Status.RUNNING, Status.FAILED)

    leaver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="offboarding_cases",
        verbose_name=_("leaver"),
    )
    reason = models.CharField(max_length=500, verbose_name=_("reason"))
    notice_date = models.DateField(verbose_name=_("notice date"))
    effective_at = models.DateTimeField(
        help_text=_("The leaver's last working moment."), verbose_name=_("effective at")
    )
    plan = models.CharField(
        max_length=20, choices=Plan.choices, default=Plan.SINGLE, verbose_name=_("plan")
    )
    successors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text=_("One for the single plan; the named successors for a split."),
        verbose_name=_("successors"),
    )
    handover_notes = models.TextField(blank=True, verbose_name=_("handover notes"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # Who approves, fixed when the case is opened: the leaver's supervisor as it stood then, so
    # that changing the supervisor afterwards (the HR-makes-itself-supervisor attack) moves
    # nothing. A sales manager above them may approve too (services.approve_case).
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The leaver's supervisor when the case was opened."),
        verbose_name=_("approver"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    scheduled_task = models.ForeignKey(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("scheduled task"),
    )
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    cancel_summary = models.TextField(blank=True, verbose_name=_("cancel summary"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("offboarding case")
        verbose_name_plural = _("offboarding cases")
        ordering = ["-created_at"]
        # No "approve any case" permission: approval is the approver's or a sales manager's
        # above them, never a right a group or a superuser holds (services.approve_case).
        permissions = [
            ("run_offboardingcase", gettext_noop("Can schedule and run offboarding cases"))
        ]

    def __str__(self) -> str:
        return gettext("Offboarding case #%(pk)s: %(name)s") % {
            "pk": self.pk,
            "name": self.leaver.display_name,
        }


class SuccessorOverride(models.Model):
    """A per-customer choice of successor that beats the plan."""

    case = models.ForeignKey(
        OffboardingCase, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("case")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    successor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("successor"),
    )

    class Meta:
        verbose_name = _("successor override")
        verbose_name_plural = _("successor overrides")
        constraints = [
            models.UniqueConstraint(fields=["case", "customer"], name="override_case_customer")
        ]

    def __str__(self) -> str:
        return gettext("Customer #%(customer)s → staff #%(staff)s") % {
            "customer": self.customer_id,
            "staff": self.successor_id,
        }


class CaseStep(models.Model):
    """One step of a run with its progress; a finished step is skipped when the run resumes."""

    class Name(models.TextChoices):
        FREEZE = "freeze", _("Freeze account")
        TRANSFER = "transfer", _("Transfer customers")
        CONVERSATIONS = "conversations", _("Move conversations and follow-ups")
        GRANTS = "grants", _("Remove the leaver's grants")
        SHARES = "shares", _("Revoke the shares the leaver gave")
        PRIVATE_DATA = "private_data", _("Clear private data")
        NOTIFY = "notify", _("Notify successors and supervisor")
        REPORT = "report", _("Produce the handover report")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(
        OffboardingCase, on_delete=models.CASCADE, related_name="steps", verbose_name=_("case")
    )
    name = models.CharField(max_length=20, choices=Name.choices, verbose_name=_("name"))
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    total = models.PositiveIntegerField(default=0, verbose_name=_("total"))
    done = models.PositiveIntegerField(default=0, verbose_name=_("done"))
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["case", "position"]
        constraints = [models.UniqueConstraint(fields=["case", "name"], name="step_case_name")]

    def __str__(self) -> str:
        return f"{self.get_name_display()}: {self.get_status_display()} ({self.done}/{self.total})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class CustomerTransfer(models.Model):
    """What happened to one customer in a case (or an in-service transfer)."""

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(
        OffboardingCase, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("case")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from owner"),
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to owner"),
    )
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))
    refused_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refused at"))

    class Meta:
        verbose_name = _("customer transfer")
        verbose_name_plural = _("customer transfers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "customer"], name="transfer_case_customer")
        ]

    def __str__(self) -> str:
        return gettext("Customer #%(customer)s: %(status)s") % {
            "customer": self.customer_id,
            "status": self.get_status_display(),
        }


class RevokedShare(models.Model):
    """A share the leaver had given a colleague, revoked by the run (the `shares` step).

    The grant itself is deleted; this row keeps what it was (customer, colleague, level, expiry)
    for the hand-over report and lets the customer's owner re-confirm it afterwards
    (`offboarding.services.reconfirm_share`), which grants it again in the owner's name.
    """

    case = models.ForeignKey(
        OffboardingCase,
        on_delete=models.PROTECT,
        related_name="revoked_shares",
        verbose_name=_("case"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    colleague = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("colleague"),
    )
    level = models.CharField(
        max_length=30, verbose_name=_("level")
    )  # "view" / "change" (share_customer's levels)
    granted_at = models.DateTimeField(verbose_name=_("granted at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(default=timezone.now, verbose_name=_("revoked at"))
    reconfirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reconfirmed by"),
    )
    reconfirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reconfirmed at"))

    class Meta:
        verbose_name = _("revoked share")
        verbose_name_plural = _("revoked shares")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "customer", "colleague", "level"], name="revoked_share_once"
            )
        ]

    def __str__(self) -> str:
        return gettext("Share of customer #%(customer)s with staff #%(staff)s (%(level)s)") % {
            "customer": self.customer_id,
            "staff": self.colleague_id,
            "level": self.level_label,
        }

    @property
    def level_label(self) -> str:
        return str(SHARE_LEVEL_LABELS.get(self.level, self.level))


class CaseEvent(models.Model):
    """One thing that happened to a case, in order: who did it (nobody for the run, which
    Celery performs), the case's state before and after, and what it concerned.

    Written by the verbs in `offboarding.services` and by the runner, inside the transaction
    that makes the change (`offboarding.events`), so the trail never says more or less than
    what committed. Append-only: nothing in the code updates or deletes an event, and the admin
    only shows them. The cancel summary and the report read these, not step labels.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Case opened, approval requested")
        APPROVED = "approved", _("Approved")
        NOTICE_STARTED = "notice_started", _("Notice period started")
        SCHEDULED = "scheduled", _("Run scheduled")
        RUN_REQUESTED = "run_requested", _("Run requested")
        STARTED = "started", _("Run started")
        STEP_DONE = "step_done", _("Step done")
        STEP_FAILED = "step_failed", _("Step failed")
        COMPLETED = "completed", _("Run completed")
        FAILED = "failed", _("Run failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUSAL_RECORDED = "refusal_recorded", _("Customer refusal recorded")
        SHARE_RECONFIRMED = "share_reconfirmed", _("Revoked share re-confirmed")

    case = models.ForeignKey(
        OffboardingCase,
        # The trail is part of the case: nothing deletes a case but a test or a shell (the admin
        # and the API refuse; cancel it instead), and then its history goes with it, as its
        # steps do.
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("case"),
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system acted (the scheduled run, the Celery worker)."),
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    before = models.JSONField(default=dict, blank=True, verbose_name=_("before"))
    after = models.JSONField(default=dict, blank=True, verbose_name=_("after"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_case_time")]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.get_kind_display()}"

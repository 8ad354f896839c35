from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer
from scrm.staff import roles


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CaseQuerySet":
        """HR and administrators see every case; leads and managers the cases of their people."""
        if not (user.is_authenticated and user.has_perm("offboarding.view_offboardingcase")):
            return self.none()
        if user.is_superuser or user.role_names & {roles.HR, roles.ADMINISTRATOR}:
            return self
        q = Q(leaver__supervisor_id=user.pk)
        if roles.TEAM_LEAD in user.role_names and user.team_id:
            q |= Q(leaver__team_id=user.team_id)
        if roles.SALES_MANAGER in user.role_names and user.department_id:
            q |= Q(leaver__department_id__in=user.department.descendant_ids())
        return self.filter(q)


class OffboardingCase(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed (resumable)"
        CANCELLED = "cancelled", "Cancelled"

    class Plan(models.TextChoices):
        SINGLE = "single", "One successor"
        SPLIT = "split", "Split across named successors"
        ROUND_ROBIN = "round_robin", "Round-robin within the team"
        LEAST_LOADED = "least_loaded", "Least-loaded within the team"

    OPEN = (Status.DRAFT, Status.APPROVED, Status.SCHEDULED, Status.RUNNING, Status.FAILED)

    leaver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offboarding_cases"
    )
    reason = models.CharField(max_length=500)
    notice_date = models.DateField()
    effective_at = models.DateTimeField(help_text="The leaver's last working moment.")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.SINGLE)
    successors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="One for the single plan; the named successors for a split.",
    )
    handover_notes = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Who approves, fixed when the case is opened: the leaver's supervisor as it stood then, so
    # that changing the supervisor afterwards (the HR-makes-itself-supervisor attack) moves
    # nothing. A sales manager above them may approve too (services.approve_case).
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The leaver's supervisor when the case was opened.",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    scheduled_task = models.ForeignKey(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    cancel_summary = models.TextField(blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # No "approve any case" permission: approval is the approver's or a sales manager's
        # above them, never a right a group or a superuser holds (services.approve_case).
        permissions = [("run_offboardingcase", "Can schedule and run offboarding cases")]

    def __str__(self) -> str:
        return f"Offboarding #{self.pk} of {self.leaver.username}"


class SuccessorOverride(models.Model):
    """A per-customer choice of successor that beats the plan."""

    case = models.ForeignKey(OffboardingCase, on_delete=models.CASCADE, related_name="overrides")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    successor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "customer"], name="override_case_customer")
        ]

    def __str__(self) -> str:
        return f"customer #{self.customer_id} -> {self.successor_id}"


class CaseStep(models.Model):
    """One step of a run with its progress; a finished step is skipped when the run resumes."""

    class Name(models.TextChoices):
        FREEZE = "freeze", "Freeze account"
        TRANSFER = "transfer", "Transfer customers"
        CONVERSATIONS = "conversations", "Move conversations and follow-ups"
        GRANTS = "grants", "Remove the leaver's grants"
        SHARES = "shares", "Revoke the shares the leaver gave"
        PRIVATE_DATA = "private_data", "Clear private data"
        NOTIFY = "notify", "Notify successors and supervisor"
        REPORT = "report", "Produce the handover report"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(OffboardingCase, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=20, choices=Name.choices)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "position"]
        constraints = [models.UniqueConstraint(fields=["case", "name"], name="step_case_name")]

    def __str__(self) -> str:
        return f"{self.get_name_display()}: {self.status} ({self.done}/{self.total})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class CustomerTransfer(models.Model):
    """What happened to one customer in a case (or an in-service transfer)."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(OffboardingCase, on_delete=models.PROTECT, related_name="transfers")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)
    refused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "customer"], name="transfer_case_customer")
        ]

    def __str__(self) -> str:
        return f"customer #{self.customer_id}: {self.status}"


class RevokedShare(models.Model):
    """A share the leaver had given a colleague, revoked by the run (the `shares` step).

    The grant itself is deleted; this row keeps what it was (customer, colleague, level, expiry)
    for the hand-over report and lets the customer's owner re-confirm it afterwards
    (`offboarding.services.reconfirm_share`), which grants it again in the owner's name.
    """

    case = models.ForeignKey(
        OffboardingCase, on_delete=models.PROTECT, related_name="revoked_shares"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    colleague = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(max_length=30)  # "view" / "change" (share_customer's levels)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(default=timezone.now)
    reconfirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reconfirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "customer", "colleague", "level"], name="revoked_share_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} share of customer #{self.customer_id} with {self.colleague_id}"

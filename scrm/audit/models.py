from django.conf import settings
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    ADMIN = "admin", "Web admin"
    API = "api", "REST API"
    CLI = "cli", "Command line"
    TASK = "task", "Background task"


class AccessAction(models.TextChoices):
    LIST = "list", "List"
    VIEW = "view", "View"
    REVEAL = "reveal", "Reveal"
    SEARCH = "search", "Search"
    EXPORT = "export", "Export"
    DENIED = "denied", "Denied"
    LOGIN = "login", "Sign-in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGOUT = "logout", "Sign-out"


class AccessEvent(models.Model):
    """One read of protected data. Append-only: no interface updates or deletes these rows, and
    on PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    model = models.CharField(max_length=64)  # "customers.customer"
    object_ids = models.JSONField(default=list, blank=True)
    # How many rows the read showed (len(object_ids), or the entries of a timeline): summed per
    # actor over the last hour without parsing JSON, the same on PostgreSQL and SQLite.
    row_count = models.PositiveIntegerField(default=0)
    fields = models.JSONField(default=list, blank=True)
    query = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    allowed = models.BooleanField(default=True)
    # Reads by staff in their notice period are flagged for review.
    flagged = models.BooleanField(default=False)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-at"], name="audit_event_actor_at"),
            models.Index(fields=["action", "-at"], name="audit_event_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_id} {self.action} {self.model}"


class SecurityAlert(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField()
    model = models.CharField(max_length=64, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class ReadBlock(models.Model):
    """List reads of a staff member in their notice period, refused after they read more rows
    in an hour than SCRM_NOTICE_READS_BLOCK_PER_HOUR, until a security officer releases them
    (`scrm.audit.read_budget.release_read_block`)."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    rows = models.PositiveIntegerField(help_text="Rows read in the hour when the block came.")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff"],
                condition=models.Q(released_at__isnull=True),
                name="one_open_read_block",
            )
        ]

    def __str__(self) -> str:
        return f"reads of {self.staff_id} blocked at {self.created_at:%Y-%m-%d %H:%M}"

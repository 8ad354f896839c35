from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from scrm.types import Text


class Channel(models.TextChoices):
    ADMIN = "admin", _("Web admin")
    API = "api", _("REST API")
    CLI = "cli", _("Command line")
    TASK = "task", _("Background task")


class AccessAction(models.TextChoices):
    LIST = "list", _("List")
    VIEW = "view", _("View")
    REVEAL = "reveal", _("Reveal")
    SEARCH = "search", _("Search")
    EXPORT = "export", _("Export")
    DENIED = "denied", _("Denied")
    LOGIN = "login", _("Sign-in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGOUT = "logout", _("Sign-out")


class AccessEvent(models.Model):
    """One read of protected data. Append-only: no interface updates or deletes these rows, and
    on PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002)."""

    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    action = models.CharField(max_length=20, choices=AccessAction.choices, verbose_name=_("action"))
    model = models.CharField(max_length=64, verbose_name=_("model"))  # "customers.customer"
    object_ids = models.JSONField(default=list, blank=True, verbose_name=_("object ids"))
    # How many rows the read showed (len(object_ids), or the entries of a timeline): summed per
    # actor over the last hour without parsing JSON, the same on PostgreSQL and SQLite.
    row_count = models.PositiveIntegerField(default=0, verbose_name=_("row count"))
    fields = models.JSONField(default=list, blank=True, verbose_name=_("fields"))
    query = models.JSONField(default=dict, blank=True, verbose_name=_("query"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    allowed = models.BooleanField(default=True, verbose_name=_("allowed"))
    # Reads by staff in their notice period are flagged for review.
    flagged = models.BooleanField(default=False, verbose_name=_("flagged"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip"))
    user_agent = models.CharField(max_length=300, blank=True, verbose_name=_("user agent"))
    path = models.CharField(max_length=300, blank=True, verbose_name=_("path"))

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-at"], name="audit_event_actor_at"),
            models.Index(fields=["action", "-at"], name="audit_event_action_at"),
        ]

    def __str__(self) -> str:
        return gettext("%(action)s of %(model)s by staff #%(actor)s, %(at)s") % {
            "action": self.get_action_display(),
            "model": self.model,
            "actor": self.actor_id,
            "at": f"{self.at:%Y-%m-%d %H:%M:%S}",
        }


# Alert kinds as people read them: the kind is a short code set by whoever raises the alert;
# the platform's own are named here, a domain app names its own (`register_alert_kind`).
ALERT_KIND_LABELS: dict[str, Text] = {
    "login_lockout": _("Sign-in lockout"),
    "reveal_rate_limit": _("Reveal limit"),
    "lookup_rate_limit": _("Lookup limit"),
    "notice_bulk_reads": _("Bulk reads in the notice period"),
    "notice_reads_blocked": _("List reads blocked"),
}


def register_alert_kind(kind: str, label: Text) -> None:
    ALERT_KIND_LABELS[kind] = label


class SecurityAlert(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )
    kind = models.CharField(max_length=40, verbose_name=_("kind"))
    severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.MEDIUM, verbose_name=_("severity")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    message = models.TextField(verbose_name=_("message"))
    model = models.CharField(max_length=64, blank=True, verbose_name=_("model"))
    object_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("object id"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )

    class Meta:
        verbose_name = _("security alert")
        verbose_name_plural = _("security alerts")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind_label}: {self.message[:60]}"

    @property
    def kind_label(self) -> str:
        return str(ALERT_KIND_LABELS.get(self.kind, self.kind))


class ReadBlock(models.Model):
    """List reads of a staff member in their notice period, refused after they read more rows
    in an hour than SCRM_NOTICE_READS_BLOCK_PER_HOUR, until a security officer releases them
    (`scrm.audit.read_budget.release_read_block`)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    rows = models.PositiveIntegerField(
        help_text=_("Rows read in the hour when the block came."), verbose_name=_("rows")
    )
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_reason = models.TextField(blank=True, verbose_name=_("release reason"))

    class Meta:
        verbose_name = _("read block")
        verbose_name_plural = _("read blocks")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff"],
                condition=models.Q(released_at__isnull=True),
                name="one_open_read_block",
            )
        ]

    def __str__(self) -> str:
        return gettext("List reads of staff #%(staff)s blocked at %(at)s") % {
            "staff": self.staff_id,
            "at": f"{self.created_at:%Y-%m-%d %H:%M}",
        }

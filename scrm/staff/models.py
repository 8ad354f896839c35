from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac


class Department(models.Model):
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> list[int]:
        """This department and every sub-department, walked level by level (trees are shallow)."""
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(
                Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids


class Team(models.Model):
    name = models.CharField(max_length=100)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Staff(AbstractUser):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NOTICE = "notice", "Notice period"
        DEPARTED = "departed", "Departed"

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    employment_status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    hired_on = models.DateField(null=True, blank=True)
    notice_date = models.DateField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    wecom_userid = models.CharField(
        "WeCom user id", max_length=64, unique=True, null=True, blank=True
    )
    # Raised whenever every session and token of the account must end at once (password,
    # deactivation, roles, two-factor reset, "sign out everywhere"): every access and refresh
    # token carries the number it was issued under, and the browser session hash includes it.
    auth_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["username"]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def save(self, *args, **kwargs):
        # A new password (set_password, then save) ends every session and token. Django's own
        # rehash on login saves with `_password` cleared, so an upgraded hash ends nothing.
        if self.pk is not None and self._password is not None:
            self.auth_generation += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "auth_generation"}
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django ends a browser session whose stored hash no longer matches: with the generation
        # in it, raising the generation ends every browser session of the account too.
        return salted_hmac(
            "scrm.staff.Staff.session_auth_hash",
            f"{self.password}:{self.auth_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Device(models.Model):
    """A mobile device registered to a staff member; wiping it makes the client erase local data."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=100, blank=True)
    platform = models.CharField(max_length=20, blank=True)
    registered_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    wipe_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name or self.device_id} ({self.staff.username})"


class Notification(models.Model):
    """An in-app notification (offboarding hand-overs, approvals)."""

    recipient = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class PersonalNote(models.Model):
    """A staff member's private note; one attached to a customer is business data and stays."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="personal_notes")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Note #{self.pk} of {self.staff_id}"


class SavedSearch(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=100)
    query = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Draft(models.Model):
    """An unsent message draft kept by a client."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="drafts")
    body = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Draft #{self.pk}"


class TokenSession(models.Model):
    """One sign-in through the API: every access and refresh token of it carries its `sid`.

    Ending it (logout) ends those tokens at once; `expires_at` is the absolute end from the
    sign-in (JWT_SESSION_MAX_DAYS) that no chain of refreshes outlives.
    """

    sid = models.CharField(max_length=32, unique=True)
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="token_sessions")
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    second_factor = models.BooleanField(default=False)
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "API session"

    def __str__(self) -> str:
        return f"{self.staff.username} since {self.started_at:%Y-%m-%d %H:%M}"


class LoginTicket(models.Model):
    """The half-way state of an API sign-in by an enrolled user: the password was right, the
    second factor is still to come. Valid for minutes, one use; only its hash is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"ticket of {self.staff_id}"

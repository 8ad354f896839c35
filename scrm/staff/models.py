from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


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

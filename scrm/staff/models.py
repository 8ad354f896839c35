from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    name = models.CharField(max_length=100, verbose_name=_("name"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> list[int]:
        """This department and every sub-department (the tree below it, itself first)."""
        below = [pk for pk in _department_tree(self.pk, "SELECT id FROM tree") if pk != self.pk]
        return [self.pk, *below]

    @staticmethod
    def tree_staff_ids(department_id: int) -> tuple[int, ...]:
        """The staff of a department and of every department below it, in one query."""
        staff = Staff._meta.db_table
        select = f"SELECT s.id FROM {staff} s WHERE s.department_id IN (SELECT id FROM tree)"
        return tuple(_department_tree(department_id, select))


def _department_tree(department_id: int, select: str) -> list[int]:
    """`select` (first column: ids) over `tree`, a recursive CTE of the department and every
    department below it: the one implementation of the tree, for scopes and forms alike."""
    table = Department._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE tree(id) AS ("
            f"SELECT id FROM {table} WHERE id = %s UNION "
            f"SELECT d.id FROM {table} d JOIN tree ON d.parent_id = tree.id) {select}",
            [department_id],
        )
        return [row[0] for row in cursor.fetchall()]


class Team(models.Model):
    name = models.CharField(max_length=100, verbose_name=_("name"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="teams", verbose_name=_("department")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Staff(AbstractUser):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        NOTICE = "notice", _("Notice period")
        DEPARTED = "departed", _("Departed")

    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("department"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("team"),
    )
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("supervisor"),
    )
    employment_status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.ACTIVE,
        db_index=True,
        verbose_name=_("employment status"),
    )
    hired_on = models.DateField(null=True, blank=True, verbose_name=_("hired on"))
    notice_date = models.DateField(null=True, blank=True, verbose_name=_("notice date"))
    departed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("departed at"))
    wecom_userid = models.CharField(
        _("WeCom user id"), max_length=64, unique=True, null=True, blank=True
    )
    # Raised whenever every session and token of the account must end at once (password,
    # deactivation, roles, two-factor reset, "sign out everywhere"): every access and refresh
    # token carries the number it was issued under, and the browser session hash includes it.
    auth_generation = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("auth generation")
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["username"]

    def __str__(self) -> str:
        name = self.display_name
        return f"{name} ({self.username})" if name != self.username else name

    @property
    def display_name(self) -> str:
        """The one way a person's name is shown: family name first. Chinese names run together
        (唐丹); in Latin letters they keep a space (Tang Dan). No name at all: the username."""
        family, given = self.last_name.strip(), self.first_name.strip()
        if not (family or given):
            return self.username
        if (family + given).isascii():
            return " ".join(part for part in (family, given) if part)
        return family + given

    def get_full_name(self) -> str:
        # Django's own pages (the admin's user tools, the change log) call this one.
        return self.display_name if (self.first_name or self.last_name) else ""

    def get_short_name(self) -> str:
        return self.display_name

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def save(self, *args, **kwargs):
        # Unique but optional: no id is NULL, never '' (two staff without one would collide).
        self.wecom_userid = (self.wecom_userid or "").strip() or None
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

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="devices", verbose_name=_("staff")
    )
    device_id = models.CharField(max_length=128, unique=True, verbose_name=_("device id"))
    name = models.CharField(max_length=100, blank=True, verbose_name=_("name"))
    platform = models.CharField(max_length=20, blank=True, verbose_name=_("platform"))
    registered_at = models.DateTimeField(default=timezone.now, verbose_name=_("registered at"))
    last_seen_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last seen at"))
    wipe_requested_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("wipe requested at")
    )

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.name or self.device_id} ({self.staff.username})"


class Notification(models.Model):
    """An in-app notification (offboarding hand-overs, approvals)."""

    recipient = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    link = models.CharField(max_length=300, blank=True, verbose_name=_("link"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class SavedSearch(models.Model):
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="saved_searches", verbose_name=_("staff")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    query = models.JSONField(default=dict, verbose_name=_("query"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")

    def __str__(self) -> str:
        return self.name


class Draft(models.Model):
    """An unsent message draft kept by a client."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="drafts", verbose_name=_("staff")
    )
    body = models.TextField(verbose_name=_("body"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")

    def __str__(self) -> str:
        return gettext("Draft #%(pk)s") % {"pk": self.pk}


class TokenSession(models.Model):
    """One sign-in through the API: every access and refresh token of it carries its `sid`.

    Ending it (logout) ends those tokens at once; `expires_at` is the absolute end from the
    sign-in (JWT_SESSION_MAX_DAYS) that no chain of refreshes outlives.
    """

    sid = models.CharField(max_length=32, unique=True, verbose_name=_("sid"))
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="token_sessions", verbose_name=_("staff")
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    second_factor = models.BooleanField(default=False, verbose_name=_("second factor"))
    user_agent = models.CharField(max_length=300, blank=True, verbose_name=_("user agent"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip address"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    end_reason = models.CharField(max_length=40, blank=True, verbose_name=_("end reason"))

    class Meta:
        verbose_name_plural = _("API sessions")
        ordering = ["-started_at"]
        verbose_name = _("API session")

    def __str__(self) -> str:
        return gettext("%(name)s since %(at)s") % {
            "name": self.staff.username,
            "at": f"{self.started_at:%Y-%m-%d %H:%M}",
        }


class LoginTicket(models.Model):
    """The half-way state of an API sign-in by an enrolled user: the password was right, the
    second factor is still to come. Valid for minutes, one use; only its hash is stored."""

    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("key hash"))
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))
    failures = models.PositiveSmallIntegerField(default=0, verbose_name=_("failures"))

    class Meta:
        verbose_name = _("sign-in ticket")
        verbose_name_plural = _("sign-in tickets")

    def __str__(self) -> str:
        return f"ticket of {self.staff_id}"

"""Who sits where and who still works here: the verbs that change a staff member's place in the
organisation and their lifecycle. Keyword-only, an explicit actor, one transaction, the row
locked.

These fields decide who approves an offboarding case and whose customers a manager sees, so
separation of duties starts here (issue 9, section 1):
- team, department, supervisor, groups and the active flag: administrators only;
- employment status: HR or an administrator; "departed" set by hand ends every access at once,
  exactly like the offboarding run's freeze step (`end_access`, which that step calls);
- a superuser's, an Administrator's or a Security officer's record: administrators only;
- a departed leaver comes back only through `reactivate_staff`, an administrator's act that
  sets a new password (the old one stops working).

Every change is in the change log (scrm.staff.changelog) with the verb's actor: rows are saved
one by one (a staff member, their few devices) so django-auditlog sees each, and what it cannot
see (blacklisted tokens, ended sessions) is recorded explicitly.

The platform names no domain app: what else holds a leaver back from returning (an open
offboarding case) is registered by its app (`register_return_check`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from scrm.audit.attribution import attributed
from scrm.staff import roles
from scrm.staff.changelog import record_access_ended
from scrm.staff.models import Department, Device, Staff, Team
from scrm.staff.tokens import end_token_sessions
from scrm.staff.types import Actor
from scrm.types import Text

# fn(staff) -> why the departed `staff` may not come back yet, or None (registered by apps)
_RETURN_CHECKS: list[Callable[[Staff], str | None]] = []


def register_return_check(check: Callable[[Staff], str | None]) -> None:
    _RETURN_CHECKS.append(check)


Status = Staff.Status

# Roles whose holders only an administrator may edit: each of them can see or change more than
# the HR officer who would otherwise edit them.
PROTECTED_ROLES = frozenset({roles.ADMINISTRATOR, roles.SECURITY_OFFICER})


def is_administrator(user: Actor) -> bool:
    """A superuser or a member of the Administrator group."""
    return bool(user.is_superuser or roles.ADMINISTRATOR in user.role_names)


def is_protected(staff: Staff) -> bool:
    """Whether only an administrator may edit this record."""
    return bool(staff.is_superuser or staff.role_names & PROTECTED_ROLES)


def may_edit(actor: Actor, staff: Staff) -> bool:
    return is_administrator(actor) or not is_protected(staff)


def _guard(actor: Actor, staff: Staff) -> None:
    if not may_edit(actor, staff):
        raise PermissionDenied(
            _("Only an administrator edits the record of an administrator or a security officer.")
        )


def _require_administrator(actor: Actor, what: Text) -> None:
    if not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator changes %(what)s.") % {"what": what})


def _locked(staff: Staff) -> Staff:
    return Staff.objects.select_for_update().get(pk=staff.pk)


@attributed
@transaction.atomic
def change_placement(
    *,
    actor: Actor,
    staff: Staff,
    department: Department | None,
    team: Team | None,
    supervisor: Staff | None,
) -> Staff:
    """Set department, team and supervisor (administrators only). Raises PermissionDenied, or
    ValidationError for a team outside the department or a supervisor loop."""
    _require_administrator(actor, _("teams, departments and supervisors"))
    staff = _locked(staff)
    _guard(actor, staff)
    errors: dict[str, str] = {}
    if team is not None and department is not None and team.department_id != department.pk:
        errors["team"] = _("Team %(team)s belongs to %(department)s, not to %(department2)s.") % {
            "team": team,
            "department": team.department,
            "department2": department,
        }
    if supervisor is not None and _supervises(staff, supervisor):
        errors["supervisor"] = _("%(username)s reports to %(username2)s: a loop.") % {
            "username": supervisor.username,
            "username2": staff.username,
        }
    if errors:
        raise ValidationError(errors)
    staff.department, staff.team, staff.supervisor = department, team, supervisor
    staff.save(update_fields=["department", "team", "supervisor"])
    return staff


def _supervises(staff: Staff, candidate: Staff) -> bool:
    """Whether `staff` is `candidate` or above them in the reporting line (a loop if set)."""
    seen: set[int] = set()
    current: Staff | None = candidate
    while current is not None and current.pk not in seen:
        if current.pk == staff.pk:
            return True
        seen.add(current.pk)
        current = current.supervisor
    return False


@attributed
@transaction.atomic
def set_groups(*, actor: Actor, staff: Staff, groups: Iterable[Group]) -> Staff:
    """Replace the staff member's roles (administrators only)."""
    _require_administrator(actor, _("roles"))
    staff = _locked(staff)
    staff.groups.set(list(groups))
    staff.__dict__.pop("role_names", None)
    return staff


@attributed
@transaction.atomic
def set_employment_status(
    *, actor: Actor, staff: Staff, status: str, notice_date: date | None = None
) -> Staff:
    """HR or an administrator sets active / notice / departed.

    "departed" ends every access at once (`end_access`). A departed staff member is not made
    active here: that is `reactivate_staff`. Raises PermissionDenied or ValidationError.
    """
    if not (is_administrator(actor) or roles.HR in actor.role_names):
        raise PermissionDenied(_("Only HR or an administrator changes an employment status."))
    if not actor.has_perm("staff.change_staff"):
        raise PermissionDenied(_("Your role may not change staff records."))
    if status not in Status.values:
        raise ValidationError(
            {
                "employment_status": _("Choose one of: %(choices)s.")
                % {"choices": ", ".join(Status.values)}
            }
        )
    staff = _locked(staff)
    _guard(actor, staff)
    if staff.employment_status == status:
        return staff
    if staff.employment_status == Status.DEPARTED:
        raise ValidationError(
            {
                "employment_status": f"{staff.username} has left: an administrator reactivates "
                "the account (with a new password) instead."
            }
        )
    if status == Status.DEPARTED:
        end_access(staff=staff, actor=actor)
        staff.refresh_from_db()
        return staff
    staff.employment_status = status
    if status == Status.NOTICE:
        staff.notice_date = notice_date or staff.notice_date or timezone.localdate()
    staff.save(update_fields=["employment_status", "notice_date"])
    return staff


@attributed
@transaction.atomic
def set_active(*, actor: Actor, staff: Staff, is_active: bool) -> Staff:
    """Switch an account on or off (administrators only). Switching off ends the account's
    tokens and sessions; a departed account is switched on only by `reactivate_staff`."""
    _require_administrator(actor, _("whether an account is active"))
    staff = _locked(staff)
    if staff.is_active == is_active:
        return staff
    if is_active and staff.employment_status == Status.DEPARTED:
        raise ValidationError(
            {"is_active": f"{staff.username} has left: reactivate the account with a new password."}
        )
    staff.is_active = is_active
    staff.save(update_fields=["is_active"])
    if not is_active:
        end_sessions(staff=staff, reason="deactivated")
    return staff


@attributed
@transaction.atomic
def reactivate_staff(*, actor: Actor, staff: Staff, new_password: str) -> Staff:
    """Bring a departed leaver back (administrators only): active again, with a new password so
    that whoever knew the old one (or kept a token) is locked out. Raises PermissionDenied, or
    ValidationError (not departed, an open offboarding case, a weak or reused password)."""
    _require_administrator(actor, _("who comes back"))
    staff = _locked(staff)
    if staff.employment_status != Status.DEPARTED:
        raise ValidationError(
            {"employment_status": _("%(name)s has not left.") % {"name": staff.display_name}}
        )
    for check in _RETURN_CHECKS:
        if (message := check(staff)) is not None:
            raise ValidationError({"employment_status": message})
    if staff.check_password(new_password):
        raise ValidationError({"new_password": _("Choose a password the account has not used.")})
    try:
        password_validation.validate_password(new_password, staff)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    staff.set_password(new_password)
    staff.is_active, staff.employment_status = True, Status.ACTIVE
    staff.departed_at = staff.notice_date = None
    staff.save(
        update_fields=["password", "is_active", "employment_status", "departed_at", "notice_date"]
    )
    return staff


@dataclass(frozen=True)
class AccessEnded:
    tokens_revoked: int
    sessions_ended: int
    devices_marked_for_wipe: int


@attributed
@transaction.atomic
def end_access(
    *, staff: Staff, actor: Actor | None = None, at: datetime | None = None
) -> AccessEnded:
    """Everything a departure takes away, in one place: the account is deactivated and marked
    departed, every JWT it holds is blacklisted, its browser sessions end and its devices are
    told to wipe. Idempotent (a second call keeps the first departure time). Callers decide who
    may do this (the offboarding freeze step, `set_employment_status`); `actor` is whom the
    change log names for it."""
    now = at or timezone.now()
    staff = _locked(staff)
    if staff.employment_status != Status.DEPARTED or staff.departed_at is None:
        staff.departed_at = now
    staff.is_active, staff.employment_status = False, Status.DEPARTED
    staff.save(update_fields=["is_active", "employment_status", "departed_at"])
    # A handful of devices per person: each saved (and logged) on its own.
    devices = list(
        Device.objects.select_for_update().filter(staff_id=staff.pk, wipe_requested_at__isnull=True)
    )
    for device in devices:
        device.staff, device.wipe_requested_at = staff, now
        device.save(update_fields=["wipe_requested_at"])
    tokens, sessions = _end_tokens_and_sessions(staff, now, "departed")
    return AccessEnded(
        tokens_revoked=tokens, sessions_ended=sessions, devices_marked_for_wipe=len(devices)
    )


@transaction.atomic
def sign_out_everywhere(*, actor: Actor, staff: Staff, reason: str = "logout_all") -> int:
    """End every sign-in of `staff`: their own "sign out everywhere", or an administrator's act
    for a lost phone. Raises PermissionDenied for anyone else."""
    if actor.pk != staff.pk and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator ends another account's sign-ins."))
    return end_sessions(staff=_locked(staff), reason=reason)


@transaction.atomic
def end_sessions(*, staff: Staff, reason: str) -> int:
    """End every sign-in of the account at once: its access and refresh tokens stop working on
    their next request and its browser sessions end. Returns the browser sessions ended.
    `reason` (deactivated, logout_all, mfa_reset, roles, lost_device, ...) is kept on each
    API session row."""
    return _end_tokens_and_sessions(staff, timezone.now(), reason)[1]


def _end_tokens_and_sessions(staff: Staff, now: datetime, reason: str) -> tuple[int, int]:
    # The generation in every token and in the browser session hash (scrm.staff.tokens):
    # raising it ends them all, whatever process or device holds them.
    Staff.objects.filter(pk=staff.pk).update(auth_generation=F("auth_generation") + 1)
    # The caller's instance too: a later save() of it must not write the old number back.
    staff.auth_generation = Staff.objects.values_list("auth_generation", flat=True).get(pk=staff.pk)
    end_token_sessions(staff=staff, reason=reason)
    tokens = OutstandingToken.objects.filter(user_id=staff.pk)
    live = list(tokens.exclude(blacklistedtoken__isnull=False))
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=t) for t in live], ignore_conflicts=True
    )
    # Sessions hold the user id only inside their encoded data: decode the live ones.
    sessions = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=now)
        if str(s.get_decoded().get("_auth_user_id")) == str(staff.pk)
    ]
    Session.objects.filter(pk__in=sessions).delete()
    # Neither table is in the change log: one explicit entry on the staff member says what ended.
    record_access_ended(staff=staff, tokens=len(live), sessions=len(sessions))
    return tokens.count(), len(sessions)

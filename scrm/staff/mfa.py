"""The second factor: who must have one, enrolment, verification, recovery codes.

django-otp keeps the devices (a TOTP device per authenticator app, a static device holding
the ten single-use recovery codes) and does the hard parts: the TOTP window, refusing a code
whose time step was already used (`last_t`), exponential back-off after failures. This module
decides who needs a second factor and wraps enrolment and verification as service verbs.

Privileged (SCRM_MFA_REQUIRED_ROLES, and every superuser): whoever may reveal identity data,
export raw data, approve or run offboarding, read or export the audit trail, or administer.
They must enrol before they can do anything in the admin, and their privileged API actions
answer 403 `mfa_required` unless the token was issued after a second factor.
"""

from __future__ import annotations

import hashlib
from base64 import b32encode
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import exceptions

from scrm.conflicts import Conflict
from scrm.staff.models import Staff
from scrm.staff.services import end_sessions, is_administrator
from scrm.staff.tokens import second_factor_used

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def base32_secret(key_hex: str) -> str:
    """A TOTP key as django-otp stores it (hex) in the base32 that authenticator apps take."""
    return b32encode(bytes.fromhex(key_hex)).decode()


def is_privileged(user: Viewer | None) -> bool:
    """Whether `user` must use a second factor (see the module docstring)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(user.role_names & frozenset(settings.SCRM_MFA_REQUIRED_ROLES))


class SecondFactorRequired(exceptions.PermissionDenied):
    default_detail = gettext_lazy(
        "This action needs a sign-in with a second factor (two-factor code)."
    )
    default_code = "mfa_required"


def has_second_factor(request) -> bool:
    """Whether this request's sign-in used a second factor: the access token says so, or the
    browser session was verified by django-otp (OTPMiddleware)."""
    token = getattr(request, "auth", None)
    if token is not None and hasattr(token, "payload"):
        return second_factor_used(token)
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def require_second_factor(request) -> None:
    """403 `mfa_required` for a privileged user whose sign-in used no second factor."""
    if is_privileged(request.user) and not has_second_factor(request):
        raise SecondFactorRequired()


def is_enrolled(user: Viewer) -> bool:
    """Whether `user` has a confirmed authenticator (recovery codes alone do not count)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class PendingEnrolment:
    device: TOTPDevice

    @property
    def secret(self) -> str:
        return base32_secret(self.device.key)

    @property
    def otpauth_uri(self) -> str:
        return self.device.config_url


def confirmed_authenticator(user: Viewer) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_enrolment(*, actor: Staff) -> PendingEnrolment | None:
    """The set-up already started (a reload of the enrolment page keeps its QR code)."""
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).last()
    return PendingEnrolment(device=device) if device else None


@transaction.atomic
def start_totp_enrolment(*, actor: Staff) -> PendingEnrolment:
    """A new, unconfirmed authenticator for `actor` (any earlier unconfirmed one is dropped).
    Refused while a confirmed one exists: replacing it is a reset by an administrator."""
    Staff.objects.select_for_update().get(pk=actor.pk)
    if is_enrolled(actor):
        raise Conflict({"totp": _("Two-factor authentication is already set up for this account.")})
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=actor, name=TOTP_NAME, confirmed=False)
    return PendingEnrolment(device=device)


def confirm_totp_enrolment(*, actor: Staff, code: str) -> list[str]:
    """Confirm the pending authenticator with a current code; returns ten new recovery codes
    (shown once). Raises ValidationError for no pending enrolment or a wrong code (raised after
    the transaction, so the failure django-otp counts for its back-off is kept)."""
    outcome = _confirm(actor, code)
    if outcome == "none":
        raise Conflict({"code": _("Start the set-up first: there is nothing to confirm.")})
    if outcome == "wrong":
        raise ValidationError({"code": _("The code is wrong or has expired; try the next one.")})
    assert isinstance(outcome, list)  # "none" and "wrong" were the two strings
    return outcome


@transaction.atomic
def _confirm(actor: Staff, code: str) -> list[str] | str:
    device = TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=False).last()
    if device is None:
        return "none"
    if not device.verify_token(_digits(code)):
        return "wrong"
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return _new_recovery_codes(actor)


def _new_recovery_codes(user: Staff) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _digits(code: str) -> str:
    return "".join(str(code or "").split())


@transaction.atomic
def verify_second_factor(*, user: Staff, code: str):
    """The device that accepts `code` (a current TOTP code, or an unused recovery code, which
    is then spent), or None. Devices are locked for the check, so one code cannot be accepted
    twice by two parallel requests; django-otp refuses a time step already used and backs off
    exponentially after failures."""
    code = _digits(code)
    if not code:
        return None
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        if device.verify_token(code.lower() if isinstance(device, StaticDevice) else code):
            return device
    return None


# --- demo accounts ------------------------------------------------------------------------
# seed_demo enrols the privileged demo accounts with secrets anyone can derive (README lists
# them), like the demo password: a newcomer signs in with any authenticator app or
# `manage.py demo_otp USER`. Only a device holding exactly this key counts as a demo device.
DEMO_DEVICE_NAME = "demo authenticator"


def demo_totp_key(username: str) -> str:
    """The demo account's TOTP key, hex (20 bytes, as django-otp stores it)."""
    return hashlib.sha1(f"scrm-demo-totp:{username}".encode()).hexdigest()


def demo_totp_secret(username: str) -> str:
    """The same key in base32, as authenticator apps take it (README's table)."""
    return base32_secret(demo_totp_key(username))


def enrol_demo_account(staff: Staff) -> bool:
    """Give a demo account its demo authenticator unless it has one; True when created."""
    if is_enrolled(staff):
        return False
    TOTPDevice.objects.filter(user=staff, confirmed=False).delete()
    TOTPDevice.objects.create(
        user=staff, name=DEMO_DEVICE_NAME, key=demo_totp_key(staff.username), confirmed=True
    )
    return True


def demo_code(staff: Staff) -> str:
    """The current code of a demo account. Raises ValueError for any other account: this must
    never print the code of a real authenticator."""
    device = TOTPDevice.objects.filter(
        user=staff, confirmed=True, key=demo_totp_key(staff.username)
    ).first()
    if device is None:
        raise ValueError(f"{staff.username} has no demo authenticator (seed_demo enrols those).")
    return current_code(device)


def current_code(device: TOTPDevice) -> str:
    """The code `device` shows now, as the authenticator app computes it."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


def recovery_codes_left(user: Staff) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def reset_second_factor(*, actor: Staff, staff: Staff) -> int:
    """Remove every device of `staff` (a lost phone): they enrol again at the next sign-in.
    Administrators only; ends every session and token of `staff`. Returns devices removed."""
    if not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator resets two-factor authentication."))
    removed = 0
    for device in devices_for_user(staff, confirmed=None):
        device.delete()
        removed += 1
    end_sessions(staff=staff, reason="mfa_reset")
    return removed

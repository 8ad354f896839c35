"""Lockout after repeated failed sign-ins (django-axes), and the record of every sign-in.

Two counters, each with its own limit (settings, defaults in brackets):
- per username, across every address [SCRM_LOCKOUT_USERNAME_FAILURES = 5 within
  SCRM_LOCKOUT_MINUTES = 15, locked for as long]: a botnet gets five guesses at an account,
  not five per machine;
- per address, across every username [SCRM_LOCKOUT_ADDRESS_FAILURES = 20]: one machine
  spraying a common password over many accounts.
The address is `scrm.client_ip` (X-Forwarded-For only behind SCRM_TRUSTED_PROXY_COUNT proxies).
The admin login, the API token, second-factor and refresh endpoints all feed and obey them.
The API answers 429 JSON with Retry-After; the admin a page saying when to try again.

Every successful and failed sign-in is an access event (`login`, `login_failed`, with the
channel); a lockout raises a SecurityAlert for the security officer.
"""

from typing import TYPE_CHECKING

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from scrm.audit.models import AccessAction, Channel, SecurityAlert
from scrm.audit.services import raise_alert, record_access
from scrm.staff.models import Staff
from scrm.staff.tokens import django_request

if TYPE_CHECKING:
    from scrm.staff.types import Actor

STAFF_MODEL = "staff.staff"


class LockoutHandler(AxesDatabaseHandler):
    """axes compares one failure count with one limit (AXES_FAILURE_LIMIT, the username
    limit here), the highest over its lockout parameters. This handler reports the username
    count as is, and an address count that reached its own, higher limit as the username
    limit: "locked" then means either counter reached its own limit."""

    def get_failures(self, request, credentials=None) -> int:
        by_username, by_address = (
            sum(a.failures_since_start for a in attempts)
            for attempts in self.get_user_attempts(request, credentials)
        )
        if not get_client_username(request, credentials):
            # A forged refresh token names no account: it counts for the address only (one
            # shared "no username" counter would let anyone lock every such request).
            by_username = 0
        if by_address >= settings.SCRM_LOCKOUT_ADDRESS_FAILURES:
            return max(by_username, settings.AXES_FAILURE_LIMIT)
        return by_username


def locked_out(request, *, username: str | None = None) -> bool:
    """Whether this sign-in attempt is refused by a lockout. With `username`, asks axes for
    that username and the request's address (second factor, refresh); without, reports what
    `authenticate()` found. Marks the request so AxesMiddleware answers with the lockout."""
    request = django_request(request)
    if getattr(request, "axes_locked_out", False):
        return True
    if username is None:
        return False
    credentials = {"username": username}
    if AxesProxyHandler.is_allowed(request, credentials):
        return False
    request.axes_locked_out = True
    request.axes_credentials = credentials
    return True


def record_failed_step(request, username: str) -> None:
    """A failed step after the password (a wrong code, a refused refresh token): axes counts
    it against the username and the address, like a wrong password, and `record_login_failed`
    writes its access event."""
    user_login_failed.send(
        sender=Staff, credentials={"username": username}, request=django_request(request)
    )


def retry_after_seconds() -> int:
    return settings.SCRM_LOCKOUT_MINUTES * 60


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 JSON with Retry-After for the API, a page for the admin."""
    minutes = settings.SCRM_LOCKOUT_MINUTES
    detail = _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "detail": detail}, status=429)
    else:
        response = render(
            request, "admin/locked_out.html", {"detail": detail, "title": _("Locked")}, status=429
        )
    response["Retry-After"] = str(retry_after_seconds())
    return response


def _channel(request) -> str:
    if request is None:
        return Channel.CLI
    return Channel.API if request.path.startswith("/api/") else Channel.ADMIN


def _record_own(action: str, request, user: "Actor") -> None:
    record_access(
        actor=user,
        action=action,
        model=STAFF_MODEL,
        object_ids=[user.pk],
        channel=_channel(request),
        request=request,
    )


@receiver(user_logged_in, dispatch_uid="scrm.record_login")
def record_login(sender, request, user: "Actor", **kwargs):
    _record_own(AccessAction.LOGIN, request, user)


@receiver(user_logged_out, dispatch_uid="scrm.record_logout")
def record_logout(sender, request, user: "Actor | None", **kwargs):
    if user is not None:  # signing out of a session that had no user
        _record_own(AccessAction.LOGOUT, request, user)


def _account(username: str):
    return Staff.objects.filter(username=username).first() if username else None


@receiver(user_login_failed, dispatch_uid="scrm.record_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")[:150]
    account = _account(username)
    record_access(
        actor=None,
        action=AccessAction.LOGIN_FAILED,
        model=STAFF_MODEL,
        object_ids=[account.pk] if account else [],
        channel=_channel(request),
        request=request,
        query={"username": username},
        allowed=False,
    )


@receiver(user_locked_out, dispatch_uid="scrm.alert_lockout")
def alert_lockout(sender, request, username, ip_address, **kwargs):
    account = _account(username or "")
    raise_alert(
        kind="login_lockout",
        severity=SecurityAlert.Severity.HIGH,
        actor=account,
        message=_(
            "Sign-ins locked for %(minutes)d minutes after repeated failures: "
            "username %(username)s, address %(address)s."
        )
        % {
            "minutes": settings.SCRM_LOCKOUT_MINUTES,
            "username": username or "-",
            "address": ip_address or "-",
        },
        obj=account,
    )

"""API sign-in sessions and the tokens that belong to them.

simplejwt signs and rotates the tokens; scrm adds what makes them end when they should:
- `gen`: the account's `auth_generation` when issued. A password change, deactivation, a role
  change, a two-factor reset or "sign out everywhere" raises it, so every outstanding access
  and refresh token of the account stops working at once (checked on each request against the
  account row the request loads anyway);
- `sid`: the sign-in (`TokenSession`) the token belongs to. Logout ends that session, and with
  it its access token at once, not only when it expires;
- `amr` / `otp_at`: whether (and when) a second factor was used (RFC 8176 method names);
- the session's absolute end (JWT_SESSION_MAX_DAYS from the sign-in): a refresh never issues a
  token that outlives it.
A refresh token used twice (replayed after its rotation) ends its whole session: one of the
two holders is not the client.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from scrm.client_ip import client_ip
from scrm.staff.models import Staff, TokenSession

GENERATION, SESSION, METHODS, OTP_AT = "gen", "sid", "amr", "otp_at"


class SessionEnded(AuthenticationFailed):
    default_detail = gettext_lazy("This sign-in has ended: sign in again.")
    default_code = "session_ended"


def session_max_age() -> timedelta:
    return timedelta(days=settings.JWT_SESSION_MAX_DAYS)


def _timestamp(at: datetime) -> int:
    return int(at.timestamp())


@transaction.atomic
def issue_tokens(*, staff: Staff, request, second_factor: bool) -> dict[str, str]:
    """A new API sign-in for `staff`: its session row and its first access + refresh pair.
    Sends `user_logged_in` (last login, the login record, axes' access log)."""
    now = timezone.now()
    session = TokenSession.objects.create(
        sid=secrets.token_hex(16),
        staff=staff,
        started_at=now,
        expires_at=now + session_max_age(),
        second_factor=second_factor,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        ip_address=client_ip(request),
    )
    refresh = RefreshToken.for_user(staff)
    refresh[GENERATION] = staff.auth_generation
    refresh[SESSION] = session.sid
    refresh[METHODS] = ["pwd", "otp"] if second_factor else ["pwd"]
    if second_factor:
        refresh[OTP_AT] = _timestamp(now)
    _cap_expiry(refresh, session)
    # In the same transaction: the sign-in's access event is as durable as the session row.
    user_logged_in.send(sender=Staff, request=django_request(request), user=staff)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _cap_expiry(refresh: RefreshToken, session: TokenSession) -> None:
    if refresh["exp"] > _timestamp(session.expires_at):
        refresh["exp"] = _timestamp(session.expires_at)


def rotate(*, raw_refresh: str) -> dict[str, str]:
    """The refresh endpoint: a new access token and the next refresh token of the same session.
    Raises AuthenticationFailed (`token_not_valid`, `session_ended`, `user_inactive`)."""
    try:
        # simplejwt annotates its raw-token parameters as Token; they take the encoded string.
        token_backend.decode(raw_refresh, verify=True)  # type: ignore[arg-type]  # signature, expiry
        refresh = RefreshToken(raw_refresh, verify=False)  # type: ignore[arg-type]  # blacklist below
        refresh.verify_token_type()
    except (TokenError, TokenBackendError) as exc:
        raise InvalidToken(str(exc)) from None
    session = _open_session(refresh)
    if BlacklistedToken.objects.filter(token__jti=refresh[jwt_settings.JTI_CLAIM]).exists():
        # Used before: whoever holds the newer token and whoever replays this one cannot both
        # be the client. End the session for both (committed, then refused).
        _end(TokenSession.objects.filter(pk=session.pk), "refresh_reused")
        raise SessionEnded(_("This refresh token was already used; the sign-in has ended."))
    return _next_pair(refresh, session)


@transaction.atomic
def _next_pair(refresh: RefreshToken, session: TokenSession) -> dict[str, str]:
    refresh.blacklist()
    data = {"access": str(refresh.access_token)}
    refresh.set_jti()
    refresh.set_exp()
    refresh.set_iat()
    _cap_expiry(refresh, session)
    refresh.outstand()
    data["refresh"] = str(refresh)
    return data


def _open_session(token) -> TokenSession:
    session = (
        TokenSession.objects.select_related("staff").filter(sid=token.get(SESSION, "")).first()
    )
    now = timezone.now()
    if session is None or session.ended_at is not None or session.expires_at <= now:
        raise SessionEnded()
    staff = session.staff
    if not staff.is_active:
        raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
    if token.get(GENERATION) != staff.auth_generation:
        raise SessionEnded()
    return session


def _end(sessions, reason: str) -> int:
    """Mark the open ones of `sessions` (a TokenSession queryset) ended; returns how many."""
    return sessions.filter(ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason[:40]
    )


@transaction.atomic
def logout(*, raw_refresh: str, request) -> None:
    """End the sign-in a refresh token belongs to (expired tokens too: a client that was off
    for a week may still sign out), recorded as a `logout` access event. Raises InvalidToken
    for a token scrm did not sign."""
    if signed_payload(raw_refresh) is None:
        raise InvalidToken(_("Token is invalid"))
    try:
        # Signature checked just above (simplejwt annotates the raw token as Token: a str).
        refresh = RefreshToken(raw_refresh, verify=False)  # type: ignore[arg-type]
        refresh.verify_token_type()
    except TokenError as exc:
        raise InvalidToken(str(exc)) from None
    session = TokenSession.objects.select_related("staff").filter(sid=refresh.get(SESSION, ""))
    if _end(session, "logout"):
        user_logged_out.send(
            sender=Staff, request=django_request(request), user=session.get().staff
        )


def django_request(request):
    """The Django HttpRequest under a DRF Request: django-axes and the auth signals mark and
    read attributes on it, and AxesMiddleware sees only that object."""
    return getattr(request, "_request", request)


def end_token_sessions(*, staff: Staff, reason: str) -> int:
    """Mark every open API session of `staff` ended (the generation bump already stops their
    tokens; this keeps the session list honest)."""
    return _end(TokenSession.objects.filter(staff=staff), reason)


def signed_payload(raw: str) -> dict | None:
    """The claims of a token scrm signed, expired or not; None for anything else.

    PyJWT checks the signature (and audience/issuer) but not the expiry here."""
    try:
        return jwt.decode(
            raw,
            token_backend.get_verifying_key(raw),  # type: ignore[arg-type]  # a str, as above
            algorithms=[token_backend.algorithm],
            audience=token_backend.audience,
            issuer=token_backend.issuer,
            options={"verify_exp": False, "verify_aud": token_backend.audience is not None},
        )
    except jwt.PyJWTError:
        return None


def signed_user_id(raw: str):
    """The user id of a token scrm signed, expired or not; None for anything else."""
    payload = signed_payload(raw)
    return None if payload is None else payload.get(jwt_settings.USER_ID_CLAIM)


def second_factor_used(token) -> bool:
    return token is not None and "otp" in (token.get(METHODS) or [])


class ScrmJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check, plus: the account's generation and the token's session
    must still be current. One query: the account row with its session's state."""

    def get_user(self, validated_token):
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        open_session = TokenSession.objects.filter(
            staff=OuterRef("pk"),
            sid=validated_token.get(SESSION, ""),
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        user = (
            Staff.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id})
            .annotate(session_open=Exists(open_session))
            .first()
        )
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if validated_token.get(GENERATION) != user.auth_generation or not user.session_open:
            raise SessionEnded()
        return user

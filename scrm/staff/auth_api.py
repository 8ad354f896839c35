"""Sign-in for API clients: password, then (for enrolled accounts) the second factor; refresh;
logout; two-factor enrolment. Failures feed django-axes (lockout by username and by address,
see scrm.staff.lockout), successes and failures are access events.

    POST auth/token/             {username, password}  -> {access, refresh}
                                 or {mfa_required: true, ticket, methods: ["totp"]}
    POST auth/token/mfa/         {ticket, code}        -> {access, refresh}
    POST auth/token/refresh/     {refresh}             -> {access, refresh}
    POST auth/logout/            {refresh}             -> 204 (that sign-in ends)
    POST auth/logout/all/                              -> 204 (every sign-in of the caller)
    POST auth/mfa/totp/                                -> {secret, otpauth_uri}
    POST auth/mfa/totp/confirm/  {code}                -> {recovery_codes}
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import authenticate, user_logged_out
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.strict import StrictSerializer
from scrm.api.viewsets import DeclaredScopeMixin, Public, WriteOnly
from scrm.staff import mfa
from scrm.staff.lockout import locked_out, record_failed_step
from scrm.staff.models import LoginTicket, Staff
from scrm.staff.services import sign_out_everywhere
from scrm.staff.tokens import django_request, issue_tokens, logout, rotate, signed_user_id

TICKET_MINUTES = 5
TICKET_MAX_FAILURES = 5
SIGN_IN = Public("the sign-in door: anonymous by design; answers only the caller's own tokens")


class _PostOnly(DeclaredScopeMixin, APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # django-axes counts failures instead (per username, per address)

    def get_authenticate_header(self, request) -> str:
        # No authenticator here, yet a refused token is a 401 (DRF would answer 403).
        return 'Bearer realm="api"'


ACCESS_HELP = "JWT access token: send it as `Authorization: Bearer <access>` (15 minutes)."
REFRESH_HELP = "Refresh token: exchange it at auth/token/refresh/ for a new pair (single use)."


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text=ACCESS_HELP)
    refresh = serializers.CharField(help_text=REFRESH_HELP)


class CredentialsSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150, help_text="The staff member's username.")
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text="Their password."
    )


class ObtainToken(_PostOnly):
    scope_actions = {"post": SIGN_IN}

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: inline_serializer(
                "SignInAnswer",
                {
                    "access": serializers.CharField(
                        required=False, help_text=f"{ACCESS_HELP} Absent when mfa_required."
                    ),
                    "refresh": serializers.CharField(
                        required=False, help_text=f"{REFRESH_HELP} Absent when mfa_required."
                    ),
                    "mfa_required": serializers.BooleanField(
                        required=False,
                        help_text="True: no tokens yet; post the ticket and a code to "
                        "auth/token/mfa/.",
                    ),
                    "ticket": serializers.CharField(
                        required=False,
                        help_text="Single-use ticket for auth/token/mfa/, valid 5 minutes.",
                    ),
                    "methods": serializers.ListField(
                        child=serializers.CharField(),
                        required=False,
                        help_text="Second factors the account has: `totp`.",
                    ),
                },
            ),
            401: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Locked out after repeated failures."),
        },
        description="Sign in with a password. Accounts with an authenticator (every "
        "privileged role) get a ticket instead of tokens: finish at auth/token/mfa/.",
        examples=[
            OpenApiExample("A rep signs in", value={"username": "rep1", "password": "••••••••"}),
            OpenApiExample(
                "Tokens (no second factor enrolled)",
                value={"access": "eyJhbGciOiJIUzI1NiIs...", "refresh": "eyJhbGciOiJIUzI1NiIs..."},
                response_only=True,
            ),
            OpenApiExample(
                "A second factor is needed",
                value={"mfa_required": True, "ticket": "q9X2...kE", "methods": ["totp"]},
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        form = CredentialsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        credentials = form.validated_data
        user = authenticate(django_request(request), **credentials)
        if locked_out(request):
            return Response(status=status.HTTP_429_TOO_MANY_REQUESTS)  # axes answers it
        if user is None:
            raise AuthenticationFailed(
                _("No active account found with the given credentials."), "invalid_credentials"
            )
        if mfa.is_enrolled(user):
            return Response(
                {"mfa_required": True, "ticket": _new_ticket(user), "methods": ["totp"]}
            )
        return Response(issue_tokens(staff=user, request=request, second_factor=False))


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_ticket(user: Staff) -> str:
    key = secrets.token_urlsafe(32)
    LoginTicket.objects.create(
        key_hash=_hash(key),
        staff=user,
        expires_at=timezone.now() + timedelta(minutes=TICKET_MINUTES),
    )
    return key


class SecondFactorSerializer(StrictSerializer):
    ticket = serializers.CharField(max_length=100, help_text="The ticket auth/token/ answered.")
    code = serializers.CharField(max_length=32, help_text="TOTP code or a recovery code")


class ObtainTokenWithSecondFactor(_PostOnly):
    scope_actions = {"post": SIGN_IN}

    @extend_schema(
        request=SecondFactorSerializer,
        responses={
            200: TokenPairSerializer,
            400: OpenApiResponse(description="Wrong code, or the ticket expired or was used."),
            429: OpenApiResponse(description="Locked out after repeated failures."),
        },
    )
    def post(self, request):
        form = SecondFactorSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        ticket = _open_ticket(form.validated_data["ticket"])
        user = ticket.staff
        if locked_out(request, username=user.username):
            return Response(status=status.HTTP_429_TOO_MANY_REQUESTS)
        device = mfa.verify_second_factor(user=user, code=form.validated_data["code"])
        if device is None or not user.is_active:
            LoginTicket.objects.filter(pk=ticket.pk).update(failures=F("failures") + 1)
            record_failed_step(request, user.username)
            if locked_out(request, username=user.username):
                return Response(status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise serializers.ValidationError({"code": [_("The code is wrong or was used.")]})
        with transaction.atomic():
            spent = LoginTicket.objects.filter(pk=ticket.pk, used_at__isnull=True).update(
                used_at=timezone.now()
            )
            if not spent:  # a parallel request used it first
                raise serializers.ValidationError({"ticket": [_("This ticket was already used.")]})
            return Response(issue_tokens(staff=user, request=request, second_factor=True))


def _open_ticket(key: str) -> LoginTicket:
    ticket = (
        LoginTicket.objects.select_related("staff")
        .filter(
            key_hash=_hash(key),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            failures__lt=TICKET_MAX_FAILURES,
        )
        .first()
    )
    if ticket is None:
        raise serializers.ValidationError(
            {"ticket": [_("The ticket has expired or was used: sign in again.")]}
        )
    return ticket


class RefreshSerializer(StrictSerializer):
    # Shaped like a JWT (three base64url parts), so the schema tells clients what a token is;
    # one that is not scrm's answers 401.
    refresh = serializers.RegexField(
        r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        max_length=4096,
        help_text="A refresh token.",
    )


class RefreshToken(_PostOnly):
    scope_actions = {"post": SIGN_IN}

    @extend_schema(
        request=RefreshSerializer,
        responses={
            200: TokenPairSerializer,
            401: OpenApiResponse(description="The token or its sign-in has ended."),
            429: OpenApiResponse(description="Locked out after repeated failures."),
        },
    )
    def post(self, request):
        form = RefreshSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        raw = form.validated_data["refresh"]
        username = _username_of(raw)
        if locked_out(request, username=username):
            return Response(status=status.HTTP_429_TOO_MANY_REQUESTS)
        try:
            return Response(rotate(raw_refresh=raw))
        except AuthenticationFailed:
            record_failed_step(request, username)
            raise


def _username_of(raw: str) -> str:
    user_id = signed_user_id(raw)
    if user_id is None:
        return ""
    return Staff.objects.filter(pk=user_id).values_list("username", flat=True).first() or ""


class Logout(_PostOnly):
    scope_actions = {"post": WriteOnly("ends the sign-in the posted refresh token belongs to")}

    @extend_schema(
        request=RefreshSerializer,
        responses={
            204: None,
            401: OpenApiResponse(description="Not a refresh token scrm signed."),
        },
    )
    def post(self, request):
        form = RefreshSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        logout(raw_refresh=form.validated_data["refresh"], request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutEverywhere(DeclaredScopeMixin, APIView):
    scope_actions = {"post": WriteOnly("ends every sign-in and session of the caller")}
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        sign_out_everywhere(actor=request.user, staff=request.user)
        user_logged_out.send(sender=Staff, request=django_request(request), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpEnrolment(DeclaredScopeMixin, APIView):
    scope_actions = {"post": WriteOnly("a new authenticator secret for the caller only")}
    permission_classes = [IsAuthenticated]
    error_responses = {
        "post": {409: "The account already has an authenticator (an administrator resets it)."}
    }

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "TotpSecret",
                {
                    "secret": serializers.CharField(help_text="Base32 secret for the app."),
                    "otpauth_uri": serializers.CharField(
                        help_text="otpauth:// URI of the secret (for a QR code)."
                    ),
                },
            )
        },
    )
    def post(self, request):
        pending = mfa.start_totp_enrolment(actor=request.user)
        return Response(
            {"secret": pending.secret, "otpauth_uri": pending.otpauth_uri},
            status=status.HTTP_201_CREATED,
        )


class CodeSerializer(StrictSerializer):
    code = serializers.CharField(max_length=32, help_text="A code the new authenticator shows.")


class TotpConfirmation(DeclaredScopeMixin, APIView):
    scope_actions = {"post": WriteOnly("confirms the caller's own authenticator")}
    permission_classes = [IsAuthenticated]
    error_responses = {"post": {409: "There is no set-up to confirm: start one first."}}

    @extend_schema(
        request=CodeSerializer,
        responses={
            200: inline_serializer(
                "RecoveryCodes",
                {
                    "recovery_codes": serializers.ListField(
                        child=serializers.CharField(),
                        help_text="Single-use codes in place of the app; shown once.",
                    )
                },
            )
        },
    )
    def post(self, request):
        form = CodeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        codes = mfa.confirm_totp_enrolment(actor=request.user, code=form.validated_data["code"])
        return Response({"recovery_codes": codes})

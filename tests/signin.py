"""Signing test clients in the way a real user would be: with a second factor where the role
needs one (scrm.staff.mfa), so the suites exercise the same gates as production."""

from django.test import Client, RequestFactory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from scrm.staff.mfa import current_code, is_privileged
from scrm.staff.tokens import issue_tokens

TEST_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, hex


def enrol(user, key: str = TEST_TOTP_KEY) -> TOTPDevice:
    """A confirmed authenticator for `user` (the one already there, if any)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", key=key, confirmed=True)


def fresh_code(device: TOTPDevice) -> str:
    """A code the device will accept now. django-otp refuses a time step already used (replay
    protection); a test signing the same user in twice within 30 s forgets the last use."""
    device.refresh_from_db()
    device.last_t = -1
    device.throttling_failure_count = 0
    device.save(update_fields=["last_t", "throttling_failure_count"])
    return current_code(device)


def verified_login(client: Client, user) -> Client:
    """`client.force_login(user)`, and for a privileged user an authenticator and a session
    that django-otp marks verified: what the admin's code step leaves behind."""
    # The session hash covers the password and the sign-in generation: use the stored ones
    # (another instance of the account may have changed them since this one was loaded).
    user.refresh_from_db(fields=["password", "auth_generation"])
    client.force_login(user)
    if is_privileged(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = enrol(user).persistent_id
        session.save()
    return client


def second_factor_token(user) -> AccessToken:
    """An access token as /auth/token/mfa/ issues it (methods pwd + otp)."""
    token = AccessToken.for_user(user)
    token["amr"] = ["pwd", "otp"]
    return token


def signed_in_token(user) -> str:
    """A real API sign-in with a second factor, as /auth/token/mfa/ ends it: a session row and
    its access token, which the API's own authentication accepts (a bare `second_factor_token`
    is only good for `force_authenticate`: it names no session)."""
    request = RequestFactory().post("/api/v1/auth/token/mfa/", HTTP_USER_AGENT="tests")
    return issue_tokens(staff=user, request=request, second_factor=True)["access"]


def api_client(user, *, second_factor: bool = True) -> APIClient:
    """An APIClient acting as `user` (DRF force_authenticate), by default with a token that
    used a second factor; `second_factor=False` for the `mfa_required` tests."""
    client = APIClient()
    client.force_authenticate(user=user, token=second_factor_token(user) if second_factor else None)
    return client

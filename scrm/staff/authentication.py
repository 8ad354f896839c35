from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from scrm.staff.models import Device
from scrm.staff.tokens import ScrmJWTAuthentication, signed_user_id

DEVICE_HEADER = "HTTP_X_DEVICE_ID"


class DeviceWiped(AuthenticationFailed):
    default_detail = _("This device has been wiped: erase the local data and sign in again.")
    default_code = "device_wiped"


def _bearer_token(request) -> str | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].decode(errors="replace") not in jwt_settings.AUTH_HEADER_TYPES:
        return None
    return parts[1].decode(errors="replace")


def _active_account(raw: str) -> bool:
    """A currently valid access token of an active account (simplejwt's own checks)."""
    auth = ScrmJWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(raw.encode())).is_active
    except (InvalidToken, TokenError, AuthenticationFailed):
        return False


class DeviceWipeAuthentication(BaseAuthentication):
    """First in the chain: the client of a device marked for wipe answers 401 `device_wiped`.

    Only a caller who proves to be that client learns it: the request must carry a token we
    signed for the device's own staff member (even expired, even of the now inactive leaver:
    the phone was signed in when the wipe was ordered), or a valid token of an active account
    (a colleague signing in on a reassigned phone must erase the old data too). Anyone else —
    an anonymous caller trying device ids — gets exactly the answer a device that was never
    wiped gets (the chain goes on, usually 401 `not_authenticated`): the header alone is no
    oracle for which devices were wiped, i.e. whose phones belonged to leavers.

    It runs before JWT authentication on purpose: the leaver's account is already inactive,
    and the client must learn to erase its data rather than just "invalid credentials".
    """

    def authenticate(self, request):
        device_id = request.META.get(DEVICE_HEADER)
        if not device_id:
            return None
        raw = _bearer_token(request)
        if raw is None:
            return None
        device = (
            Device.objects.filter(device_id=device_id, wipe_requested_at__isnull=False)
            .only("staff_id")
            .first()
        )
        if device is None:
            return None
        owner = signed_user_id(raw)  # expired too: see the class docstring
        if (owner is not None and str(owner) == str(device.staff_id)) or _active_account(raw):
            raise DeviceWiped()
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class DeviceWipeSchema(OpenApiAuthenticationExtension):
    """For the OpenAPI schema: not a way to sign in (it only refuses a wiped device's own
    token), so it adds no security scheme; the JWT scheme describes the credential."""

    target_class = DeviceWipeAuthentication
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []


class ScrmJWTScheme(SimpleJWTScheme):
    """For the OpenAPI schema: scrm's JWT check is simplejwt's bearer token, with more checks."""

    # drf-spectacular takes the class (or its dotted path); the stubs name only the str.
    target_class = ScrmJWTAuthentication  # type: ignore[assignment]

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from scrm.staff.models import Device

DEVICE_HEADER = "HTTP_X_DEVICE_ID"


class DeviceWiped(AuthenticationFailed):
    default_detail = "This device has been wiped: erase the local data and sign in again."
    default_code = "device_wiped"


class DeviceWipeAuthentication(BaseAuthentication):
    """First in the chain: a call from a device marked for wipe answers 401 `device_wiped`.

    It runs before JWT authentication on purpose: the leaver's account is already inactive,
    and the client must learn to erase its data rather than just "invalid credentials".
    """

    def authenticate(self, request):
        device_id = request.META.get(DEVICE_HEADER)
        if (
            device_id
            and Device.objects.filter(device_id=device_id, wipe_requested_at__isnull=False).exists()
        ):
            raise DeviceWiped()
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

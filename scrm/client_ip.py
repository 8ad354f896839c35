"""The client's address, the same for the audit trail, the lockout and the API throttle.

`REMOTE_ADDR` unless SCRM_TRUSTED_PROXY_COUNT says how many reverse proxies stand in front of
scrm: then the address that many hops from the right of `X-Forwarded-For` (each proxy appends
the address it received from). A client can write anything into the header, so without a
trusted proxy it is ignored: rotating it must not buy an attacker fresh lockout counters.
DRF's throttle (NUM_PROXIES) and django-axes (AXES_CLIENT_IP_CALLABLE) are set to this too.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    meta = getattr(request, "META", None) or {}
    remote = meta.get("REMOTE_ADDR") or None
    proxies = settings.SCRM_TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    return hops[-proxies]

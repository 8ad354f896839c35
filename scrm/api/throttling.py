"""The API's request-rate throttle, and the RateLimit headers that tell clients where they are.

Every throttled API answer (DRF's per-user rate, SCRM_API_USER_RATE) carries
`RateLimit-Limit` (requests per window), `RateLimit-Remaining` (left in this window) and
`RateLimit-Reset` (seconds until the oldest counted request leaves the window), the fields of
the IETF RateLimit header draft. A 429 also carries `Retry-After` (seconds): DRF's throttle,
the hourly reveal and lookup budgets (scrm.api.errors) and the sign-in lockout
(scrm.staff.lockout) all set it; `ApiJsonErrorsMiddleware` makes sure no /api/ 429 goes out
without one. Sign-in endpoints have no request throttle (django-axes counts failures), so
they carry no RateLimit headers.
"""

import math

from rest_framework.throttling import UserRateThrottle

RATE_LIMIT_ATTR = "scrm_rate_limit"


class ScrmUserRateThrottle(UserRateThrottle):
    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if self.rate is not None and hasattr(self, "history"):
            remaining = max(0, self.num_requests - len(self.history)) if allowed else 0
            reset = (
                math.ceil(self.history[-1] + self.duration - self.now)
                if self.history
                else self.duration
            )
            # On Django's request: the middleware that writes the headers sees that one.
            setattr(
                request._request,
                RATE_LIMIT_ATTR,
                (self.num_requests, remaining, max(0, reset)),
            )
        return allowed


def rate_limit_headers(django_request, response) -> None:
    limits = getattr(django_request, RATE_LIMIT_ATTR, None)
    if limits is None:
        return
    limit, remaining, reset = limits
    response["RateLimit-Limit"] = str(limit)
    response["RateLimit-Remaining"] = str(remaining)
    response["RateLimit-Reset"] = str(reset)

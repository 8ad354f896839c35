from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from scrm.staff.tokens import ScrmJWTAuthentication


def _jwt_user(request: HttpRequest) -> Any:
    try:
        # The project's check (generation, sign-in still open): an ended token names no actor.
        # Typed for DRF's Request, it reads only the Authorization header (request.META), which
        # the plain Django request carries: the actor is needed before any DRF view runs.
        result = ScrmJWTAuthentication().authenticate(request)  # type: ignore[arg-type]
    except (AuthenticationFailed, InvalidToken, TokenError):
        return None
    return result[0] if result else None


class ActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, also knowing the actor of JWT-authenticated API calls.

    auditlog reads `request.user`, which is anonymous for JWT requests because DRF authenticates
    inside the view. The actor is resolved lazily, so reads that write no log entry pay nothing.
    """

    @staticmethod
    def _get_actor(request: HttpRequest) -> Any:
        actor = AuditlogMiddleware._get_actor(request)
        if actor is not None or "HTTP_AUTHORIZATION" not in request.META:
            return actor
        return SimpleLazyObject(lambda: _jwt_user(request))

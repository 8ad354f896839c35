"""Every error under /api/ in the API's one JSON shape, whoever produced it.

DRF's views already answer `{"code", "detail", "errors"?}` (scrm.api.errors). What answers
before or around them does not: a path no URL matches (Django's 404 page, the technical 404
with DEBUG), an uncaught exception (the 500 page, the debug traceback with DEBUG), a
`SuspiciousOperation` such as too many form or query fields (`TooManyFieldsSent`, 400), a body
over DATA_UPLOAD_MAX_MEMORY_SIZE read outside DRF. This middleware replaces those HTML answers
on /api/ paths with the JSON shape and the same status; the admin keeps its HTML pages. A
traceback never leaves the server: Django has logged it before the answer is replaced.

It also writes the RateLimit headers of throttled answers and a Retry-After on any 429 that
lacks one (scrm.api.throttling).

The API documentation pages (/api/docs/, /api/redoc/) are HTML and stay so when they succeed.
"""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

from scrm.api.throttling import rate_limit_headers

API_PREFIX = "/api/"
# A 429 that did not say when to come back (every known one does): a minute.
DEFAULT_RETRY_AFTER = 60

# status -> (code, detail) for answers that carry no more specific reason.
# DRF's own sentences where it has one (translated in its catalogue).
GENERIC = {
    400: ("bad_request", _("The request could not be understood.")),
    401: ("not_authenticated", exceptions.NotAuthenticated.default_detail),
    403: ("permission_denied", exceptions.PermissionDenied.default_detail),
    404: ("not_found", exceptions.NotFound.default_detail),
    405: ("method_not_allowed", _("Method not allowed.")),
    413: ("request_too_large", _("The request body is too large.")),
    500: ("server_error", _("The server could not answer this request; it has been logged.")),
}


def envelope(status: int, code: str | None = None, detail=None) -> JsonResponse:
    generic_code, generic_detail = GENERIC.get(
        status, GENERIC[500] if status >= 500 else GENERIC[400]
    )
    return JsonResponse(
        {"code": code or generic_code, "detail": str(detail or generic_detail)}, status=status
    )


class ApiJsonErrorsMiddleware:
    """Outermost but one (after SecurityMiddleware): sees every answer of an /api/ path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX):
            return response
        rate_limit_headers(request, response)
        if response.status_code == 429 and "Retry-After" not in response:
            response["Retry-After"] = str(DEFAULT_RETRY_AFTER)
        if response.status_code < 400:
            return response
        if isinstance(response, Response) or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response  # DRF's answer: already the envelope (or the browsable page of it)
        reason = getattr(request, "_api_error", None)
        replaced = envelope(response.status_code, *(reason or ()))
        for header in (
            "Allow",
            "Retry-After",
            "WWW-Authenticate",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ):
            if header in response:
                replaced[header] = response[header]
        return replaced

    def process_exception(self, request, exception):
        # Only views' exceptions come here; remember what went wrong, let Django answer (and
        # log) as usual, and __call__ replaces the answer.
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, TooManyFieldsSent):
            request._api_error = (
                "too_many_fields",
                _("The request has too many fields."),
            )
        elif isinstance(exception, RequestDataTooBig):
            request._api_error = ("request_too_large", _("The request body is too large."))
        return None

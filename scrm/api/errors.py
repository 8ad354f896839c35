"""One JSON error shape for the whole API.

    {"code": "invalid", "detail": "Invalid input.", "errors": {"mobile": ["..."]}}

`errors` is present for validation failures (400 `invalid`) and state conflicts (409
`conflict`: valid input that the record's current state does not allow) only: field name -> list
of messages, always flat (an item of a list field or a nested field is named with dots,
`customers.2`, `plan.kind`), so a generated client reads one type. Django ValidationError
(scrm.conflicts.Conflict among them) and PermissionDenied raised by services are translated
here so views stay thin.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scrm.audit.read_budget import ReadsBlocked
from scrm.conflicts import Conflict
from scrm.masking.lookups import LookupLimitExceeded
from scrm.masking.reveal import RevealLimitExceeded


class RevealThrottled(exceptions.Throttled):
    default_detail = _("Reveal limit reached for this hour; security has been notified.")
    default_code = "reveal_limit"


class ReadsBlockedError(exceptions.PermissionDenied):
    default_code = "reads_blocked"


class LookupThrottled(exceptions.Throttled):
    default_detail = _("Lookup limit reached for this hour; security has been notified.")
    default_code = "lookup_limit"


class TooManyFields(exceptions.ParseError):
    default_detail = _("The request has too many fields.")
    default_code = "too_many_fields"


class StateConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The record's current state does not allow this.")
    default_code = "conflict"

    def __init__(self, errors: dict):
        super().__init__()
        self.errors = errors


def _field_messages(exc: DjangoValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


def _as_drf(exc: Exception) -> Exception:
    if isinstance(exc, Conflict):
        return StateConflict(_field_messages(exc))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_field_messages(exc))
    if isinstance(exc, Http404):  # get_object_or_404: answer with DRF's code, "not_found"
        return exceptions.NotFound()
    if isinstance(exc, ReadsBlocked):  # before PermissionDenied: it is one
        return ReadsBlockedError(str(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return exceptions.ValidationError(
            {"non_field_errors": [_("The request body is too large.")]}
        )
    if isinstance(exc, TooManyFieldsSent):  # DATA_UPLOAD_MAX_NUMBER_FIELDS, query or form
        return TooManyFields()
    if isinstance(exc, RevealLimitExceeded | LookupLimitExceeded):
        throttled = RevealThrottled() if isinstance(exc, RevealLimitExceeded) else LookupThrottled()
        # DRF's handler turns it into Retry-After. Not Throttled(wait=...): that would add
        # "Expected available in ..." to the detail. (The stubs omit the attribute.)
        throttled.wait = exc.retry_after  # type: ignore[union-attr]
        return throttled
    return exc


def flat_errors(errors, prefix: str = "") -> dict[str, list]:
    """DRF's nested validation errors as {"field" or "field.sub" or "field.0": [messages]}."""
    flat: dict[str, list] = {}
    for key, value in errors.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flat_errors(value, name))
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            flat.update(flat_errors(dict(enumerate(value)), name))
        elif isinstance(value, list):
            if value:
                flat[name] = list(value)
        else:
            flat[name] = [value]
    return flat


def exception_handler(exc, context):
    exc = _as_drf(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        errors = flat_errors(errors)
        response.data = {"code": "invalid", "detail": _("Invalid input."), "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    if isinstance(exc, StateConflict):
        errors = flat_errors(exc.errors)
        response.data = {"code": exc.default_code, "detail": str(exc.detail), "errors": errors}
        return response
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    data = response.data if isinstance(response.data, dict) else {"detail": response.data}
    detail = data.get("detail", "")
    extra = {k: v for k, v in data.items() if k not in {"detail", "code"}}
    code = data.get("code") or (codes.get("detail") if isinstance(codes, dict) else codes)
    response.data = {"code": code, "detail": str(detail), **extra}
    return response


def error_response(code: str, detail: str, status_code: int) -> Response:
    return Response({"code": code, "detail": detail}, status=status_code)

"""A request that is valid but that the record's current state does not allow."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """Raised by services for a state conflict: a case approved twice, a second authenticator,
    a transfer already refused. A ValidationError, so forms and the admin show it like any
    other; the API answers 409 `conflict` with the same `errors` a 400 would carry
    (scrm.api.errors), so a client can tell "fix the input" from "the record moved on"."""

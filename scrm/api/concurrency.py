"""Optimistic concurrency for records clients edit: ETag on reads and writes, If-Match on writes.

The ETag is a digest of the record exactly as this viewer is shown it (its `updated_at`
included, which every service write moves), so it changes whenever anything the client sees
changes. A write that sends `If-Match` proceeds only if the record still has one of the tags
it names (or `*`); otherwise 412 `precondition_failed` and nothing is written. The check and
the write run in one transaction with the row locked, so of two clients that read the same
version and both write with its tag, the second gets 412. A write without `If-Match` proceeds
(last write wins): clients opt in.
"""

import hashlib

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = _(
        "The record changed since you read it: read it again, then repeat your change."
    )
    default_code = "precondition_failed"


def etag_of(representation: dict) -> str:
    digest = hashlib.sha256(JSONRenderer().render(representation)).hexdigest()[:32]
    return f'"{digest}"'


def matches(if_match: str, current: str) -> bool:
    """RFC 9110 If-Match: `*`, or a list of strong tags one of which is the current one."""
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    return "*" in tags or current in tags


def check_if_match(request, representation: dict) -> None:
    if_match = request.headers.get("If-Match")
    if if_match is not None and not matches(if_match, etag_of(representation)):
        raise PreconditionFailed()

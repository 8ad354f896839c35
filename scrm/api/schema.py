"""The OpenAPI contract: what a generated client (openapi-python-client, schemathesis) reads.

One mechanism documents the errors of every operation: `ScrmAutoSchema` (the project's
DEFAULT_SCHEMA_CLASS) adds to each operation the error statuses that can answer it, each with
the one error envelope of scrm.api.errors (the `Error` component):

- 400 on writes, and on reads that take query parameters (filters, searches, lookups);
- 401 and 403 on every operation that needs a signed-in caller;
- 404 on routes that name a record, and on paginated lists (a page past the end);
- 429 on every throttled operation (all authenticated ones have the user throttle);
- what a view declares in `error_responses` for one of its actions: {action: {status: why}}
  (409 where a conflict is answered, 412 where a precondition is checked).

Statuses an operation already documents (`@extend_schema(responses={401: ...})`) keep their
description and get the envelope as their body. Every authenticated operation also takes the
optional `X-Device-Id` header (scrm.staff.authentication).

The same class documents the headers the runtime sends:

- `Retry-After` (seconds) on every 429 (scrm.api.middleware makes sure each one has it);
- on throttled operations, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
  (scrm.api.throttling): on every success and every 429; possibly on other errors raised after
  the throttle ran (400, 404, ...), never on 401 or a permission check's 403;
- on a view's `etag_actions` (scrm.api.concurrency), the `ETag` of the record on success, and
  on those that write, the optional `If-Match` request header (412 when it is stale).

And the OpenAPI links a view declares in `response_links` ({operationId: links(...)}): from an
operation's success answer to the operations a client calls next with the ids it holds. A
generated client may follow them; schemathesis' stateful phase walks them (e.g. an offboarding
case from create through approve and run to its report).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from scrm.api.ids import MAX_ID
from scrm.api.strict import StrictInputMixin

JSON = "application/json"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGE_PARAMETERS = frozenset({"page", "page_size"})


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API (scrm.api.errors)."""

    code = serializers.CharField(
        help_text="Machine-readable reason: `invalid` for validation errors, else e.g. "
        "`not_authenticated`, `device_wiped`, `permission_denied`, `mfa_required`, "
        "`not_found`, `throttled`, `reveal_limit`."
    )
    detail = serializers.CharField(help_text="Human-readable message in the caller's language.")
    # The envelope's `errors` member: this serializer only documents, its own .errors is unused.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors only (code `invalid`): field name -> messages. Errors not "
        "tied to one field are under `non_field_errors`; an item of a list field is named "
        "`field.index` (e.g. `customers.2`).",
    )


DEVICE_ID_HEADER = OpenApiParameter(
    "X-Device-Id",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The id of the device the client runs on, as registered for the staff member. "
    "A device marked for wipe answers 401 with code `device_wiped`: the client must erase its "
    "local data and sign in again.",
)

# Query and path parameters that drf-spectacular leaves undescribed (filters on foreign keys).
PARAMETER_DESCRIPTIONS = {
    "id": "Id of the record.",
    "share_id": "Id of the share.",
    "actor": "Id of the staff member who acted.",
    "owner": "Id of the owning staff member.",
    "customer": "Id of the customer.",
    "case": "Id of the offboarding case.",
    "leaver": "Id of the leaving staff member.",
    "department": "Id of the department.",
    "team": "Id of the team.",
    "start": "From this time on (ISO 8601).",
    "end": "Before this time (ISO 8601).",
    "since": "From this time on (ISO 8601).",
    "until": "Before this time (ISO 8601).",
    "allowed": "Only allowed (true) or only refused (false) accesses.",
    "flagged": "Only flagged (true) or only unflagged (false) events.",
    "kind": "The kind of alert.",
}

GENERIC_ERRORS = {
    400: "Invalid input: `errors` names each field and what is wrong with it.",
    401: "Not signed in, or the token has expired or was revoked (sign in again or refresh). "
    "Code `device_wiped`: this device was wiped; erase the local data.",
    403: "The caller's role or scope does not allow this (`permission_denied`), or a "
    "privileged role signed in without a second factor (`mfa_required`).",
    404: "No such record in the caller's scope, or no such page.",
    429: "Too many requests: wait the seconds the Retry-After header names.",
}


CREATED_ID = "$response.body#/id"
FIRST_ROW_ID = "$response.body#/results/0/id"
PATH_ID = "$request.path.id"


def links(*operation_ids: str, **parameters: str) -> dict:
    """OpenAPI Link objects to each operation, filling its `parameters` from runtime
    expressions (e.g. `id=CREATED_ID`): a view's `response_links` value."""
    return {
        operation_id: {"operationId": operation_id, "parameters": parameters}
        for operation_id in operation_ids
    }


def _header(description: str, schema: dict, *, required: bool) -> dict:
    header: dict[str, object] = {"schema": schema, "description": description}
    if required:
        header["required"] = True
    return header


SECONDS = {"type": "integer", "minimum": 0}
RETRY_AFTER = "Seconds to wait before trying again."
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": ("Requests allowed per window.", {"type": "integer", "minimum": 1}),
    "RateLimit-Remaining": ("Requests left in the current window.", SECONDS),
    "RateLimit-Reset": ("Seconds until the oldest counted request leaves the window.", SECONDS),
}
ETAG = (
    "The version of the record as shown to this caller: send it back in `If-Match` to write "
    "only if nobody changed the record since."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of the record as last read (or `*`): the write proceeds only if "
    "the record is still that version, else 412 `precondition_failed` and nothing is written. "
    "Without it the write proceeds.",
)


class ScrmAutoSchema(AutoSchema):
    def _needs_sign_in(self) -> bool:
        return any(not isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _action_name(self) -> str:
        return getattr(self.view, "action", None) or self.method.lower()

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._needs_sign_in():
            parameters = [*parameters, DEVICE_ID_HEADER]
        if self._has_etag() and self.method in WRITE_METHODS:
            parameters = [*parameters, IF_MATCH]
        return parameters

    def _has_etag(self) -> bool:
        return self._action_name() in getattr(self.view, "etag_actions", ())

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        status = int(status_code)
        if self.view.get_throttles() and status != 401:
            always = status < 300 or status == 429  # the throttle ran and let it through
            for name, (description, schema) in RATE_LIMIT_HEADERS.items():
                headers[name] = _header(description, schema, required=always)
        if status == 429:
            headers["Retry-After"] = _header(RETRY_AFTER, SECONDS, required=True)
        if self._has_etag() and 200 <= status < 300:
            headers["ETag"] = _header(ETAG, {"type": "string"}, required=True)
        return headers

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(force_instance(serializer), StrictInputMixin):
            schema["additionalProperties"] = False  # scrm.api.strict refuses unknown fields
        return schema

    def _get_serializer_field_meta(self, field, direction):
        # A field without help_text is described by its label: the model field's verbose name,
        # or DRF's label from the field name. help_text, where given, says more.
        meta = super()._get_serializer_field_meta(field, direction)
        if not meta.get("description") and field.label:
            meta["description"] = str(field.label)
        return meta

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            # A filter's title is its translated label: generated clients would name the enum
            # type after it, in whatever language the schema was served in.
            parameter.get("schema", {}).pop("title", None)
            if (
                parameter["in"] == "query"
                and parameter["name"] not in PAGE_PARAMETERS
                and parameter["schema"].get("type") in ("integer", "number")
            ):
                # Every number filter is an id (scrm.api.ids bounds them).
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
            if not parameter.get("description"):
                parameter["description"] = PARAMETER_DESCRIPTIONS.get(
                    parameter["name"], parameter["name"].replace("_", " ").capitalize()
                )
        return parameters

    def get_auth(self):
        # The sign-in door takes no credential at all: no security requirement (a generated
        # client then calls it with its plain, unauthenticated client).
        if not self.view.get_authenticators():
            return []
        return super().get_auth()

    def get_filter_backends(self):
        # Actions that filter like the list does (e.g. an export of the filtered rows) declare it
        # in `filtered_actions`: they take the list's filter parameters.
        if self._action_name() in getattr(self.view, "filtered_actions", ()):
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def _takes_query_parameters(self) -> bool:
        return any(
            p.get("in") == "query" and p.get("name") not in PAGE_PARAMETERS
            for p in self._get_parameters()
        )

    def error_statuses(self) -> dict[int, str]:
        statuses: dict[int, str] = {}
        if self.method in WRITE_METHODS or self._takes_query_parameters():
            statuses[400] = GENERIC_ERRORS[400]
        if self._needs_sign_in():
            statuses[401] = GENERIC_ERRORS[401]
            statuses[403] = GENERIC_ERRORS[403]
        paginated = self._is_list_view() and self._get_paginator() is not None
        if "{" in self.path or (paginated and self.method == "GET"):
            statuses[404] = GENERIC_ERRORS[404]
        if self.view.get_throttles():
            statuses[429] = GENERIC_ERRORS[429]
        declared = getattr(self.view, "error_responses", {}).get(self._action_name(), {})
        statuses.update(declared)
        return dict(sorted(statuses.items()))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, description in self.error_statuses().items():
            documented = responses.get(str(status))
            if documented is not None and documented.get("content"):
                continue  # an operation's own error body
            answer = self._get_response_for_code(ErrorSerializer, str(status), [JSON], direction)
            answer["description"] = (documented or {}).get("description") or description
            responses[str(status)] = answer
        for status, answer in responses.items():
            if status >= "400" and "content" not in answer:
                # Declared by the view without a body: every error carries the envelope.
                error = self._get_response_for_code(ErrorSerializer, status, [JSON], direction)
                answer["content"] = error["content"]
        declared = getattr(self.view, "response_links", {}).get(self.get_operation_id())
        if declared:
            for status, answer in responses.items():
                if status.startswith("2"):
                    answer["links"] = declared
        return dict(sorted(responses.items()))

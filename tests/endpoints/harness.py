"""How the batteries call an endpoint: one signed-in client per role, one request, and the
scanner for raw sensitive values."""

import io
import json
from urllib.parse import urlsplit

from django.test import Client
from django.urls import resolve
from openpyxl import load_workbook
from rest_framework.test import APIClient

from chats.export import XLSX_CONTENT_TYPE
from customers.models import Customer
from tests.endpoints.registry import ANONYMOUS, Endpoint, World
from tests.endpoints.world import CONTENT_SECRETS, OTHER_SECRETS
from tests.signin import api_client, verified_login

SCANNED_FIELDS = ("name", "mobile", "id_number", "email", "wechat_id", "address")


def user_of(world: World, role: str):
    return None if role == ANONYMOUS else getattr(world.org, role)


def client_for(endpoint: Endpoint, user, **headers) -> APIClient | Client:
    """Signed in as a real user would be: the admin by session with a verified second factor
    where the role needs one, the API with a token that used one (tests/signin.py)."""
    if user is not None:
        # Requests run in rolled-back savepoints, but "sign out everywhere" also raised the
        # in-memory account's generation: read the current one back.
        user.refresh_from_db(fields=["auth_generation"])
    if endpoint.client == "admin":
        client = Client(**headers)
        return client if user is None else verified_login(client, user)
    client = APIClient(**headers) if user is None else api_client(user)
    client.defaults.update(headers)
    return client


def perform(endpoint: Endpoint, world: World, client: APIClient | Client):
    """The endpoint's request; a download is read to its end (an export records when done)."""
    call = getattr(client, endpoint.method.lower())
    url = endpoint.url(world)
    if endpoint.body is None:
        response = call(url)
    elif endpoint.client == "admin":
        response = call(url, endpoint.body(world))
    else:
        response = call(url, endpoint.body(world), format=endpoint.format)
    if getattr(response, "streaming", False):
        response._text = b"".join(response.streaming_content)
    return response


# --- the scanner ----------------------------------------------------------------------------


def response_text(response) -> str:
    if hasattr(response, "_text"):
        content = response._text
    elif getattr(response, "streaming", False):
        content = response._text = b"".join(response.streaming_content)
    else:
        content = response.content
    if response.get("Content-Type") == XLSX_CONTENT_TYPE:
        return xlsx_text(content)
    return content.decode()


def xlsx_text(content: bytes) -> str:
    """Every cell of a workbook, one line per row (the file itself is zipped XML)."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        "\t".join("" if value is None else str(value) for value in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def raw_values() -> set[str]:
    """Every raw sensitive value in the customers table, decrypted, and the free-text secrets."""
    values = set(CONTENT_SECRETS) | OTHER_SECRETS
    for customer in Customer.objects.all():
        values.update(getattr(customer, field) for field in SCANNED_FIELDS)
    values.discard("")
    return values


def leaked_values(text: str, values: set[str]) -> set[str]:
    """Raw values found in `text`, as written or as JSON \\u-escapes."""
    escaped = {value: json.dumps(value)[1:-1] for value in values}
    return {value for value in values if value in text or escaped[value] in text}


def assert_no_raw_values(response, values: set[str] | None = None) -> None:
    values = raw_values() if values is None else values
    assert leaked_values(response_text(response), values) == set()


def route_of(endpoint: Endpoint, world: World) -> str:
    """The endpoint's route as scrm.access.door.classify_urls names it: "ViewSet.action",
    "APIView.method" or "admin:url_name"."""
    match = resolve(urlsplit(endpoint.url(world)).path)
    if match.namespace == "admin":
        return f"admin:{match.url_name}"
    view_cls = getattr(match.func, "cls", None)
    if view_cls is None:  # a plain Django page: classify_urls names it by its URL name
        return match.url_name
    actions = getattr(match.func, "actions", None)
    method = endpoint.method.lower()
    return f"{view_cls.__name__}.{actions[method] if actions else method}"

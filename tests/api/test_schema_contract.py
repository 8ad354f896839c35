"""The OpenAPI schema is a contract a client can be generated from: valid without warnings,
JSON request bodies (multipart only for the one upload), the error envelope on every operation,
every field and parameter described, answers typed as they are sent."""

import json

import pytest
from django.core.management import call_command
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

UPLOADS = {("/api/v1/offboarding/cases/import/", "post")}


@pytest.fixture(scope="module")
def schema():
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_schema_validates_without_a_single_warning(tmp_path):
    # What CI runs: `manage.py spectacular --validate --fail-on-warn` (a warning exits 1).
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")


def test_request_bodies_are_json_except_the_csv_upload(schema):
    bodies = {
        (path, method): sorted(op["requestBody"]["content"])
        for path, method, op in operations(schema)
        if "requestBody" in op
    }
    assert bodies, "no request bodies at all"
    for key, media_types in bodies.items():
        expected = ["multipart/form-data"] if key in UPLOADS else ["application/json"]
        assert media_types == expected, key


def test_a_form_encoded_body_is_refused_with_415(org, api_client_for):
    response = api_client_for(org.rep).post(
        "/api/v1/customers/", {"name": "表单客户"}, format="multipart"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_the_error_envelope_is_one_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "detail"]
    errors = error["properties"]["errors"]
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def _error_ref(response):
    return response["content"]["application/json"]["schema"]["$ref"]


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    for path, method, op in operations(schema):
        responses = op["responses"]
        errors = {code: r for code, r in responses.items() if code >= "400"}
        where = f"{method.upper()} {path}"
        assert errors, where
        for code, response in errors.items():
            assert _error_ref(response) == "#/components/schemas/Error", (where, code)
            assert response["description"], (where, code)
        signed_in = path not in {
            "/api/v1/auth/token/",
            "/api/v1/auth/token/mfa/",
            "/api/v1/auth/token/refresh/",
            "/api/v1/auth/logout/",
        }
        if signed_in:
            assert {"401", "403", "429"} <= set(errors), where
            assert "X-Device-Id" in [p["name"] for p in op.get("parameters", [])], where
        if "{" in path:
            assert "404" in errors, where
        if method in ("post", "put", "patch", "delete"):
            assert "400" in errors, where
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"400", "401", "429"} <= set(token)
    customer = schema["paths"]["/api/v1/customers/{id}/"]
    assert "412" in customer["patch"]["responses"] and "412" in customer["put"]["responses"]
    assert "400" in schema["paths"]["/api/v1/customers/"]["get"]["responses"]


def test_every_field_and_parameter_is_described(schema):
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field}"
    for path, method, op in operations(schema):
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), (method, path, parameter["name"])


def _success(op):
    code = min(c for c in op["responses"] if c < "300")
    return code, op["responses"][code]


def test_answers_are_typed(schema):
    untyped = []
    for path, method, op in operations(schema):
        code, response = _success(op)
        for media_type, body in response.get("content", {}).items():
            spec = body["schema"]
            if media_type == "application/json" and "$ref" not in spec and "items" not in spec:
                untyped.append((method, path, spec))
    assert untyped == []


def test_shares_are_a_bare_list_and_a_share_is_created_with_201(schema):
    shares = schema["paths"]["/api/v1/customers/{id}/shares/"]
    listed = shares["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"type": "array", "items": {"$ref": "#/components/schemas/Share"}}
    assert [p["name"] for p in shares["get"]["parameters"]] == ["X-Device-Id", "id"]
    assert _success(shares["post"])[0] == "201"


def test_names_that_can_be_null_are_nullable(schema):
    components = schema["components"]["schemas"]
    for component, field in [
        ("Colleague", "department"),
        ("Colleague", "team"),
        ("Me", "team"),
        ("Customer", "owner_name"),
        ("CustomerDetail", "owner_name"),
    ]:
        assert components[component]["properties"][field]["nullable"] is True, component


def test_every_page_model_has_the_same_fields(schema):
    pages = {n: c for n, c in schema["components"]["schemas"].items() if n.startswith("Paginated")}
    assert len(pages) >= 5
    for name, page in pages.items():
        assert set(page["properties"]) == {
            "count",
            "count_exact",
            "next",
            "previous",
            "next_page",
            "previous_page",
            "results",
        }, name
        assert page["properties"]["next_page"] == {
            **page["properties"]["next_page"],
            "type": "integer",
            "nullable": True,
        }


def test_chat_search_and_export_document_their_filters_and_files(schema):
    filters = {"start", "end", "customer", "staff", "team", "type"}
    search = schema["paths"]["/api/v1/chats/search/"]["get"]
    assert filters | {"q"} <= {p["name"] for p in search["parameters"]}
    export = schema["paths"]["/api/v1/chats/export/"]["get"]
    assert filters | {"format"} <= {p["name"] for p in export["parameters"]}
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def test_the_main_operations_carry_examples(schema):
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/customers/", "get"),
        ("/api/v1/customers/{id}/", "get"),
        ("/api/v1/customers/{id}/reveal/", "post"),
        ("/api/v1/chats/search/", "get"),
        ("/api/v1/chats/messages/batch/", "post"),
    ]:
        text = json.dumps(paths[path][method])
        assert '"examples"' in text, (method, path)


def test_nested_validation_errors_answer_flat_field_lists(org, api_client_for):
    response = api_client_for(org.manager).post(
        "/api/v1/customers/transfer/",
        {"customers": [1, "two"], "to_staff": org.rep.pk, "reason": "x"},
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["customers.1"]
    assert all(isinstance(m, str) for m in errors["customers.1"])


def test_customer_reads_and_writes_document_etag_and_if_match(schema):
    detail = schema["paths"]["/api/v1/customers/{id}/"]
    for method in ("get", "put", "patch"):
        etag = detail[method]["responses"]["200"]["headers"]["ETag"]
        assert etag["required"] is True and etag["schema"] == {"type": "string"}, method
        if_match = [p for p in detail[method].get("parameters", []) if p["name"] == "If-Match"]
        if method == "get":
            assert if_match == []
        else:
            assert len(if_match) == 1 and if_match[0]["in"] == "header", method
            assert not if_match[0].get("required"), "a write without If-Match proceeds"
            assert "412" in detail[method]["responses"]
    # Only the customer detail sends one.
    for path, _method, operation in operations(schema):
        if path != "/api/v1/customers/{id}/":
            assert all("ETag" not in r.get("headers", {}) for r in operation["responses"].values())
            assert all(p["name"] != "If-Match" for p in operation.get("parameters", []))


def test_every_429_documents_retry_after_and_throttled_answers_their_budget(schema):
    limits = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    throttled = 0
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        if "429" not in responses:
            continue
        where = f"{method.upper()} {path}"
        headers = responses["429"].get("headers", {})
        assert headers["Retry-After"]["required"] is True, where
        assert headers["Retry-After"]["schema"]["type"] == "integer", where
        if "security" not in operation:
            # Sign-in has no request throttle (django-axes locks out): no budget is sent.
            assert not any(limits & set(r.get("headers", {})) for r in responses.values()), where
            continue
        throttled += 1
        for status, response in responses.items():
            sent = set(response.get("headers", {})) & limits
            if status == "401":
                assert not sent, f"{where} {status}: authentication fails before the throttle"
            else:
                assert sent == limits, f"{where} {status}"
                required = {response["headers"][h].get("required", False) for h in limits}
                assert required == {status < "300" or status == "429"}, f"{where} {status}"
    assert throttled > 30


def test_the_documented_headers_are_the_ones_sent(org, customers, api_client_for, settings):
    client = api_client_for(org.rep)
    url = f"/api/v1/customers/{customers.of_rep.pk}/"
    read = client.get(url)
    assert read.status_code == 200
    assert {"ETag", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
        read.headers
    )
    stale = client.patch(url, {"name": "改名"}, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    assert "RateLimit-Remaining" in stale.headers

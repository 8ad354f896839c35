"""Every error under /api/ answers the one JSON shape, DEBUG or not; the admin keeps HTML."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def _assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"code", "detail", "errors"}
    return body


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_an_unknown_api_path_answers_json_404(debug, rep, api_client_for):
    for client in (Client(), api_client_for(rep)):
        _assert_envelope(client.get("/api/v1/no-such-thing/"), 404, "not_found")
        _assert_envelope(client.get("/api/nope"), 404, "not_found")


def test_the_admin_keeps_its_html_404(rep, client):
    response = client.get("/admin-nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_the_endpoint_does_not_take_answers_json_405(debug, rep, api_client_for):
    response = api_client_for(rep).delete("/api/v1/customers/")
    _assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("method", ["trace", "put", "delete"])
@pytest.mark.parametrize(
    "url", ["/api/v1/auth/token/", "/api/v1/auth/logout/", "/api/v1/auth/logout/all/"]
)
def test_a_plain_view_answers_405_not_403_to_a_method_it_has_no_handler_for(
    rep, api_client_for, url, method
):
    # Found by schemathesis (unsupported_method): the scope door refused TRACE on the POST-only
    # sign-in views with 403 "declares no scope" before DRF could say 405.
    response = getattr(api_client_for(rep), method)(url)
    _assert_envelope(response, 405, "method_not_allowed")
    assert response["Allow"].startswith("POST")


@pytest.mark.urls("tests.api.failing_urls")
@pytest.mark.parametrize("url", ["/api/v1/test-boom/", "/api/v1/test-drf-boom/"])
def test_an_uncaught_exception_answers_json_500_without_the_traceback(debug, url):
    response = Client(raise_request_exception=False).get(url)
    body = _assert_envelope(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"]


@pytest.mark.urls("tests.api.failing_urls")
def test_an_exception_outside_the_api_keeps_the_html_500():
    response = Client(raise_request_exception=False).get("/admin-boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
def test_too_many_query_fields_answer_json_400(debug, rep, api_client_for):
    query = "&".join(f"f{i}=1" for i in range(20))
    response = api_client_for(rep).get(f"/api/v1/customers/?{query}")
    _assert_envelope(response, 400, "too_many_fields")


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
def test_too_many_form_fields_answer_json_400(debug, org, api_client_for):
    """The one endpoint that takes a form (the leavers CSV upload, multipart)."""
    fields = {f"f{i}": "1" for i in range(20)}
    response = api_client_for(org.hr).post(
        "/api/v1/offboarding/cases/import/", fields, format="multipart"
    )
    _assert_envelope(response, 400, "too_many_fields")


def test_a_form_body_to_a_json_endpoint_answers_json_415(debug, rep, api_client_for):
    response = api_client_for(rep).post(
        "/api/v1/customers/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    _assert_envelope(response, 415, "unsupported_media_type")


@pytest.mark.urls("tests.api.failing_urls")
@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
def test_too_many_fields_outside_drf_answer_json_400(debug):
    body = "&".join(f"f{i}=1" for i in range(20))
    response = Client(raise_request_exception=False).post(
        "/api/v1/test-form/", body, content_type="application/x-www-form-urlencoded"
    )
    _assert_envelope(response, 400, "too_many_fields")


@pytest.mark.urls("tests.api.failing_urls")
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_too_large_body_outside_drf_answers_json(debug):
    response = Client(raise_request_exception=False).post(
        "/api/v1/test-form/", "a=" + "x" * 500, content_type="application/x-www-form-urlencoded"
    )
    _assert_envelope(response, 400, "request_too_large")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_too_large_json_body_answers_the_envelope(debug, rep, api_client_for):
    response = api_client_for(rep).post("/api/v1/customers/", {"name": "x" * 5000}, format="json")
    _assert_envelope(response, 400, "invalid")

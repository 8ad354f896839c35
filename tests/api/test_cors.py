"""CORS for the embedded WeCom sidebar: only the configured origins, only /api/, preflights
answered without authentication; no origins configured means no CORS headers at all."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SIDEBAR = "https://sidebar.example.com"


@pytest.fixture
def sidebar_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [SIDEBAR]


def preflight(origin: str, path: str = "/api/v1/customers/", method: str = "PATCH"):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, if-match",
    )


def test_a_preflight_from_the_allowed_origin_is_answered_without_authentication(sidebar_allowed):
    response = preflight(SIDEBAR)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SIDEBAR
    assert "PATCH" in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "if-match"} <= {h.strip() for h in allowed.split(",")}
    assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_from_another_origin_gets_no_cors_headers(sidebar_allowed):
    response = preflight("https://evil.example.net")

    assert "Access-Control-Allow-Origin" not in response


def test_no_origins_configured_means_no_cors(settings):
    settings.CORS_ALLOWED_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in preflight(SIDEBAR)


def test_the_admin_gets_no_cors_even_from_the_allowed_origin(sidebar_allowed):
    response = preflight(SIDEBAR, path="/admin/login/", method="POST")

    assert "Access-Control-Allow-Origin" not in response


def test_an_actual_request_exposes_the_headers_a_client_needs(sidebar_allowed, rep, jwt_client_for):
    client = jwt_client_for(rep)

    response = client.get("/api/v1/customers/", HTTP_ORIGIN=SIDEBAR)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SIDEBAR
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "retry-after", "ratelimit-limit", "ratelimit-remaining"} <= exposed


def test_cors_does_not_open_the_api_without_a_token(sidebar_allowed):
    response = Client().get("/api/v1/customers/", HTTP_ORIGIN=SIDEBAR)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_the_csp_still_goes_out_with_api_answers(sidebar_allowed):
    response = preflight(SIDEBAR)
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]

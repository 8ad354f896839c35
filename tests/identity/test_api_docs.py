"""The API schema and its readers are for signed-in staff, served from local files.

Anonymous: 401 JSON from the schema, a redirect to the admin login from the HTML pages (and from
Swagger UI's script). Signed in with a session or a JWT: the schema and both pages.
"""

import pytest
from django.test import Client

from tests.conftest import obtain_jwt
from tests.signin import verified_login

HTML_PAGES = ("/api/docs/", "/api/docs/?script", "/api/redoc/")
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "googleapis.com", "gstatic.com", "cdnjs")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "accept"),
    [("/api/schema/", "application/vnd.oai.openapi"), ("/api/schema/?format=json", "*/*")],
    ids=["yaml", "json"],
)
def test_anonymous_callers_get_401_json_from_the_schema(anon_client, url, accept):
    response = anon_client.get(url, HTTP_ACCEPT=accept)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_authenticated"
    assert "paths" not in response.content.decode()


@pytest.mark.django_db
def test_a_forged_token_does_not_open_the_schema(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = anon_client.get("/api/schema/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
@pytest.mark.parametrize("url", HTML_PAGES)
def test_anonymous_visitors_of_the_docs_are_sent_to_the_admin_login(url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/api/")
    assert b"swagger" not in response.content.lower()


def test_a_jwt_opens_the_schema(org, anon_client):
    tokens = obtain_jwt(anon_client, org.rep.username)
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    response = anon_client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert "/api/v1/customers/{id}/reveal/" in response.json()["paths"]


def test_a_session_opens_the_schema_and_both_pages(org):
    browser = Client()
    verified_login(browser, org.rep)

    schema = browser.get("/api/schema/?format=json")
    swagger = browser.get("/api/docs/")
    script = browser.get("/api/docs/?script")
    redoc = browser.get("/api/redoc/")

    assert schema.status_code == 200 and "paths" in schema.json()
    assert (swagger.status_code, script.status_code, redoc.status_code) == (200, 200, 200)
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content
    assert b'url: "/api/schema/"' in script.content


def test_the_pages_load_swagger_ui_and_redoc_from_local_static_files(org):
    browser = Client()
    verified_login(browser, org.rep)

    swagger = browser.get("/api/docs/").content.decode()
    redoc = browser.get("/api/redoc/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in swagger
    assert '<script src="/api/docs/?script="></script>' in swagger
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in redoc
    for page in (swagger, redoc):
        assert not any(host in page for host in CDN_HOSTS)

"""The Content-Security-Policy: sent on every response, scripts from this server's static files
only, and no page of the project carries an inline script, an inline style or an inline event
handler (which the policy would refuse: the page would silently stop working).

The admin (/admin/) relaxes two directives for django-unfold's theme (scrm/admin_policy.py):
'unsafe-eval' for Alpine.js and inline styles; still no inline script or event handler there.
tests/browser/test_csp_in_browser.py proves it in a real browser; these tests run everywhere.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from offboarding.models import OffboardingCase
from tests.factories import CustomerFactory
from tests.offboarding.cases import open_case, supervised_by_lead
from tests.signin import verified_login

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sorted(values) for name, *values in directives}


def signed_in(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def test_every_kind_of_response_carries_the_policy(org, customers, api_client_for, anon_client):
    responses = {
        "admin login": Client().get("/admin/login/"),
        "admin page": signed_in(org.rep).get("/admin/customers/customer/"),
        "API read": api_client_for(org.rep).get("/api/v1/customers/"),
        "API 401": anon_client.get("/api/v1/customers/"),
        "API 403": api_client_for(org.security).get("/api/v1/customers/"),
        "API 404": api_client_for(org.rep).get(f"/api/v1/customers/{customers.of_unrelated.pk}/"),
        "schema": api_client_for(org.rep).get("/api/schema/"),
        "Swagger UI": signed_in(org.rep).get("/api/docs/"),
        "redirect": Client().get("/"),
    }

    strict = {name: sorted(values) for name, values in EXPECTED.items()}
    admin = {
        **strict,
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
    }
    assert {name: policy_of(r) for name, r in responses.items()} == {
        name: admin if name.startswith("admin") else strict for name in responses
    }


def test_no_inline_script_is_allowed_by_the_policy():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]

    assert directives["script-src"] == ["'self'"]
    for values in directives.values():
        assert not any("unsafe" in value or value.startswith("'nonce") for value in values)


def test_only_the_redoc_page_relaxes_styles_and_never_scripts(org):
    redoc = policy_of(signed_in(org.rep).get("/api/redoc/"))

    assert redoc["style-src"] == ["'self'", "'unsafe-inline'"]
    assert redoc["worker-src"] == ["blob:"]
    assert redoc["script-src"] == ["'self'"]


# --- no inline code in any page -----------------------------------------------------------


class InlineCode(HTMLParser):
    """Collects what the policy refuses: <script> without src (JSON data blocks are fine),
    <style>, style="" and on...="" attributes, javascript: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        data_block = attributes.get("type") == "application/json"
        if tag == "script" and "src" not in attributes and not data_block:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"<{tag} style=...>")
            elif name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_parser_finds_each_kind_of_inline_code():
    page = (
        '<script>alert(1)</script><script src="/s.js"></script>'
        '<script type="application/json">{}</script><style>p{}</style>'
        '<p style="color: red" onclick="x()"><a href="javascript:print()">p</a></p>'
    )

    assert inline_code(page) == [
        "<script> without src",
        "<style>",
        "<p style=...>",
        "<p onclick=...>",
        "<a href=javascript:...>",
    ]


def markup(template: Path) -> str:
    """The template without comments, each tag standing in for a value: the markup the
    browser gets."""
    text = re.sub(r"{% comment %}.*?{% endcomment %}", "", template.read_text(), flags=re.DOTALL)
    return re.sub(r"{[%{#].*?[%}#]}", "x", text)


def test_the_projects_templates_hold_no_inline_code():
    templates = [
        *ROOT.glob("templates/**/*.html"),
        *ROOT.glob("*/templates/**/*.html"),
        *ROOT.glob("scrm/*/templates/**/*.html"),
    ]
    assert templates
    found = {str(path.relative_to(ROOT)): inline_code(markup(path)) for path in templates}

    assert {path: kinds for path, kinds in found.items() if kinds} == {}


@pytest.fixture
def running_case(org):
    leaver = supervised_by_lead(org, org.rep_b)
    CustomerFactory(owner=leaver)
    case = open_case(org, leaver)
    OffboardingCase.objects.filter(pk=case.pk).update(status="running", started_at=timezone.now())
    return case


def test_the_rendered_pages_hold_no_inline_code(org, customers, running_case):
    """Rendered, so the admin's and the libraries' templates count too (e.g. the periodic task
    form of django-celery-beat, overridden in templates/admin/djcelery/)."""
    customer = customers.of_rep.pk
    case = f"/admin/offboarding/offboardingcase/{running_case.pk}"
    pages = {
        org.rep: [
            f"/admin/customers/customer/{customer}/change/",  # the reveal buttons
            "/admin/customers/customer/dashboard/",
            "/api/docs/",
            "/api/redoc/",
        ],
        org.hr: [f"{case}/change/", f"{case}/report/"],  # the page reloads while it runs
        org.admin_user: [
            "/admin/",
            "/admin/customers/customer/",
            f"/admin/customers/customer/{customer}/change/",
            "/admin/django_celery_beat/periodictask/add/",
            "/admin/masking-matrix/",
            "/admin/staff/staff/",
        ],
    }
    found = {}
    for user, urls in pages.items():
        client = signed_in(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url, response.status_code)
            found[url] = inline_code(response.content.decode())

    # The admin's policy allows inline styles (unfold's theme), never inline code.
    styles = {"<style>"} | {kind for kinds in found.values() for kind in kinds if "style=" in kind}
    refused = {
        url: [kind for kind in kinds if not (url.startswith("/admin/") and kind in styles)]
        for url, kinds in found.items()
    }
    assert {url: kinds for url, kinds in refused.items() if kinds} == {}
    # The pages do load their scripts: the reveal buttons, the reload, the chart.
    assert b"customers/admin/reveal.js" in signed_in(org.rep).get(pages[org.rep][0]).content
    assert b"offboarding/admin/case_progress.js" in signed_in(org.hr).get(f"{case}/change/").content

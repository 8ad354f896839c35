"""The browsable API, re-enabled safely (scrm.api.renderers.SafeBrowsableAPIRenderer).

DRF's stock renderer draws the filter form and the POST/PUT HTML forms, whose foreign-key
fields are <select>s listing every related row, outside the caller's scope and unrecorded.
The attack: a rep opens the customer list in a browser and reads the other teams' people and
customers out of those lists. The control test shows the stock renderer does leak them, so
the attack test would notice the forms coming back."""

import re

import pytest
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from customers.api import CustomerViewSet
from tests.factories import CustomerFactory
from tests.signin import verified_login

pytestmark = pytest.mark.django_db

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a browser's Accept


@pytest.fixture
def outsiders(org):
    """Customers of another team and of another department, with names no one else has."""
    return [
        CustomerFactory(owner=org.rep_other_team, name="隔壁组客户甲"),
        CustomerFactory(owner=org.rep_unrelated, name="别的部门客户乙"),
    ]


def _forms_and_selects(html: str) -> str:
    """Every <form> and <select> of the page (where the stock renderer's lists live)."""
    parts = re.findall(r"<form\b.*?</form>", html, flags=re.S)
    parts += re.findall(r"<select\b.*?</select>", html, flags=re.S)
    return "\n".join(parts)


def _leaks(html: str, org, outsiders) -> list[str]:
    forms = _forms_and_selects(html)
    found = []
    for customer in outsiders:
        if customer.name in forms or re.search(rf'value="{customer.pk}"', forms):
            found.append(f"customer {customer.pk} {customer.name}")
    for staff in (org.rep_other_team, org.rep_unrelated, org.manager_other):
        if re.search(rf'value="{staff.pk}"', forms) or staff.username in forms:
            found.append(f"staff {staff.username}")
    return found


def test_the_browsable_customer_list_lists_no_one_outside_the_scope(client, org, outsiders):
    verified_login(client, org.rep)
    for path in ("/api/v1/customers/", f"/api/v1/customers/{outsiders[0].pk}/"):
        response = client.get(path, HTTP_ACCEPT=HTML)
        assert response["Content-Type"].startswith("text/html"), path
        html = response.content.decode()
        assert _leaks(html, org, outsiders) == [], path
        assert "隔壁组客户甲" not in html and "别的部门客户乙" not in html, path
    own = CustomerFactory(owner=org.rep, name="自己的客户丙")
    html = client.get(f"/api/v1/customers/{own.pk}/", HTTP_ACCEPT=HTML).content.decode()
    assert "自己的客户丙" in html  # the page still shows what the JSON shows


def test_control_the_stock_renderer_would_leak(client, org, outsiders, monkeypatch):
    # Proves the attack test can see the leak: DRF's own renderer with django-filter's own
    # backend lists every staff member in the owner filter's select. (scrm's filters take ids,
    # scrm.api.ids, and its renderer draws no forms: two reasons the page lists no one.)
    monkeypatch.setattr(CustomerViewSet, "renderer_classes", [JSONRenderer, BrowsableAPIRenderer])
    monkeypatch.setattr(CustomerViewSet, "filter_backends", [DjangoFilterBackend])
    monkeypatch.setattr(CustomerViewSet, "filterset_class", None)
    monkeypatch.setattr(CustomerViewSet, "filterset_fields", ["owner"], raising=False)
    verified_login(client, org.rep)
    html = client.get("/api/v1/customers/", HTTP_ACCEPT=HTML).content.decode()
    assert _leaks(html, org, outsiders) != []


def test_json_clients_still_get_json(client, org, outsiders):
    verified_login(client, org.rep)
    for accept in ("application/json", "*/*", None):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = client.get("/api/v1/customers/", **headers)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json", accept
        assert "results" in response.json()


def test_sign_in_goes_through_the_admin_login_with_the_second_factor(client):
    html = client.get("/api/v1/customers/?page=2", HTTP_ACCEPT=HTML).content.decode()
    assert 'href="/admin/login/?next=/api/v1/customers/%3Fpage%3D2"' in html
    assert "/api-auth/login/" not in html


def test_sign_out_posts_to_the_admin_logout(client, org):
    verified_login(client, org.rep)
    html = client.get("/api/v1/me/", HTTP_ACCEPT=HTML).content.decode()
    assert re.search(r'<form method="post" action="/admin/logout/"', html)
    assert 'name="csrfmiddlewaretoken"' in html

"""The 403/404/500 pages: in the admin's look, in Chinese, with a way back, and the favicon.

A denial inside the admin (a PermissionDenied raised by an admin view) used to answer a bare
"403 Forbidden"; it now renders templates/403.html, still with status 403. The 500 page must
render with no context and no database: Django renders it with neither."""

import pytest
from django.template import loader
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.signin import verified_login

pytestmark = pytest.mark.django_db


def _assert_styled(html: str) -> None:
    assert "unfold/css/styles.css" in html  # the admin's stylesheet
    assert 'rel="icon"' in html and "scrm/favicon.svg" in html
    assert 'href="/admin/"' in html  # the way back home
    assert "返回首页" in html and "返回上一页" in html
    assert "<script>" not in html  # CSP: no inline script


def test_a_denial_inside_the_admin_renders_the_styled_403_page(client, rep):
    verified_login(client, rep)
    response = client.get("/admin/masking-matrix/")
    assert response.status_code == 403
    html = response.content.decode()
    _assert_styled(html)
    assert "无权访问" in html
    assert "403 Forbidden" not in html


def test_a_missing_page_renders_the_styled_404_page(client, rep):
    verified_login(client, rep)
    response = client.get("/admin/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    _assert_styled(html)
    assert "页面不存在" in html


def test_a_missing_page_in_english(client, rep):
    verified_login(client, rep)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db(databases=[])
def test_the_500_page_needs_no_context_and_no_database():
    # No database (this test may not touch one) and no context: what Django's server_error does.
    # LocaleMiddleware has activated the caller's language by the time a view fails.
    with translation.override("zh-hans"):
        html = loader.get_template("500.html").render()
        response = server_error(RequestFactory().get("/admin/"))
    _assert_styled(html)
    assert response.status_code == 500
    assert "出错了" in response.content.decode()


def test_admin_pages_link_the_favicon(client, rep):
    verified_login(client, rep)
    html = client.get("/admin/").content.decode()
    assert 'rel="icon"' in html and "scrm/favicon.svg" in html
    assert client.get("/favicon.ico").status_code == 301

"""Bad input never answers 500: a JSON body nested deeper than SCRM_JSON_MAX_DEPTH (64) is a
400 parse error on every JSON endpoint, before any view code sees it.

Python's json recurses once per level: 100,000 "[" (100 KB, far under the upload limit) used to
end in an uncaught RecursionError, a 500 with a traceback in the log.
"""

import json

import pytest
from django.test import Client
from rest_framework.parsers import JSONParser

from scrm.access.door import walk
from scrm.api.parsers import DepthLimitedJSONParser, nesting_depth_exceeds
from tests.signin import verified_login

TOKEN = "/api/v1/auth/token/"
CUSTOMERS = "/api/v1/customers/"
CASES = "/api/v1/offboarding/cases/"

BOMBS = {
    "100,000 unclosed [": "[" * 100_000,
    "100,000 closed []": "[" * 100_000 + "]" * 100_000,
    "100,000 objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    # Under the interpreter's recursion limit, so json parses it; the depth check refuses it.
    "200 levels inside a field": '{"name": ' + "[" * 199 + "]" * 199 + "}",
}


def nested(depth: int) -> str:
    """A body of exactly `depth` levels: {"username": [[...]]} (the object is level 1)."""
    return '{"username": ' + "[" * (depth - 1) + "]" * (depth - 1) + ', "password": "x"}'


def post_raw(client, url: str, body: str):
    return client.generic("POST", url, body, content_type="application/json")


def assert_refused_as_too_deep(response):
    assert response.status_code == 400, response.content[:200]
    data = response.json()
    assert data["code"] == "parse_error"
    assert "嵌套超过 64 层" in data["detail"]  # the product language: "nest deeper than 64"


@pytest.mark.django_db
@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_the_anonymous_token_endpoint_refuses_deep_json_with_400(anon_client, body):
    assert_refused_as_too_deep(post_raw(anon_client, TOKEN, body))


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_creating_a_customer_refuses_deep_json_with_400(org, api_client_for, body):
    assert_refused_as_too_deep(post_raw(api_client_for(org.rep), CUSTOMERS, body))


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_opening_an_offboarding_case_refuses_deep_json_with_400(org, api_client_for, body):
    assert_refused_as_too_deep(post_raw(api_client_for(org.hr), CASES, body))


def test_a_reveal_and_a_session_write_refuse_deep_json_too(org, customers, api_client_for):
    reveal = f"{CUSTOMERS}{customers.of_rep.pk}/reveal/"
    browser = Client(enforce_csrf_checks=False)
    verified_login(browser, org.rep)

    assert_refused_as_too_deep(
        post_raw(api_client_for(org.rep), reveal, BOMBS["100,000 closed []"])
    )
    assert_refused_as_too_deep(post_raw(browser, CUSTOMERS, BOMBS["100,000 unclosed ["]))


@pytest.mark.django_db
def test_the_limit_is_exactly_64_levels(anon_client):
    at_limit = post_raw(anon_client, TOKEN, nested(64))
    over = post_raw(anon_client, TOKEN, nested(65))

    # 64 levels parse; the serializer then refuses a list as a username (a field error).
    assert at_limit.status_code == 400 and at_limit.json()["code"] == "invalid"
    assert_refused_as_too_deep(over)


def test_ordinary_bodies_still_work(org, api_client_for):
    body = {"name": "新客户", "mobile": "13700000001", "stage": "lead", "tags": []}

    response = api_client_for(org.rep).post(
        CUSTOMERS, json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 201, response.content


def test_depth_counting():
    assert not nesting_depth_exceeds("scalar", 0)
    assert not nesting_depth_exceeds([], 1) and nesting_depth_exceeds([], 0)
    assert not nesting_depth_exceeds({"a": [{}]}, 3) and nesting_depth_exceeds({"a": [{}]}, 2)
    # Wide is not deep: a thousand siblings are one level.
    assert not nesting_depth_exceeds([[1]] * 1000, 2)


def test_every_api_view_parses_json_with_the_depth_limit():
    """A view that brings its own parser_classes (or an action that does) keeps the limit."""
    offenders = []
    for route in walk():
        view_cls = getattr(route.callback, "cls", None)
        if view_cls is None:
            continue
        initkwargs = getattr(route.callback, "initkwargs", {})
        parsers = initkwargs.get("parser_classes", view_cls.parser_classes)
        for parser in parsers:
            if issubclass(parser, JSONParser) and not issubclass(parser, DepthLimitedJSONParser):
                offenders.append((route.route, parser.__name__))

    assert offenders == []

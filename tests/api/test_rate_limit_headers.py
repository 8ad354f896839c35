"""Clients can see their budgets: RateLimit-* on throttled answers, Retry-After on every 429."""

from unittest import mock

import pytest
from rest_framework.test import APIClient

from scrm.api.throttling import ScrmUserRateThrottle
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _retry_after(response) -> int:
    assert "Retry-After" in response, dict(response.headers)
    return int(response["Retry-After"])


def test_throttled_answers_say_the_limit_and_what_is_left(rep, api_client_for):
    client = api_client_for(rep)
    with mock.patch.object(ScrmUserRateThrottle, "THROTTLE_RATES", {"user": "5/min"}):
        answers = [client.get("/api/v1/customers/") for _ in range(3)]

    assert [a["RateLimit-Limit"] for a in answers] == ["5", "5", "5"]
    assert [a["RateLimit-Remaining"] for a in answers] == ["4", "3", "2"]
    assert all(0 < int(a["RateLimit-Reset"]) <= 60 for a in answers)


def test_over_the_request_rate_answers_429_with_retry_after(rep, api_client_for):
    client = api_client_for(rep)
    with mock.patch.object(ScrmUserRateThrottle, "THROTTLE_RATES", {"user": "2/min"}):
        statuses = [client.get("/api/v1/customers/").status_code for _ in range(2)]
        over = client.get("/api/v1/customers/")

    assert statuses == [200, 200]
    assert over.status_code == 429
    assert over.json()["code"] == "throttled"
    assert 0 < _retry_after(over) <= 60
    assert over["RateLimit-Remaining"] == "0"


def test_the_reveal_limit_says_when_to_retry(rep, api_client_for, settings):
    settings.SCRM_REVEAL_LIMIT_PER_HOUR = 1
    customer = CustomerFactory(owner=rep)
    client = api_client_for(rep)
    body = {"field": "mobile", "reason": "call back"}
    url = f"/api/v1/customers/{customer.pk}/reveal/"
    assert client.post(url, body, format="json").status_code == 200

    over = client.post(url, body, format="json")

    assert over.status_code == 429 and over.json()["code"] == "reveal_limit"
    assert 3500 < _retry_after(over) <= 3600  # the one reveal leaves the hour in ~an hour
    assert "RateLimit-Limit" in over


def test_the_lookup_limit_says_when_to_retry(legal, api_client_for, settings):
    settings.SCRM_LOOKUP_LIMIT_PER_HOUR = 1
    client = api_client_for(legal)
    assert client.get("/api/v1/customers/", {"mobile": "13900000001"}).status_code == 200

    over = client.get("/api/v1/customers/", {"mobile": "13900000002"})

    assert over.status_code == 429 and over.json()["code"] == "lookup_limit"
    assert 3500 < _retry_after(over) <= 3600


def test_the_sign_in_lockout_says_when_to_retry(rep, settings):
    client = APIClient(REMOTE_ADDR="198.51.100.77")
    answers = [
        client.post("/api/v1/auth/token/", {"username": "rep", "password": "wrong"}, format="json")
        for _ in range(settings.SCRM_LOCKOUT_USERNAME_FAILURES)
    ]

    locked = answers[-1]  # the last allowed failure locks
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert _retry_after(locked) == settings.SCRM_LOCKOUT_MINUTES * 60

"""Lockout (django-axes, two counters) and the record of every sign-in, attacked the way a
password guesser would: many addresses against one account, one address against many
accounts, a forged X-Forwarded-For on every try."""

import itertools

import pytest
from django.test import Client
from rest_framework.test import APIClient

from scrm.audit.models import AccessAction, AccessEvent, Channel, SecurityAlert
from tests.factories import TEST_PASSWORD, StaffFactory
from tests.signin import enrol, fresh_code

TOKEN = "/api/v1/auth/token/"
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def api_sign_in(username: str, password: str, *, address: str = "203.0.113.9", **headers):
    return APIClient(REMOTE_ADDR=address, **headers).post(
        TOKEN, {"username": username, "password": password}, format="json"
    )


def admin_sign_in(username: str, password: str, *, address: str = "203.0.113.9"):
    return Client(REMOTE_ADDR=address).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )


def test_five_wrong_passwords_from_five_addresses_lock_the_account(org):
    statuses = [api_sign_in("rep", "wrong", address=next(_addresses)).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the fifth failure locks

    response = api_sign_in("rep", TEST_PASSWORD, address=next(_addresses))

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert int(response["Retry-After"]) == 15 * 60


def test_the_locked_account_is_locked_in_the_admin_too(org):
    for _ in range(5):
        api_sign_in("rep", "wrong", address=next(_addresses))

    response = admin_sign_in("rep", TEST_PASSWORD, address=next(_addresses))

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_four_failures_do_not_lock(org):
    for _ in range(4):
        api_sign_in("rep", "wrong", address=next(_addresses))

    assert api_sign_in("rep", TEST_PASSWORD, address=next(_addresses)).status_code == 200


def test_a_rotated_x_forwarded_for_buys_no_fresh_counter(org):
    """Without a trusted proxy the header is ignored: every try counts for REMOTE_ADDR."""
    for n in range(20):
        api_sign_in(f"nobody{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.{n}.1")

    response = api_sign_in("rep_b", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_twenty_failures_from_one_address_lock_the_address_not_the_accounts(org):
    spray = "192.0.2.66"
    for n in range(20):
        api_sign_in(f"user{n % 10}", "Password1", address=spray)

    assert api_sign_in("rep", TEST_PASSWORD, address=spray).status_code == 429
    assert api_sign_in("rep", TEST_PASSWORD, address="192.0.2.67").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(org, settings):
    settings.SCRM_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for _ in range(20):
        api_sign_in("nobody", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")

    blocked = api_sign_in("rep", TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")
    other = api_sign_in("rep", TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.11")

    assert blocked.status_code == 429 and other.status_code == 200
    assert AccessEvent.objects.filter(action=AccessAction.LOGIN).last().ip == "192.0.2.11"


def test_wrong_second_factor_codes_count_like_wrong_passwords(org):
    device = enrol(org.legal)
    client = APIClient(REMOTE_ADDR="203.0.113.50")
    for _ in range(5):
        ticket = client.post(
            TOKEN, {"username": "legal", "password": TEST_PASSWORD}, format="json"
        ).json()["ticket"]
        client.post("/api/v1/auth/token/mfa/", {"ticket": ticket, "code": "000000"}, format="json")

    response = client.post(TOKEN, {"username": "legal", "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 429
    assert fresh_code(device)  # the right code would not help: no ticket is issued


def test_forged_refresh_tokens_lock_the_address(org):
    client = APIClient(REMOTE_ADDR="203.0.113.77")
    for n in range(20):
        client.post("/api/v1/auth/token/refresh/", {"refresh": f"forged.{n}.x"}, format="json")

    response = api_sign_in("rep", TEST_PASSWORD, address="203.0.113.77")

    assert response.status_code == 429


@pytest.mark.parametrize("channel", [Channel.API, Channel.ADMIN])
def test_every_sign_in_and_failure_is_an_access_event(channel, org):
    sign_in = api_sign_in if channel == Channel.API else admin_sign_in
    sign_in("rep", "wrong")
    sign_in("rep", TEST_PASSWORD)

    failed, ok = AccessEvent.objects.filter(
        action__in=[AccessAction.LOGIN_FAILED, AccessAction.LOGIN]
    ).order_by("id")
    assert (failed.action, failed.channel, failed.allowed) == (
        AccessAction.LOGIN_FAILED,
        channel,
        False,
    )
    assert failed.object_ids == [org.rep.pk] and failed.query == {"username": "rep"}
    assert (ok.action, ok.actor, ok.channel, ok.ip) == (
        AccessAction.LOGIN,
        org.rep,
        channel,
        "203.0.113.9",
    )


def test_a_failure_for_a_typed_mobile_number_is_stored_masked(db):
    StaffFactory(username="someone")
    api_sign_in("13912345678", "wrong")

    event = AccessEvent.objects.get(action=AccessAction.LOGIN_FAILED)
    assert "13912345678" not in str(event.query)


def test_a_lockout_raises_a_security_alert(org):
    for _ in range(5):
        api_sign_in("rep", "wrong", address=next(_addresses))

    alert = SecurityAlert.objects.get(kind="login_lockout")
    assert alert.actor == org.rep and alert.severity == SecurityAlert.Severity.HIGH

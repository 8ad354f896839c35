"""The API sign-in with a second factor, as a mobile client (and an attacker) sees it."""

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from scrm.staff.models import LoginTicket
from tests.factories import TEST_PASSWORD
from tests.signin import current_code, enrol, fresh_code

TOKEN, MFA = "/api/v1/auth/token/", "/api/v1/auth/token/mfa/"


def sign_in(client: APIClient, user, password: str = TEST_PASSWORD):
    return client.post(TOKEN, {"username": user.username, "password": password}, format="json")


def code_for(secret_base32: str) -> str:
    from base64 import b32decode

    return str(TOTP(b32decode(secret_base32)).token()).zfill(6)


def enrol_through_api(user) -> tuple[str, list[str]]:
    """Set up an authenticator as the mobile client does; its secret and recovery codes."""
    client = APIClient()
    client.force_authenticate(user)
    secret = client.post("/api/v1/auth/mfa/totp/").json()["secret"]
    codes = client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": code_for(secret)}, format="json"
    ).json()["recovery_codes"]
    return secret, codes


def test_an_account_without_authenticator_gets_tokens_at_once(org, anon_client):
    response = sign_in(anon_client, org.rep)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert AccessToken(response.json()["access"])["amr"] == ["pwd"]


def test_an_enrolled_account_gets_a_ticket_and_no_token_for_the_password(org, anon_client):
    enrol(org.legal)

    body = sign_in(anon_client, org.legal).json()

    assert body["mfa_required"] is True and body["methods"] == ["totp"]
    assert "access" not in body and "refresh" not in body
    assert len(body["ticket"]) >= 40


def test_the_code_turns_the_ticket_into_tokens_that_record_the_second_factor(org, anon_client):
    device = enrol(org.legal)
    ticket = sign_in(anon_client, org.legal).json()["ticket"]

    response = anon_client.post(MFA, {"ticket": ticket, "code": fresh_code(device)}, format="json")

    assert response.status_code == 200
    access = AccessToken(response.json()["access"])
    assert access["amr"] == ["pwd", "otp"] and access["otp_at"] <= timezone.now().timestamp()


def test_a_ticket_is_good_for_one_use_only(org, anon_client):
    device = enrol(org.legal)
    ticket = sign_in(anon_client, org.legal).json()["ticket"]
    assert anon_client.post(MFA, {"ticket": ticket, "code": fresh_code(device)}).status_code == 200

    again = anon_client.post(MFA, {"ticket": ticket, "code": fresh_code(device)}, format="json")

    assert again.status_code == 400 and "ticket" in again.json()["errors"]


def test_an_expired_ticket_is_refused(org, anon_client):
    device = enrol(org.legal)
    ticket = sign_in(anon_client, org.legal).json()["ticket"]
    LoginTicket.objects.update(expires_at=timezone.now())

    response = anon_client.post(MFA, {"ticket": ticket, "code": fresh_code(device)}, format="json")

    assert response.status_code == 400 and "ticket" in response.json()["errors"]


def test_a_used_code_cannot_be_replayed_within_its_window(org, anon_client):
    device = enrol(org.legal)
    code = fresh_code(device)
    first = sign_in(anon_client, org.legal).json()["ticket"]
    assert anon_client.post(MFA, {"ticket": first, "code": code}, format="json").status_code == 200

    second = sign_in(anon_client, org.legal).json()["ticket"]
    replay = anon_client.post(MFA, {"ticket": second, "code": code}, format="json")

    assert replay.status_code == 400 and "code" in replay.json()["errors"]


def test_codes_are_rate_limited_after_a_wrong_one(org, anon_client):
    """django-otp's back-off: after a failure, even the right code is refused for a while (1 s,
    then 2, 4, ...) so the million codes cannot be walked."""
    device = enrol(org.legal)
    ticket = sign_in(anon_client, org.legal).json()["ticket"]
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    assert anon_client.post(MFA, {"ticket": ticket, "code": wrong}).status_code == 400

    right_too_soon = anon_client.post(
        MFA, {"ticket": ticket, "code": current_code(device)}, format="json"
    )

    assert right_too_soon.status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1


def test_a_ticket_dies_after_five_wrong_codes(org, anon_client):
    device = enrol(org.legal)
    ticket = sign_in(anon_client, org.legal).json()["ticket"]
    for _ in range(5):
        anon_client.post(MFA, {"ticket": ticket, "code": "000000"}, format="json")

    response = anon_client.post(MFA, {"ticket": ticket, "code": fresh_code(device)}, format="json")

    assert response.status_code in (400, 429)
    assert "access" not in response.json()


def test_a_recovery_code_signs_in_once(org, anon_client):
    _, codes = enrol_through_api(org.legal)

    ticket = sign_in(anon_client, org.legal).json()["ticket"]
    used = anon_client.post(MFA, {"ticket": ticket, "code": codes[0]}, format="json")
    ticket = sign_in(anon_client, org.legal).json()["ticket"]
    reused = anon_client.post(MFA, {"ticket": ticket, "code": codes[0]}, format="json")

    assert used.status_code == 200 and reused.status_code == 400
    assert StaticToken.objects.filter(device__user=org.legal).count() == 9


def test_enrolment_through_the_api(org):
    client = APIClient()
    client.force_authenticate(org.hr)

    started = client.post("/api/v1/auth/mfa/totp/")
    assert started.status_code == 201
    secret, uri = started.json()["secret"], started.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/scrm%3Ahr?") and f"secret={secret}" in uri
    assert not TOTPDevice.objects.get(user=org.hr).confirmed

    wrong = client.post("/api/v1/auth/mfa/totp/confirm/", {"code": "000000"}, format="json")
    assert wrong.status_code == 400 and "code" in wrong.json()["errors"]
    TOTPDevice.objects.filter(user=org.hr).update(throttling_failure_count=0)

    confirmed = client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": code_for(secret)}, format="json"
    )
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=org.hr).confirmed

    # A second set-up over a confirmed one is a reset, an administrator's act.
    assert client.post("/api/v1/auth/mfa/totp/").status_code == 409


# --- privileged actions need the second factor in the token ---------------------------------


def _event(org):
    from scrm.audit.services import record_access

    return record_access(
        actor=org.rep, action="view", model="customers.customer", object_ids=[], channel="api"
    )


def _alert(org):
    from scrm.audit.services import raise_alert

    return raise_alert(kind="notice_reads_blocked", message="blocked", actor=org.rep_leaving)


def _case_url(verb: str):
    return lambda w: f"/api/v1/offboarding/cases/{_case(w.org).pk}/{verb}/"


def _case(org):
    from offboarding.services import create_case

    org.rep_leaving.supervisor = org.lead
    org.rep_leaving.save(update_fields=["supervisor"])
    return create_case(
        actor=org.hr,
        leaver=org.rep_leaving,
        reason="resigned",
        notice_date=timezone.localdate(),
        effective_at=timezone.now(),
        successors=[org.rep_b],
    )


PRIVILEGED = [
    (
        "legal",
        "POST",
        lambda w: f"/api/v1/customers/{w.customers.of_rep.pk}/reveal/",
        lambda w: {"field": "id_number", "reason": "court order 2026-17"},
    ),
    ("legal", "GET", lambda w: "/api/v1/chats/export/?format=csv", None),
    ("auditor", "GET", lambda w: "/api/v1/audit/events/", None),
    ("auditor", "GET", lambda w: "/api/v1/audit/events/export/", None),
    ("security", "GET", lambda w: "/api/v1/alerts/", None),
    (
        "hr",
        "POST",
        lambda w: "/api/v1/offboarding/cases/",
        lambda w: {"leaver": w.org.rep_leaving.pk, "reason": "resigned"},
    ),
    (
        "lead",
        "POST",
        _case_url("approve"),
        lambda w: {},
    ),
    ("hr", "POST", _case_url("schedule"), lambda w: {}),
    ("hr", "POST", _case_url("cancel"), lambda w: {"reason": "withdrawn resignation"}),
    ("auditor", "GET", lambda w: f"/api/v1/audit/events/{_event(w.org).pk}/", None),
    (
        "security",
        "POST",
        lambda w: f"/api/v1/alerts/{_alert(w.org).pk}/release-reads/",
        lambda w: {"reason": "checked with the team lead"},
    ),
    ("hr", "POST", _case_url("run"), lambda w: {}),
    ("admin_user", "GET", lambda w: "/api/v1/audit/events/", None),
]


@pytest.mark.parametrize(
    "role,method,url,body", PRIVILEGED, ids=[f"{r[0]} {r[1]} {i}" for i, r in enumerate(PRIVILEGED)]
)
def test_a_privileged_action_without_second_factor_answers_mfa_required(
    role, method, url, body, org, customers, api_client_for
):
    world = type("World", (), {"org": org, "customers": customers})
    user = getattr(org, role)
    path = url(world)

    data = body(world) if body else None
    without = getattr(api_client_for(user, second_factor=False), method.lower())(
        path, data, format="json"
    )

    assert without.status_code == 403
    assert without.json()["code"] == "mfa_required"


@pytest.mark.parametrize("role,method,url,body", PRIVILEGED[:5])
def test_the_same_action_with_the_second_factor_is_not_refused_for_it(
    role, method, url, body, org, customers, api_client_for
):
    world = type("World", (), {"org": org, "customers": customers})
    data = body(world) if body else None
    response = getattr(api_client_for(getattr(org, role)), method.lower())(
        url(world), data, format="json"
    )

    assert response.status_code == 200, response.content[:300]


def test_a_rep_needs_no_second_factor_for_a_contact_reveal(org, customers, api_client_for):
    response = api_client_for(org.rep, second_factor=False).post(
        f"/api/v1/customers/{customers.of_rep.pk}/reveal/",
        {"field": "mobile", "reason": "calling back about the order"},
        format="json",
    )

    assert response.status_code == 200


def test_the_required_roles_are_a_setting(settings, org, customers, api_client_for):
    settings.SCRM_MFA_REQUIRED_ROLES = ["Sales rep"]

    rep = api_client_for(org.rep, second_factor=False).post(
        f"/api/v1/customers/{customers.of_rep.pk}/reveal/",
        {"field": "mobile", "reason": "calling back about the order"},
        format="json",
    )
    auditor = api_client_for(org.auditor, second_factor=False).get("/api/v1/audit/events/")

    assert rep.json()["code"] == "mfa_required" and auditor.status_code == 200


def test_a_password_only_token_of_an_enrolled_privileged_user_cannot_be_had(org, anon_client):
    """The password alone never yields a token for an enrolled account: the only way to a
    privileged action is through the code."""
    enrol(org.auditor)

    body = sign_in(anon_client, org.auditor).json()

    assert "access" not in body


def test_enrolment_and_reset_are_in_the_change_log_with_the_secrets_concealed(org):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from scrm.staff import mfa

    secret, codes = enrol_through_api(org.hr)
    device = TOTPDevice.objects.get(user=org.hr)
    mfa.reset_second_factor(actor=org.admin_user, staff=org.hr)

    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(TOTPDevice), object_pk=str(device.pk)
    ).order_by("id")
    actions = [entry.action for entry in entries]
    assert actions[0] == LogEntry.Action.CREATE and actions[-1] == LogEntry.Action.DELETE
    stored = " ".join(str(entry.changes) for entry in LogEntry.objects.all())
    assert device.key not in stored and secret not in stored
    assert not any(code in stored for code in codes)


BAD_BODIES = [[], "text", {"username": None, "password": None}, {"username": ["a"]}, {}]
SIGN_IN_ENDPOINTS = [
    "/api/v1/auth/token/",
    "/api/v1/auth/token/mfa/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
]


@pytest.mark.parametrize("url", SIGN_IN_ENDPOINTS)
@pytest.mark.parametrize("body", BAD_BODIES, ids=["list", "string", "nulls", "wrong type", "empty"])
def test_bad_bodies_get_a_clear_400_on_every_sign_in_endpoint(url, body, db, anon_client):
    response = anon_client.post(url, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_a_huge_code_or_ticket_is_a_field_error(org, anon_client):
    response = anon_client.post(MFA, {"ticket": "x" * 10_000, "code": "9" * 10_000}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"ticket", "code"}


def test_every_second_factor_action_is_an_action_of_its_view():
    """A name in `second_factor_actions` that the view does not answer guards nothing."""
    from django.urls import get_resolver

    from scrm.api.viewsets import DeclaredScopeMixin

    assert get_resolver().url_patterns  # loading the URLconf imports every view

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    stray = {
        (view.__name__, name)
        for view in subclasses(DeclaredScopeMixin)
        for name in view.second_factor_actions
        if name not in view.scope_actions
    }
    assert stray == set()

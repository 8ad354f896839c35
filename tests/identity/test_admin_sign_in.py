"""The admin's sign-in: the code after the password, enrolment for the privileged roles."""

import re

from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from scrm.audit.models import AccessAction, AccessEvent
from scrm.staff import mfa
from tests.factories import TEST_PASSWORD
from tests.signin import current_code, enrol, fresh_code

LOGIN, VERIFY, ENROL = "/admin/login/?next=/admin/", "/admin/mfa/verify/", "/admin/mfa/enrol/"


def password_step(client: Client, user) -> object:
    return client.post(LOGIN, {"username": user.username, "password": TEST_PASSWORD})


def test_an_enrolled_account_is_asked_for_the_code_after_the_password(org):
    device = enrol(org.legal)
    browser = Client()

    after_password = password_step(browser, org.legal)

    assert after_password.status_code == 302 and after_password["Location"] == VERIFY
    assert browser.get("/admin/").status_code == 302  # not signed in yet
    assert not AccessEvent.objects.filter(action=AccessAction.LOGIN).exists()

    signed_in = browser.post(VERIFY, {"code": fresh_code(device)})

    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200
    assert AccessEvent.objects.get(action=AccessAction.LOGIN).actor == org.legal


def test_a_wrong_code_keeps_the_door_shut_and_is_recorded(org):
    enrol(org.legal)
    browser = Client()
    password_step(browser, org.legal)

    response = browser.post(VERIFY, {"code": "000000"})

    assert response.status_code == 200 and "验证码错误或已被使用" in response.content.decode()
    assert browser.get("/admin/").status_code == 302
    assert AccessEvent.objects.filter(action=AccessAction.LOGIN_FAILED).count() == 1


def test_the_code_step_cannot_be_reached_without_the_password(org):
    device = enrol(org.legal)

    response = Client().post(VERIFY, {"code": current_code(device)})

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_privileged_account_without_authenticator_can_do_nothing_but_enrol(org):
    browser = Client()
    password_step(browser, org.auditor)

    for page in ("/admin/", "/admin/audit/accessevent/", "/admin/customers/customer/"):
        response = browser.get(page)
        assert response.status_code == 302 and response["Location"] == ENROL, page

    page = browser.get(ENROL).content.decode()
    assert "<svg" in page and "otpauth" not in page  # the QR code inline, not a link to it
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=org.auditor, confirmed=False)
    assert mfa.PendingEnrolment(device).secret == secret

    done = browser.post(ENROL, {"code": fresh_code(device)})

    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=org.auditor).count() == 10
    assert browser.get("/admin/audit/accessevent/").status_code == 200


def test_a_reload_of_the_enrolment_page_keeps_its_secret(org):
    browser = Client()
    password_step(browser, org.hr)
    first = browser.get(ENROL).content
    second = browser.get(ENROL).content

    assert TOTPDevice.objects.filter(user=org.hr).count() == 1
    secret = rb'id="mfa-secret">([A-Z2-7 ]+)<'
    assert re.search(secret, first).group(1) == re.search(secret, second).group(1)


def test_a_rep_without_authenticator_uses_the_admin_freely(org):
    browser = Client()
    password_step(browser, org.rep)

    assert browser.get("/admin/customers/customer/").status_code == 200


def test_a_recovery_code_signs_in_once_in_the_admin(org):
    enrol(org.legal)
    codes = mfa._new_recovery_codes(org.legal)
    browser = Client()
    password_step(browser, org.legal)
    assert browser.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert browser.get("/admin/").status_code == 200

    again = Client()
    password_step(again, org.legal)
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 200  # refused, form again
    assert again.get("/admin/").status_code == 302


def test_demo_accounts_are_enrolled_and_demo_otp_prints_their_code(db, capsys, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off (pytest turns it off)
    call_command("seed_demo", customers=0, verbosity=0)
    from scrm.staff.models import Staff

    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True)
    )
    assert {"admin", "manager1", "lead1", "hr1", "legal1", "auditor1", "security1"} <= enrolled
    assert "rep1" not in enrolled

    call_command("demo_otp", "legal1")
    code = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d{6}", code)
    legal1 = Staff.objects.get(username="legal1")
    assert mfa.verify_second_factor(user=legal1, code=code) is not None


def test_demo_otp_refuses_an_account_with_a_real_authenticator(org):
    import pytest
    from django.core.management.base import CommandError

    enrol(org.legal)  # not the published demo key

    with pytest.raises(CommandError, match="no demo authenticator"):
        call_command("demo_otp", "legal")


def test_readme_lists_each_demo_accounts_secret():
    """The demo TOTP table in README.md is what seed_demo enrols."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for username in (
        "admin",
        "manager1",
        "lead1",
        "lead2",
        "hr1",
        "legal1",
        "auditor1",
        "security1",
    ):
        assert f"| `{username}` | `{mfa.demo_totp_secret(username)}` |" in readme, username

"""The admin, the reveal buttons, the dashboard chart, Swagger UI and ReDoc work in a real
browser under the Content-Security-Policy, and the browser reports no violation.

A development server (`runserver --noreload`, DEBUG=1 so it serves the static files) runs on a
port of its own over a throwaway SQLite file seeded with the demo organisation, and the system's
Chromium (/usr/bin/chromium, headless) is driven with Playwright. Chromium logs every refused
script, style, image or worker as a console error; each test collects the console and fails on
any error. Skipped when Chromium or Playwright is missing (`pip install playwright`; never
`playwright install`, which would download a browser).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        "no Chromium at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "scrm-demo-2026"
# ReDoc draws a "Redocly" logo from cdn.redoc.ly, hard-coded in its bundle with no option to
# turn it off. The policy refuses it, as it must refuse every CDN; ReDoc then hides the image.
# This refusal, on the ReDoc page only, is the one console error expected anywhere.
REDOC_LOGO_REFUSED = re.compile(
    r"^Loading the image 'https://cdn\.redoc\.ly/redoc/logo-mini\.svg' violates the following "
    r"Content Security Policy directive: \"img-src 'self' data:\"\. The action has been blocked\.$"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(database: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    return {**env, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"}


_SERVER_ENV: dict[str, str] = {}


def demo_code(username: str) -> str:
    """The current code of a demo account (seed_demo enrols the privileged ones)."""
    out = subprocess.run(
        [sys.executable, "manage.py", "demo_otp", username],
        cwd=ROOT,
        env=_SERVER_ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    database = tmp_path_factory.mktemp("browser") / "db.sqlite3"
    env = _server_env(database)
    _SERVER_ENV.clear()
    _SERVER_ENV.update(env)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo", "--customers", "20"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/admin/login/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        yield chromium
        chromium.close()


class Session:
    """One signed-in browser context and every console error its pages logged."""

    def __init__(self, browser, base_url: str, username: str, enrolled: bool = True):
        self.base_url = base_url
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[tuple[str, str]] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append((self.page.url, str(error))))
        self.open("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("input[type=submit]")
        if self.page.url.endswith("/admin/mfa/verify/"):  # the second factor
            self.page.fill("#id_code", demo_code(username))
            with self.page.expect_navigation():
                self.page.click("input[type=submit]")
        assert "/admin/login/" not in self.page.url, f"{username} could not sign in"
        assert "/admin/mfa/" not in self.page.url or not enrolled, self.page.url

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append((self.page.url, message.text))

    def open(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response.status == 200, (path, response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "script-src 'self'" in policy, path
        return response

    def errors_except(self, allowed: re.Pattern | None = None) -> list[tuple[str, str]]:
        return [(url, text) for url, text in self.errors if not (allowed and allowed.match(text))]


@pytest.fixture
def session(browser, base_url):
    sessions = []

    def sign_in(username: str, enrolled: bool = True) -> Session:
        sessions.append(Session(browser, base_url, username, enrolled))
        return sessions[-1]

    yield sign_in
    for opened in sessions:
        opened.context.close()


def test_the_admin_pages_run_without_a_violation(session):
    admin = session("admin")
    pages = [
        "/admin/",
        "/admin/customers/customer/",
        "/admin/customers/customer/dashboard/",
        "/admin/customers/customer/add/",
        "/admin/chats/message/",
        "/admin/offboarding/offboardingcase/",
        "/admin/offboarding/offboardingcase/add/",
        "/admin/staff/staff/",
        "/admin/audit/accessevent/",
        "/admin/auditlog/logentry/",
        "/admin/masking-matrix/",
        "/admin/django_celery_beat/periodictask/add/",
    ]
    for path in pages:
        admin.open(path)
        admin.page.wait_for_load_state("load")
    # The changelist's select-all box is the admin's own JavaScript at work.
    admin.open("/admin/customers/customer/")
    admin.page.check("#action-toggle")
    assert admin.page.locator("input.action-select:checked").count() > 0

    assert admin.errors_except() == []


def test_a_sales_rep_reveals_a_mobile_number_with_the_button(session):
    rep = session("rep1")
    rep.open("/admin/customers/customer/")
    with rep.page.expect_navigation():
        rep.page.locator("#result_list tbody tr th a").first.click()
    assert "/change/" in rep.page.url
    masked = rep.page.input_value("#id_mobile")

    rep.page.fill('.scrm-reveal-reason[data-field="mobile"]', "customer asked for a call back")
    rep.page.click('button.scrm-reveal[data-field="mobile"]')

    value = rep.page.locator('.scrm-reveal-value[data-field="mobile"]')
    sync_api.expect(value).to_have_text(re.compile(r"^1\d{10}$"), timeout=10_000)
    assert "*" in masked and value.text_content() != masked
    assert rep.errors_except() == []


def test_the_dashboard_chart_draws_its_bars(session):
    manager = session("manager1")
    manager.open("/admin/customers/customer/dashboard/")
    manager.page.wait_for_load_state("load")

    chart = manager.page.locator("#weekly-chart")
    tallest = manager.page.locator('#weekly-chart div[data-percent="100"]').first
    # Without the script every bar would be its 1px minimum.
    assert tallest.bounding_box()["height"] == pytest.approx(chart.bounding_box()["height"], abs=2)
    assert manager.errors_except() == []


def test_swagger_ui_renders_the_operations_and_tries_one(session):
    rep = session("rep1")
    rep.open("/api/docs/")
    rep.page.wait_for_selector(".opblock", timeout=20_000)
    assert rep.page.locator(".opblock").count() > 20

    me = rep.page.locator(".opblock", has_text="/api/v1/me/").first
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()

    status = me.locator(".live-responses-table tbody td.response-col_status").first
    sync_api.expect(status).to_have_text("200", timeout=10_000)
    assert rep.errors_except() == []


def test_redoc_renders_the_operations(session):
    rep = session("rep1")
    rep.open("/api/redoc/")
    rep.page.wait_for_selector("[data-section-id^='operation/']", timeout=20_000)
    assert rep.page.locator("[data-section-id^='operation/']").count() > 20

    assert rep.errors_except(REDOC_LOGO_REFUSED) == []


def test_the_second_factor_pages_run_without_a_violation(session):
    """A privileged account without an authenticator: the set-up page (inline SVG QR code)
    and the recovery codes render under the policy, and the account is in afterwards."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django_otp.plugins.otp_totp.models import TOTPDevice;"
            "TOTPDevice.objects.filter(user__username='security1').delete()",
        ],
        cwd=ROOT,
        env=_SERVER_ENV,
        check=True,
        capture_output=True,
    )
    officer = session("security1", enrolled=False)
    assert officer.page.url.endswith("/admin/mfa/enrol/")
    assert officer.page.locator(".mfa-qr svg").is_visible()
    secret = officer.page.inner_text("#mfa-secret").replace(" ", "")

    officer.page.fill("#id_code", f"{TOTP(b32decode(secret)).token():06d}")
    with officer.page.expect_navigation():
        officer.page.click("#mfa-enrol-form input[type=submit]")

    assert officer.page.locator("#recovery-codes li").count() == 10
    officer.open("/admin/audit/securityalert/")
    assert officer.errors_except() == []


def test_the_supervisor_approves_a_case_by_clicking(session):
    """Issue 11's broken step: Approve on the case page posts to the approve URL (it used to
    sit in a form nested in the change form, which the browser drops)."""
    script = (
        "from django.utils import timezone\n"
        "from offboarding.services import create_case\n"
        "from scrm.staff.models import Staff\n"
        "get = Staff.objects.get\n"
        "case = create_case(actor=get(username='hr1'), leaver=get(username='rep3'),"
        " reason='resigned', notice_date=timezone.localdate(), effective_at=timezone.now(),"
        " successors=[get(username='rep4')])\n"
        "print(case.pk)\n"
    )
    created = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=_SERVER_ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    case_id = created.stdout.strip().splitlines()[-1]
    lead = session("lead1")
    lead.open(f"/admin/offboarding/offboardingcase/{case_id}/change/")

    with lead.page.expect_navigation():
        lead.page.click("#case-actions button:has-text('Approve')")

    assert lead.page.url.endswith(f"/offboardingcase/{case_id}/change/")
    assert "Case approved." in lead.page.inner_text(".messagelist")
    assert lead.errors_except() == []

"""Browser journeys: the admin as a person uses it, in a real Chromium, in Chinese.

One development server (`runserver --noreload`, DEBUG=1 so it serves the static files) runs for
the whole session over a throwaway SQLite file seeded by `seed_demo` (what `make run` shows), and
the system's Chromium (/usr/bin/chromium, headless) is driven by pytest-playwright's `browser`
fixture. Each `session(username)` is a fresh browser context, 1366×900, Accept-Language zh-CN,
signed in through the real login and two-factor pages; it collects every console error.

Every test here is marked `browser`. Without Chromium or Playwright they skip, saying why
(`apt-get install chromium fonts-noto-cjk`; never `playwright install`, which downloads one).
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
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "scrm-demo-2026"
SKIP_REASON = None
if not Path(CHROMIUM).exists():
    SKIP_REASON = "no Chromium at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)"
else:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        SKIP_REASON = "Playwright is not installed (pip install pytest-playwright)"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if SKIP_REASON:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoSite:
    """The seeded development server and a way to run manage.py against its database."""

    def __init__(self, url: str, env: dict[str, str]):
        self.url = url
        self.env = env

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def shell(self, code: str) -> str:
        """Run Python against the site's database (set-up a journey cannot click, e.g. time)."""
        return self.manage("shell", "-c", code)

    def otp(self, username: str) -> str:
        return self.manage("demo_otp", username)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    database = tmp_path_factory.mktemp("browser") / "db.sqlite3"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{database}")
    site = DemoSite("", env)
    site.manage("migrate", "--no-input", "-v", "0")
    site.manage("seed_demo", "--customers", "60")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site.url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{site.url}/admin/login/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield site
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright launches the system's Chromium, never a downloaded one."""
    return {"executable_path": CHROMIUM, "args": ["--no-sandbox"], "headless": True}


class Session:
    """One signed-in browser context and every console error its pages logged."""

    def __init__(self, browser, site: DemoSite, username: str, language: str = "zh-CN"):
        self.site = site
        self.username = username
        self.context = browser.new_context(
            locale=language,
            viewport={"width": 1366, "height": 900},
            extra_http_headers={"Accept-Language": language},
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[tuple[str, str]] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append((self.page.url, str(error))))
        self.sign_in()

    def sign_in(self) -> None:
        self.open("/admin/login/")
        self.page.fill("#id_username", self.username)
        self.page.fill("#id_password", PASSWORD)
        with self.page.expect_navigation():
            self.page.locator("form [type=submit]").first.click()
        if self.page.url.endswith("/admin/mfa/verify/"):  # the second factor
            self.page.fill("#id_code", self.site.otp(self.username))
            with self.page.expect_navigation():
                self.page.locator("form [type=submit]").first.click()
        assert "/admin/login/" not in self.page.url, f"{self.username} could not sign in"

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append((self.page.url, message.text))

    def open(self, path: str, status: int = 200):
        response = self.page.goto(self.site.url + path)
        assert response.status == status, (path, response.status)
        # Every page carries the Content-Security-Policy (scripts and styles from this server).
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "script-src 'self'" in policy, path
        return response

    def text(self) -> str:
        """What a person reads on the page (visible text only)."""
        return self.page.locator("body").inner_text()

    def screenshot(self, name: str) -> Path:
        out = Path(os.environ.get("SCRM_SCREENSHOT_DIR", "/tmp/scrm-screens")) / f"{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(out), full_page=True)
        return out

    def errors_except(self, allowed: re.Pattern | None = None) -> list[tuple[str, str]]:
        return [(url, text) for url, text in self.errors if not (allowed and allowed.match(text))]


@pytest.fixture
def session(browser, demo_site):
    """`session("hr1")`: a signed-in browser as that demo user (closed after the test)."""
    sessions = []

    def sign_in(username: str, language: str = "zh-CN") -> Session:
        sessions.append(Session(browser, demo_site, username, language))
        return sessions[-1]

    yield sign_in
    for opened in sessions:
        opened.context.close()

"""`make screenshots`: the main pages per demo role, as PNGs in docs/screenshots/.

Builds a throwaway SQLite demo (migrate + seed_demo), starts the development server on a free
port, signs each role in through the real login and two-factor pages (the code from
`manage.py demo_otp`), and writes docs/screenshots/<role>-<page>.png at 1366×900 in zh-hans.
Runs the system's Chromium (/usr/bin/chromium) through Playwright; never downloads a browser.

    python tools/screenshots.py [--out docs/screenshots] [--only rep1,hr1]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = os.environ.get("SCRM_DEMO_PASSWORD", "scrm-demo-2026")
VIEWPORT = {"width": 1366, "height": 900}

# (page name, path): `{customer}` is the first customer the role's customer list shows.
PAGES: dict[str, list[tuple[str, str]]] = {
    "admin": [
        ("home", "/admin/"),
        ("staff", "/admin/staff/staff/"),
        ("masking-matrix", "/admin/masking-matrix/"),
    ],
    "manager1": [("home", "/admin/"), ("customers", "/admin/customers/customer/")],
    "lead1": [("home", "/admin/"), ("customers", "/admin/customers/customer/")],
    "rep1": [
        ("home", "/admin/"),
        ("customers", "/admin/customers/customer/"),
        ("customer", "{customer}"),
        ("conversations", "/admin/chats/conversation/"),
        ("403", "/admin/masking-matrix/"),
        ("api", "/api/v1/customers/"),
    ],
    "hr1": [("home", "/admin/"), ("offboarding", "/admin/offboarding/offboardingcase/")],
    "legal1": [("home", "/admin/"), ("legal-holds", "/admin/chats/legalhold/")],
    "auditor1": [("home", "/admin/"), ("audit-events", "/admin/audit/accessevent/")],
    "security1": [("home", "/admin/"), ("alerts", "/admin/audit/securityalert/")],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.3)


def _sign_in(page, base: str, env: dict[str, str], username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()
    if page.url.endswith("/admin/mfa/verify/"):
        page.fill("#id_code", _manage(env, "demo_otp", username))
        with page.expect_navigation():
            page.locator("form [type=submit]").first.click()
    if "/admin/login/" in page.url or "/mfa/" in page.url:
        raise SystemExit(f"{username} could not sign in ({page.url})")


def _first_customer(page, base: str) -> str:
    page.goto(f"{base}/admin/customers/customer/")
    link = page.locator("#result_list tbody a[href*='/change/']").first
    return link.get_attribute("href") or "/admin/customers/customer/"


def _error_page(page, base: str, env: dict[str, str], template: str) -> None:
    """An error page as Django renders it with DEBUG off (the development server shows its
    technical pages instead), shown from the site's origin so its stylesheets load."""
    rendered = _manage(
        env,
        "shell",
        "-c",
        "from django.template import loader; from django.utils import translation; "
        f"translation.activate('zh-hans'); print(loader.get_template('{template}').render())",
    )
    rendered = rendered[rendered.index("<!DOCTYPE") :]  # after the shell's own banner
    page.goto(f"{base}/admin/no-such-page/")  # an HTML document of the same origin
    page.set_content(rendered, wait_until="networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only", help="comma-separated roles (default: every role)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    roles = args.only.split(",") if args.only else list(PAGES)

    with tempfile.TemporaryDirectory(prefix="scrm-screens-") as tmp:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "CELERY_BROKER_URL", "CACHE_URL"}
        }
        env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp}/demo.sqlite3")
        print("building the demo database ...", flush=True)
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "seed_demo", "--customers", "60")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(f"{base}/admin/login/", server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
                )
                for role in roles:
                    context = browser.new_context(
                        locale="zh-CN",
                        viewport=VIEWPORT,
                        extra_http_headers={"Accept-Language": "zh-hans,zh;q=0.9"},
                    )
                    page = context.new_page()
                    _sign_in(page, base, env, role)
                    for name, path in PAGES[role]:
                        if path == "{customer}":
                            path = _first_customer(page, base)
                        page.goto(base + path, wait_until="networkidle")
                        target = out / f"{role}-{name}.png"
                        page.screenshot(path=str(target))
                        print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
                    for code in ("404", "500") if role == "rep1" else ():
                        _error_page(page, base, env, f"{code}.html")
                        target = out / f"{role}-{code}.png"
                        page.screenshot(path=str(target))
                        print(target)
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

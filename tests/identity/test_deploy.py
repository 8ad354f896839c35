"""A deploy that fails closed: DEBUG defaults to off, production refuses to start without real
secrets, HTTPS is on by default in production, and `check --deploy` under the production
settings of .env.example reports nothing.

Each test starts manage.py (or Python) in a subprocess with an environment of its own: the
settings are read once per process, and this test process runs with DEBUG=1 (pytest-env).
"""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAMES = ("DJANGO_SECRET_KEY", "SCRM_FIELD_KEYS", "SCRM_BLIND_INDEX_KEY")
HTTPS_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "CSRF_TRUSTED_ORIGINS",
)


def bare_environment(**extra: str) -> dict[str, str]:
    """This machine's environment without anything scrm reads: as a server with a forgotten
    variable would start. PATH and the like stay."""
    names = env_example_names() | {"DEBUG", *SECRET_NAMES, "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, **extra}


def real_looking_secrets() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SCRM_FIELD_KEYS": "k2026a:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SCRM_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def env_example_values() -> dict[str, str]:
    """The variables .env.example sets (its uncommented NAME=value lines)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line))
    return dict(pairs)


def env_example_names() -> set[str]:
    """Every variable .env.example documents, set or commented out."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_of(env: dict[str, str]) -> dict:
    """The HTTPS settings and DEBUG as a process with this environment reads them."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {[*HTTPS_SETTINGS, 'DEBUG']!r}}}))"
    )
    done = run(["-c", code], {**env, "DJANGO_SETTINGS_MODULE": "scrm.settings"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_forgotten_debug_and_no_secrets_refuse_to_start_in_one_clear_line():
    done = run(["manage.py", "check"], bare_environment())

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "refuses to start" in lines[0]
    assert "DEBUG is off" in lines[0]
    for name in SECRET_NAMES:
        assert name in lines[0]


def test_one_missing_secret_is_enough_to_refuse():
    partial = {k: v for k, v in real_looking_secrets().items() if k != "SCRM_BLIND_INDEX_KEY"}

    done = run(["manage.py", "check"], bare_environment(**partial))

    assert done.returncode == 1
    assert "SCRM_BLIND_INDEX_KEY" in done.stderr
    assert "DJANGO_SECRET_KEY" not in done.stderr


def test_no_debug_variable_means_production_https_defaults():
    values = settings_of(bare_environment(**real_looking_secrets()))

    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        # Trusting a forwarded header is a decision about the proxy: never a default.
        "SECURE_PROXY_SSL_HEADER": None,
        "CSRF_TRUSTED_ORIGINS": [],
    }


def test_debug_on_keeps_plain_http_convenient():
    values = settings_of(bare_environment(DEBUG="1"))

    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert not values["SESSION_COOKIE_SECURE"] and not values["CSRF_COOKIE_SECURE"]


def test_each_https_setting_is_read_from_the_environment():
    env = bare_environment(
        **real_looking_secrets(),
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="no",
        SECURE_HSTS_PRELOAD="false",
        SESSION_COOKIE_SECURE="off",
        CSRF_COOKIE_SECURE="0",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        CSRF_TRUSTED_ORIGINS="https://crm.example.com, https://m.example.com",
    )

    values = settings_of(env)

    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://crm.example.com", "https://m.example.com"],
    }


def test_a_malformed_proxy_header_refuses_to_start():
    env = bare_environment(DEBUG="1", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")

    done = run(["manage.py", "check"], env)

    assert done.returncode == 1
    assert "SECURE_PROXY_SSL_HEADER" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_deploy_under_the_production_settings_of_env_example_reports_nothing():
    example = env_example_values()
    assert example["DEBUG"] == "0"  # the file describes a server
    env = bare_environment(**example, **real_looking_secrets())

    done = run(["manage.py", "check", "--deploy"], env)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNINGS" not in output
    assert "?: (security" not in output
    assert "System check identified no issues" in output


def test_check_deploy_does_warn_when_production_is_weakened():
    """The test above could pass with a check that looks at nothing: this one must warn."""
    env = bare_environment(
        **env_example_values(),
        **real_looking_secrets(),
        SECURE_HSTS_SECONDS="0",
        SESSION_COOKIE_SECURE="0",
    )

    done = run(["manage.py", "check", "--deploy"], env)

    assert "security.W004" in done.stderr  # no HSTS
    assert "security.W012" in done.stderr  # session cookie over http


def test_env_example_documents_every_variable_the_settings_read():
    sources = (ROOT / "scrm" / "settings.py").read_text() + (
        ROOT / "scrm" / "devkeys.py"
    ).read_text()
    read = set(
        re.findall(r'(?:environ(?:\.get)?|env_bool|env_list)\(\s*"([A-Z][A-Z0-9_]*)"', sources)
    )
    read |= set(re.findall(r'environ\["([A-Z][A-Z0-9_]*)"\]', sources))
    read |= set(SECRET_NAMES)

    assert read - env_example_names() == set()

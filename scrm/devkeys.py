"""Secrets for the embedded default.

Production (DEBUG off) must provide DJANGO_SECRET_KEY, SCRM_FIELD_KEYS and SCRM_BLIND_INDEX_KEY.
A development checkout generates its own on first run and keeps them in a git-ignored file, so
the encrypted demo data stays readable across restarts.
"""

import base64
import json
import os
import secrets
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

NAMES = ("DJANGO_SECRET_KEY", "SCRM_FIELD_KEYS", "SCRM_BLIND_INDEX_KEY")


class UnsafeToStart(ImproperlyConfigured):
    """The environment would start scrm unsafely; the message says what to set. manage.py
    prints it as one line and exits 1 (a server's log shows the traceback)."""


def _generate() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SCRM_FIELD_KEYS": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SCRM_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def load_or_create_dev_keys(path: Path, *, production: bool) -> dict[str, str]:
    from_env = {name: os.environ.get(name, "") for name in NAMES}
    if all(from_env.values()):
        return from_env
    if production:
        missing = ", ".join(name for name, value in from_env.items() if not value)
        raise UnsafeToStart(
            f"DEBUG is off (production) and these secrets are not set: {missing}. "
            "Set them (see .env.example), or DEBUG=1 for development."
        )
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        stored = _generate()
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
        print(
            f"scrm: generated local development keys in {path} (never use them in production)",
            file=sys.stderr,
        )
    return {name: from_env[name] or stored[name] for name in NAMES}

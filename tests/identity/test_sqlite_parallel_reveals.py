"""30 reveals at once on the SQLite default answer 200 or 429 (the hourly limit), never 500.

SQLite allows one writer at a time. A reveal reads (the hour's count) and then writes (its
access event) in one transaction; begun DEFERRED, two such transactions both hold a read lock
and the second to write fails at once with "database is locked" (the busy timeout does not
apply to a lock upgrade that would deadlock): a 500. The settings begin SQLite transactions
IMMEDIATE, so each waits for the write lock up front within the busy timeout.

For real: a gunicorn server (4 processes x 4 threads) over a temporary SQLite file, three sales
reps, ten threads per rep released together, each revealing the mobile number of that rep's own
customer. A reveal stays allowed without a second factor for a sales rep.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from json import dumps, loads
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REPS = ("rep_a", "rep_b", "rep_c")
PER_REP = 10  # 30 requests in all
LIMIT = 5  # SCRM_REVEAL_LIMIT_PER_HOUR for the server: each rep gets 5 reveals, then 429

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="about the SQLite default (PostgreSQL run)"
)

SEED = f"""
from scrm.staff import roles
from tests.factories import CustomerFactory, StaffFactory, TeamFactory
team = TeamFactory()
for username in {REPS!r}:
    rep = StaffFactory(username=username, roles=[roles.SALES_REP], team=team)
    print("seeded", username, CustomerFactory(owner=rep).pk)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, loads(response.read())
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, loads(payload)
        except ValueError:
            return error.code, {"body": payload[:200].decode(errors="replace")}


@pytest.fixture
def server(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "CACHE_URL"}},
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "SCRM_REVEAL_LIMIT_PER_HOUR": str(LIMIT),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True
    )
    lines = [line.split() for line in seeded.stdout.decode().splitlines()]
    customers = {line[1]: line[2] for line in lines if line[:1] == ["seeded"]}
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "scrm.wsgi", "-b", f"127.0.0.1:{port}"]
        + ["--workers", "4", "--threads", "4", "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base, database, customers
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_thirty_parallel_reveals_answer_200_or_429_and_never_500(server):
    base, database, customers = server
    tokens = {}
    for username in REPS:
        status, body = _post(
            f"{base}/api/v1/auth/token/", {"username": username, "password": "pw-test-1234"}
        )
        assert status == 200, body
        tokens[username] = body["access"]
    start = threading.Barrier(len(REPS) * PER_REP)
    answers: list[tuple[str, int, dict]] = []

    def reveal(username: str) -> None:
        url = f"{base}/api/v1/customers/{customers[username]}/reveal/"
        start.wait()
        status, body = _post(url, {"field": "mobile", "reason": "call back"}, tokens[username])
        answers.append((username, status, body))

    threads = [threading.Thread(target=reveal, args=(u,)) for u in REPS for _ in range(PER_REP)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == len(threads)
    failures = [(u, s, b) for u, s, b in answers if s not in (200, 429)]
    assert failures == []
    revealed = Counter(u for u, s, _ in answers if s == 200)
    # Serialised, the limit holds exactly: each rep's first LIMIT reveals, then refusals.
    assert revealed == dict.fromkeys(REPS, LIMIT)
    assert all(b["code"] == "reveal_limit" for _, s, b in answers if s == 429)
    with sqlite3.connect(database) as db:
        [(recorded,)] = db.execute(
            "SELECT count(*) FROM audit_accessevent WHERE action = 'reveal' AND allowed"
        ).fetchall()
    assert recorded == sum(revealed.values())

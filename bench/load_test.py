"""Benchmark 6: gunicorn (4 workers, 127.0.0.1) under locust, 50 users for 2 minutes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python bench/load_test.py [--users 50] [--duration 2m] [--workers 4]

Starts gunicorn in production mode (DEBUG off, the secrets exported from the same
.scrm-dev-keys.json the dataset was encrypted with), waits for it, mints one access token per
simulated user (35 reps, 8 team leads, 5 sales managers, 2 legal: different people, so
per-user throttles and reveal limits apply per person as in real use), runs locust headless
(bench/locustfile.py), stops gunicorn (only the process it started) and reports requests/s,
p50/p95 per request kind and the error count. The reveal limit is raised for the run, as in the
other benchmarks (SCRM_REVEAL_LIMIT_PER_HOUR); the API throttle keeps its default.
"""

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

import benchlib
from rest_framework_simplejwt.tokens import AccessToken

from scrm.staff import roles

PORT = 8100
MIX = [(roles.SALES_REP, 35), (roles.TEAM_LEAD, 8), (roles.SALES_MANAGER, 5), (roles.LEGAL, 2)]


def accounts(users: int) -> list[dict]:
    out = []
    for role, share in MIX:
        count = max(1, round(users * share / 50))
        members = benchlib.Staff.objects.filter(
            groups__name=role, is_active=True, employment_status="active"
        ).order_by("pk")[:count]
        out += [
            {
                "username": m.username,
                "id": m.pk,
                "team": m.team_id,
                "role": role,
                "token": str(AccessToken.for_user(m)),
            }
            for m in members
        ]
    return out[:users] if len(out) >= users else out


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on {port} within {timeout} s")


@contextmanager
def gunicorn(workers: int, *, log_path: str | None = None):
    """gunicorn serving scrm on 127.0.0.1:PORT in production mode, listening when the block
    starts, stopped when it ends."""
    log = open(log_path, "w") if log_path else None  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "scrm.wsgi:application",
         "--workers", str(workers), "--bind", f"127.0.0.1:{PORT}", "--timeout", "120",
         "--log-level", "warning"],
        cwd=benchlib.ROOT,
        env=server_env(),
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )  # fmt: skip
    try:
        wait_for_port(PORT)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # A worker still inside a slow request keeps gunicorn's graceful stop waiting;
            # the figures are already taken.
            server.kill()
            server.wait()
        if log:
            log.close()


def server_env() -> dict:
    keys = json.loads((benchlib.ROOT / ".scrm-dev-keys.json").read_text())
    env = {**os.environ, **keys}
    # Production mode over plain http on loopback: no redirect to https (the HTTPS defaults of
    # DEBUG off); the API uses JWTs, so the secure-cookie defaults do not matter here.
    env.update(DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="0")
    return env


def cpu_seconds(pids) -> float:
    """utime + stime of these processes (and their reaped children), from /proc."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


class BackendSampler(threading.Thread):
    """Polls the CPU time of this database's backends (parallel workers included) once a
    second, keeping the last value seen per process: backends come and go during a run (a
    connection is replaced after DB_CONN_MAX_AGE seconds, parallel workers live for one
    query), so one reading at the end would miss most of them. Up to a second of each
    short-lived process is lost; other databases on the server are not counted."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[int, float] = {}
        self.done = threading.Event()
        self.me = None

    def run(self):
        import psycopg

        settings = benchlib.connection.settings_dict
        with psycopg.connect(
            host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
            dbname=settings["NAME"], password=settings["PASSWORD"] or None, autocommit=True,
        ) as conn:  # fmt: skip
            while not self.done.wait(1.0):
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                ).fetchall()
                for (pid,) in rows:
                    self.seen[pid] = max(self.seen.get(pid, 0.0), cpu_seconds([pid]))

    def total(self) -> float:
        self.done.set()
        self.join(timeout=5)
        return sum(self.seen.values())


def worker_pids(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def parse_stats(prefix: str) -> dict:
    rows = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", default="2m")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--label", default="latest")
    parser.add_argument(
        "--wait", default="0.5,1.5", help="think time between a user's requests: min,max seconds"
    )
    parser.add_argument("--name", default="load", help="results file name")
    args = parser.parse_args()
    benchlib.require_bench_database()
    venv_bin = os.path.dirname(sys.executable)
    work = tempfile.mkdtemp(prefix="scrm-load-")
    tokens = os.path.join(work, "tokens.json")
    with open(tokens, "w", encoding="utf-8") as handle:
        json.dump(accounts(args.users), handle)

    with gunicorn(args.workers, log_path=os.path.join(work, "gunicorn.log")) as server:
        prefix = os.path.join(work, "locust")
        started = time.monotonic()
        sampler = BackendSampler()
        sampler.start()
        subprocess.run(
            [
                f"{venv_bin}/locust",
                "-f",
                str(benchlib.ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                "10",
                "-t",
                args.duration,
                "--host",
                f"http://127.0.0.1:{PORT}",
                "--csv",
                prefix,
                "--only-summary",
                "--stop-timeout",
                "10",
            ],  # fmt: skip
            env={**os.environ, "BENCH_TOKENS": tokens, "BENCH_WAIT": args.wait},
            check=False,
        )
        # Where the CPU went: the gunicorn workers (Django) and this database's backends.
        cpu = {
            "wall_seconds": round(time.monotonic() - started, 1),
            "gunicorn_cpu_seconds": round(cpu_seconds(worker_pids(server.pid)), 1),
            "postgres_cpu_seconds": round(sampler.total(), 1),
            "cores": os.cpu_count(),
        }
    stats = parse_stats(prefix)
    total = stats.get("Aggregated", {})
    print(
        f"\n{args.users} users, {args.duration}: {total.get('rps')} req/s, "
        f"p95 {total.get('p95_ms')} ms, errors {total.get('failures')} of {total.get('requests')}"
    )
    for name, row in stats.items():
        print(f"  {name:<12} {row}")
    print(f"  CPU: {cpu}")
    benchlib.save(
        args.name,
        {
            "users": args.users,
            "wait": args.wait,
            "duration": args.duration,
            "workers": args.workers,
            "stats": stats,
            "cpu": cpu,
            "logs": work,
        },
        label=args.label,
    )


if __name__ == "__main__":
    main()

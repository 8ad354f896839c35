"""What the benchmark scripts share: Django bootstrap, the bench-database guard, JWT clients,
timing loops with percentiles, query counting, and results written as JSON for bench/report.py.

Importing this module sets up Django (settings from the environment, DATABASE_URL required to
be a PostgreSQL database named scrm_bench*). Before setup it raises the per-user API throttle
and the hourly reveal limit through their environment variables, unless already set: a
benchmark sends thousands of requests per user, and measuring the 429/403 answers is not the
point. Both checks still run on every request, so their cost is in the figures.
"""

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
# A developer tool on the development keys (.scrm-dev-keys.json): DEBUG defaults to off.
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SCRM_API_USER_RATE", "1000000/min")
os.environ.setdefault("SCRM_REVEAL_LIMIT_PER_HOUR", "1000000")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from scrm.staff.models import Staff  # noqa: E402

DB_PREFIX = "scrm_bench"


def require_bench_database() -> str:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "postgresql" or not name.startswith(DB_PREFIX):
        sys.exit(
            f"benchmarks run only on PostgreSQL databases named {DB_PREFIX}* "
            f"(DATABASE_URL); this is {connection.vendor} {name!r}"
        )
    return name


def staff(username: str) -> Staff:
    return Staff.objects.get(username=username)


def jwt_client(user: Staff) -> Client:
    """A test client that authenticates every request with a real access token."""
    token = AccessToken.for_user(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(samples_ms: list[float]) -> dict:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 0.50), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2) if samples_ms else None,
        "max_ms": round(max(samples_ms), 2) if samples_ms else None,
    }


def timed(call: Callable[[int], object], *, requests: int, warmup: int = 5) -> list[float]:
    """Run call(i) `warmup` times untimed, then `requests` times; milliseconds per call."""
    for i in range(warmup):
        call(i)
    samples = []
    for i in range(requests):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def interleaved(calls: dict[str, Callable[[int], object]], *, requests: int, warmup: int = 5):
    """Time several variants in turn (a, b, a, b, ...) so caches and noise hit them alike."""
    for i in range(warmup):
        for call in calls.values():
            call(i)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(requests):
        for name, call in calls.items():
            started = time.perf_counter()
            call(i)
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def count_queries(call: Callable[[], object]) -> tuple[int, list[str]]:
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured), [q["sql"] for q in captured.captured_queries]


def expect_ok(response, status: int = 200):
    if response.status_code != status:
        body = getattr(response, "content", b"")[:500]
        raise SystemExit(f"{response.request['PATH_INFO']}: {response.status_code} {body!r}")
    return response


def dataset_summary() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), "
            "(SELECT count(*) FROM chats_message), (SELECT count(*) FROM staff_staff), "
            "pg_database_size(current_database())"
        )
        customers, messages, staff_count, size = cursor.fetchone()
    return {
        "database": connection.settings_dict["NAME"],
        "customers": customers,
        "messages": messages,
        "staff": staff_count,
        "db_size_gib": round(size / 2**30, 2),
    }


def save(name: str, payload: dict, *, label: str) -> Path:
    """bench/results/<label>/<name>.json; label is the run's name (e.g. quick, full-after)."""
    folder = RESULTS / label
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    payload = {
        "dataset": dataset_summary(),
        "recorded_at": time.strftime("%F %T"),
        # Other work on the machine moves the figures: the 1/5/15-minute load at the end.
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        **payload,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    print(f"results: {path.relative_to(ROOT)}")
    return path


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

"""A case run by a real Celery worker through Redis (CI sets CELERY_BROKER_URL; skipped otherwise).

The worker is a separate process: it reads the committed test database (hence
`transaction=True`) with the same secrets as this process, and consumes a queue of its own so
that no other worker on the same broker takes the task.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from customers.models import Customer, OwnershipTransfer
from offboarding.models import OffboardingCase
from offboarding.tasks import run_offboarding_case
from scrm.celery import app as celery_app
from tests.offboarding.cases import approved_case

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60

pytestmark = [
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs a broker: set CELERY_BROKER_URL"
    ),
    # serialized_rollback: an earlier transactional test leaves the database flushed without
    # its migration data (content types, role groups); this restores it first.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


@pytest.fixture
def worker_queue():
    """A worker process on a queue of its own, stopped (and its queue forgotten) afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process cannot reach an in-memory SQLite test database")
    celery_app.conf.task_always_eager = False  # the autouse fixture made it eager
    queue = f"offboarding-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # The same secrets as this process (normally both read .scrm-dev-keys.json).
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "SCRM_FIELD_KEYS": settings.SCRM_FIELD_KEYS,
        "SCRM_BLIND_INDEX_KEY": settings.SCRM_BLIND_INDEX_KEY,
        "DB_CONN_MAX_AGE": "0",  # no connection left behind to block the test DB's teardown
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "scrm", "worker", "-P", "solo"]
        + ["--loglevel=warning", "-Q", queue, "--without-heartbeat", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue, worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        _forget(queue)


def _forget(queue: str) -> None:
    import redis

    # The queue and kombu's binding keys carry the (unique) queue name.
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    leftovers = list(broker.scan_iter(match=f"*{queue}*"))
    if leftovers:
        broker.delete(*leftovers)


def wait_for_status(case, statuses, worker) -> str:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        status = OffboardingCase.objects.values_list("status", flat=True).get(pk=case.pk)
        if status in statuses:
            return status
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    return status


def test_a_real_worker_runs_the_case_through_redis(org, leaver, book, worker_queue):
    # given
    queue, worker = worker_queue
    case = approved_case(org, leaver, successors=[org.rep_b])

    # when
    run_offboarding_case.apply_async(args=[case.pk], queue=queue)
    status = wait_for_status(case, {"completed", "failed"}, worker)

    # then
    case.refresh_from_db()
    assert status == "completed", case.error or status
    assert not Customer.objects.filter(owner=leaver).exists()
    assert OwnershipTransfer.objects.filter(case=case).count() == len(book.customers)
    assert set(case.steps.values_list("status", flat=True)) == {"done"}
    leaver.refresh_from_db()
    assert not leaver.is_active
    # What the worker left is readable with this process's keys (nothing was re-encrypted).
    assert Customer.objects.get(pk=book.customers[0].pk).mobile == book.customers[0].mobile

"""Shared fixtures: a small organisation mirroring the demo, its customers, and API clients.

    Sales (top dept)                       <- manager (Sales manager) sees the whole tree
      └─ Sales East (sub-dept)
           ├─ team1: rep, rep_b, lead (Team lead), rep_leaving (notice period)
           └─ team2: rep_other_team
    Retail (unrelated dept)                <- manager_other
      └─ team_other: rep_unrelated
    hr, legal, auditor, security (no team), admin_user (superuser)

`customers` holds one customer per owner: of_rep, of_rep_b, of_leaver, of_other_team,
of_unrelated. Users and customers are reachable as `org.rep` / `customers.of_rep`, and the
user fixtures (`rep`, `lead`, ...) are shortcuts for tests that need one or two of them.
"""

from types import SimpleNamespace

import pytest
from auditlog.context import disable_auditlog
from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.transaction import Atomic, get_connection
from rest_framework.test import APIClient

from scrm.celery import app as celery_app
from scrm.staff import roles
from scrm.staff.mfa import is_privileged
from scrm.staff.models import Staff
from tests.factories import (
    TEST_PASSWORD,
    CustomerFactory,
    DepartmentFactory,
    StaffFactory,
    TeamFactory,
)
from tests.signin import api_client, enrol, fresh_code

# Every user attribute of `org`, in the order the permission matrix lists them.
ORG_USERS = (
    "rep",
    "rep_b",
    "rep_other_team",
    "lead",
    "manager",
    "manager_other",
    "hr",
    "legal",
    "auditor",
    "security",
    "admin_user",
)


@pytest.fixture(autouse=True)
def _fast_passwords_and_clean_cache(settings):
    # PBKDF2 at Django's default cost would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # DRF throttling counts per user id in the local-memory cache, which outlives the test
    # transaction (and SQLite reuses ids after a rollback).
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _restoring_the_test_database_is_not_a_change():
    """Transactional tests with serialized_rollback reload the migrated rows; the role groups'
    permissions come back through m2m `set()`, which django-auditlog would log (and on SQLite
    look up content types not yet restored). A restore is not a change: nothing is logged."""
    original = BaseDatabaseCreation.deserialize_db_from_string

    def restore(self, data):
        with disable_auditlog():
            return original(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = restore
    yield
    BaseDatabaseCreation.deserialize_db_from_string = original


def _only_test_atomics(connection) -> bool:
    return connection.in_atomic_block and all(
        block._from_testcase for block in connection.atomic_blocks
    )


def _run_pending_on_commit(connection) -> None:
    # Django's run_and_clear_commit_hooks refuses to run inside an atomic block (the test's).
    while connection.run_on_commit and _only_test_atomics(connection):
        _sids, callback, robust = connection.run_on_commit.pop(0)
        try:
            callback()
        except Exception:
            if not robust:
                raise


@pytest.fixture(autouse=True)
def on_commit_as_in_production(request, monkeypatch):
    """`transaction.on_commit` callbacks run when the outermost atomic block *of the code*
    commits, as in production, although pytest-django keeps each test inside a transaction
    that never commits (so they would never run). Without this, "run now" (which sends its
    Celery task on commit) would not run the case inside the test, and the tests that read
    the finished run right after `run_now` or POST …/run/ would see it not started.

    A rolled-back block still discards its callbacks (Django drops them with the savepoint).
    Tests that capture callbacks themselves (the `django_capture_on_commit_callbacks` fixture)
    or ask for `on_commit_deferred` keep Django's test behaviour: nothing runs by itself."""
    names = request.fixturenames
    if "django_capture_on_commit_callbacks" in names or "on_commit_deferred" in names:
        yield
        return
    real_exit, real_on_commit = Atomic.__exit__, BaseDatabaseWrapper.on_commit

    def exit_then_run(self, exc_type, exc_value, traceback):
        result = real_exit(self, exc_type, exc_value, traceback)
        connection = get_connection(self.using)
        if exc_type is None and not self._from_testcase:
            _run_pending_on_commit(connection)
        return result

    def on_commit(self, func, robust=False):
        real_on_commit(self, func, robust)
        _run_pending_on_commit(self)  # outside any block of the code's: now, as Django does

    monkeypatch.setattr(Atomic, "__exit__", exit_then_run)
    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
    yield


@pytest.fixture
def on_commit_deferred():
    """Ask for it to keep on_commit callbacks pending (Django's test behaviour) and inspect
    them with `connection.run_on_commit` or `captureOnCommitCallbacks`."""


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks ("run now", purges) finish inside the test even when CI sets CELERY_BROKER_URL
    (which turns eager mode off); the real-worker test switches it back."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def org(db):
    sales = DepartmentFactory(name="Sales")
    sales_east = DepartmentFactory(name="Sales East", parent=sales)
    retail = DepartmentFactory(name="Retail")
    team1 = TeamFactory(name="East 1", department=sales_east)
    team2 = TeamFactory(name="East 2", department=sales_east)
    team_other = TeamFactory(name="Retail 1", department=retail)

    def staff(username, role_names, **extra):
        return StaffFactory(username=username, roles=role_names, **extra)

    return SimpleNamespace(
        sales=sales,
        sales_east=sales_east,
        retail=retail,
        team1=team1,
        team2=team2,
        team_other=team_other,
        rep=staff("rep", [roles.SALES_REP], team=team1),
        rep_b=staff("rep_b", [roles.SALES_REP], team=team1),
        rep_leaving=staff(
            "rep_leaving", [roles.SALES_REP], team=team1, employment_status=Staff.Status.NOTICE
        ),
        rep_other_team=staff("rep_other_team", [roles.SALES_REP], team=team2),
        rep_unrelated=staff("rep_unrelated", [roles.SALES_REP], team=team_other),
        lead=staff("lead", [roles.TEAM_LEAD], team=team1),
        manager=staff("manager", [roles.SALES_MANAGER], department=sales),
        manager_other=staff("manager_other", [roles.SALES_MANAGER], department=retail),
        hr=staff("hr", [roles.HR]),
        legal=staff("legal", [roles.LEGAL]),
        auditor=staff("auditor", [roles.AUDITOR]),
        security=staff("security", [roles.SECURITY_OFFICER]),
        admin_user=staff("admin_user", [roles.ADMINISTRATOR], is_superuser=True),
    )


@pytest.fixture
def customers(org):
    return SimpleNamespace(
        of_rep=CustomerFactory(owner=org.rep),
        of_rep_b=CustomerFactory(owner=org.rep_b),
        of_leaver=CustomerFactory(owner=org.rep_leaving),
        of_other_team=CustomerFactory(owner=org.rep_other_team),
        of_unrelated=CustomerFactory(owner=org.rep_unrelated),
    )


@pytest.fixture
def rep(org):
    return org.rep


@pytest.fixture
def rep_b(org):
    return org.rep_b


@pytest.fixture
def rep_other_team(org):
    return org.rep_other_team


@pytest.fixture
def lead(org):
    return org.lead


@pytest.fixture
def manager(org):
    return org.manager


@pytest.fixture
def manager_other(org):
    return org.manager_other


@pytest.fixture
def hr(org):
    return org.hr


@pytest.fixture
def legal(org):
    return org.legal


@pytest.fixture
def auditor(org):
    return org.auditor


@pytest.fixture
def security(org):
    return org.security


@pytest.fixture
def admin_user(org):
    return org.admin_user


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def api_client_for():
    """`api_client_for(user)`: an APIClient that acts as `user` (DRF force_authenticate) with a
    token that used a second factor; `api_client_for(user, second_factor=False)` without."""

    def build(user, *, second_factor: bool = True) -> APIClient:
        return api_client(user, second_factor=second_factor)

    return build


def obtain_jwt(client: APIClient, username: str, password: str = TEST_PASSWORD) -> dict:
    """Sign in through the API as a client would: password, then the code when the account
    has an authenticator (every privileged one gets one here, as production demands)."""
    user = Staff.objects.get(username=username)
    device = enrol(user) if is_privileged(user) else None
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    if device is None:
        return body
    assert body["mfa_required"] is True, body
    response = client.post(
        "/api/v1/auth/token/mfa/",
        {"ticket": body["ticket"], "code": fresh_code(device)},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def jwt_client_for():
    """`jwt_client_for(user)`: an APIClient sending a real access token from /auth/token/.

    Use it where the authentication path matters (e.g. auditlog's actor for API writes).
    """

    def build(user) -> APIClient:
        client = APIClient()
        tokens = obtain_jwt(client, user.username)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        return client

    return build

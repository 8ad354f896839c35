"""Schemathesis against the whole API, as each demo role: every operation, every check.

The schema (what /api/schema/?lang=en serves) drives schemathesis 4: its examples, coverage
and fuzzing phases generate requests for every operation; each goes through the real Django
stack in-process (WSGI, one test database) with the role's access token, and every response
is validated by all of schemathesis' checks (server errors, status codes, content types,
headers, bodies against their schemas, positive and negative data, auth...).

Bounded: a few examples per operation, derandomized (the same requests every run).
"""

import json
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.utils import timezone, translation
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.utils.encoders import JSONEncoder
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from customers.models import Customer
from tests.signin import enrol, signed_in_token

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())

pytestmark = pytest.mark.schemathesis

# Checks that cannot apply to one operation by design, with why (keep this list short).
# positive_data_acceptance expects every schema-valid body to be accepted. Where acceptance
# depends on facts no schema can state, a valid-looking body answers the documented 400:
EXCLUDED_CHECKS = {
    # the second sign-in step's `ticket` is a one-time secret only a password step issues;
    "POST /api/v1/auth/token/mfa/": [positive_data_acceptance],
    # a case needs a leaver with an active supervisor and no open case, successors in the
    # leaver's team, and either `successor` or `plan` (the generated bodies give both);
    "POST /api/v1/offboarding/cases/": [positive_data_acceptance],
    # the leavers file must be UTF-8 CSV text with the documented columns;
    "POST /api/v1/offboarding/cases/import/": [positive_data_acceptance],
    # an ID number's check digit (GB 11643) and a reachable mobile number are checked, beyond
    # the shape the schema gives;
    "POST /api/v1/customers/": [positive_data_acceptance],
    "PUT /api/v1/customers/{id}/": [positive_data_acceptance],
    "PATCH /api/v1/customers/{id}/": [positive_data_acceptance],
    # one exact lookup (mobile or ID number) per request: each is a reveal in disguise.
    "GET /api/v1/customers/": [positive_data_acceptance],
}

ROLES = ["rep", "lead", "manager", "hr", "legal", "auditor", "security", "admin_user"]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 1,
        "generation": {"max-examples": 5, "deterministic": True, "database": "none"},
        "checks": {"enabled": True},
        # The stateful phase follows the schema's own links only: schemathesis' inference also
        # guessed that a customer's id fills the X-Device-Id header (and then sent an integer).
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)


def served_schema() -> dict:
    """What /api/schema/?lang=en serves (its generator, run here)."""
    with translation.override("en"):
        raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(raw, cls=JSONEncoder))


schema = schemathesis.openapi.from_dict(served_schema(), config=CONFIG)
schema.app = WSGIHandler()


@pytest.fixture(autouse=True)
def in_process(org, customers):
    # The test database is one transaction: keep Django from closing its connection between
    # requests, as its test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(role, org):
    user = getattr(org, role)
    enrol(user)
    return signed_in_token(user)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_keeps_its_contract(case, token, role):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=ALL_CHECKS,
        excluded_checks=EXCLUDED_CHECKS.get(case.operation.label, []),
    )


# --- stateful phase -----------------------------------------------------------------------------
# schemathesis walks the schema's OpenAPI links (scrm.api.schema `response_links`): it creates a
# customer and follows it to its detail, follow-ups, deals and shares; lists to their first row;
# an offboarding case through its steps. Every response on the way meets every check.

STATEFUL = settings(
    # No shrinking: the database keeps what each scenario wrote, so a replay differs.
    phases=[Phase.generate],
    max_examples=12,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _walk(machine, tokens: dict, *, actor_for=lambda case: "caller", body_for=None, observe=None):
    """`machine` with the callers' tokens: each step signed in as `actor_for(case)`; the create
    body replaced by `body_for(case)` where it gives one (realistic data a fuzzer cannot guess).

    Each scenario starts from the same database (a savepoint rolled back at its end): Hypothesis
    replays choices and needs a scenario to behave the same every time. `observe()` runs at the
    end of each, before the rollback, and its results are kept in `observed`."""

    class Walk(machine):
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            if observe is not None:
                Walk.observed.append(observe())
            transaction.savepoint_rollback(self.savepoint)

        def before_call(self, case):
            body = body_for(case) if body_for else None
            if body is not None:
                case.body = body

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {tokens[actor_for(case)]}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                checks=ALL_CHECKS,
                excluded_checks=EXCLUDED_CHECKS.get(case.operation.label, []),
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )
            Walk.answers.append((case.operation.label, response.status_code, response.text))

    Walk.answers, Walk.observed = [], []
    return Walk


# A customer a generator would rarely produce (a valid ID number's check digit, a mobile number):
# the walk's customers are created with it, so the links from a new customer are followed.
NEW_CUSTOMER = {"name": "欧阳测试", "mobile": "13800138000", "stage": "lead", "tags": ["vip"]}


@pytest.mark.parametrize("role", ROLES)
def test_stateful_walks_keep_the_contract(role, token):
    walk = _walk(
        schema.as_state_machine(),
        {"caller": token},
        body_for=lambda case: (
            NEW_CUSTOMER if case.operation.label == "POST /api/v1/customers/" else None
        ),
    )
    walk.run(settings=STATEFUL)
    # The walks reached real records: linked operations answered with data, not only errors.
    assert any(200 <= status < 300 for _label, status, _text in walk.answers)
    assert not [a for a in walk.answers if a[1] == 401], "the role's sign-in stopped working"


# The offboarding walk: HR opens, runs and reads the case, the leaver's supervisor approves it
# (separation of duties: no one token can walk a case). The one custom hook is the create body:
# a leaver with a supervisor and a successor in their team are facts a fuzzer cannot guess.
CASE_WALK = schema.include(
    operation_id=[
        "offboarding_cases_create",
        "offboarding_cases_retrieve",
        "offboarding_cases_approve_create",
        "offboarding_cases_run_create",
        "offboarding_cases_report_retrieve",
    ]
)


def test_the_stateful_phase_walks_an_offboarding_case_to_completed(org, customers):
    leaver, successor = org.rep_leaving, org.rep_b
    leaver.supervisor = org.lead
    leaver.save(update_fields=["supervisor"])
    for user in (org.hr, org.lead):
        enrol(user)
    tokens = {"hr": signed_in_token(org.hr), "supervisor": signed_in_token(org.lead)}
    opening = {
        "leaver": leaver.pk,
        "successor": successor.pk,
        "reason": "合同到期不再续签",
        "notice_date": timezone.localdate().isoformat(),
        "effective_at": (timezone.now() + timedelta(days=7)).isoformat(),
    }
    walk = _walk(
        CASE_WALK.as_state_machine(),
        tokens,
        actor_for=lambda case: "supervisor" if "approve" in case.operation.label else "hr",
        body_for=lambda case: opening if case.operation.label.endswith("/cases/") else None,
        observe=lambda: Customer.objects.get(pk=customers.of_leaver.pk).owner_id,
    )
    walk.run(settings=STATEFUL)

    statuses = [
        (label, json.loads(text).get("status"))
        for label, code, text in walk.answers
        if code < 300 and text.startswith("{")
    ]
    assert ("POST /api/v1/offboarding/cases/", "draft") in statuses
    assert ("POST /api/v1/offboarding/cases/{id}/approve/", "approved") in statuses
    assert ("POST /api/v1/offboarding/cases/{id}/run/", "completed") in statuses
    # and a completed walk really moved the leaver's customer to the successor
    assert successor.pk in walk.observed

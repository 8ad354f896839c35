"""The case lifecycle through /api/v1/offboarding/cases/: HR creates, the supervisor approves,
HR schedules or runs, everyone entitled watches progress and reads the report."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers.models import Customer
from offboarding.models import CaseStep, OffboardingCase, SuccessorOverride
from offboarding.runner import run_case
from offboarding.services import schedule_case
from scrm.celery import app as celery_app
from scrm.staff import roles
from tests.factories import CustomerFactory, StaffFactory
from tests.offboarding.cases import (
    CASES_URL,
    TRANSFERS_URL,
    approved_case,
    open_case,
    supervised_by_lead,
)

STEP_NAMES = [
    "freeze",
    "transfer",
    "conversations",
    "grants",
    "shares",  # insider §7: the shares the leaver gave
    "private_data",
    "notify",
    "report",
]

RUN_TASK = "offboarding.tasks.run_offboarding_case"  # the one-off beat task of a case


def body_for(leaver, successor=None, **extra) -> dict:
    body = {
        "leaver": leaver.pk,
        "reason": "Resigned to join a competitor",
        "effective_at": (timezone.now() + timedelta(days=14)).isoformat(),
        **extra,
    }
    if successor is not None:
        body["successor"] = successor.pk
    return body


def case_url(case, action: str = "") -> str:
    return f"{CASES_URL}{case.pk}/{action + '/' if action else ''}"


# --- creating -----------------------------------------------------------------------------------


def test_hr_opens_a_one_successor_case_as_a_draft_with_every_step_pending(
    org, leaver, book, api_client_for
):
    # given
    hr = api_client_for(org.hr)

    # when
    response = hr.post(CASES_URL, body_for(leaver, org.rep), format="json")

    # then
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft"
    assert data["plan"] == "single"
    assert data["successors"] == [org.rep.pk]
    assert data["leaver_username"] == "leaver"
    assert data["notice_date"] == timezone.localdate().isoformat()
    assert [s["name"] for s in data["steps"]] == STEP_NAMES
    assert {(s["status"], s["percent"]) for s in data["steps"]} == {("pending", 0)}
    case = OffboardingCase.objects.get(pk=data["id"])
    assert (case.created_by, case.leaver) == (org.hr, leaver)
    # Opening a case moves nothing yet.
    assert Customer.objects.filter(owner=leaver).count() == len(book.customers)


def test_a_split_plan_shares_the_customers_between_the_named_successors(
    org, leaver, book, api_client_for
):
    # given
    hr = api_client_for(org.hr)
    plan = {"kind": "split", "successors": [org.rep.pk, org.rep_b.pk]}

    # when
    created = hr.post(CASES_URL, body_for(leaver, plan=plan), format="json")
    preview = hr.get(f"{CASES_URL}{created.json()['id']}/preview/")

    # then
    assert created.status_code == 201, created.content
    assert created.json()["successors"] == [org.rep.pk, org.rep_b.pk]
    to = {row["customer_id"]: row["to"] for row in preview.json()["assignments"]}
    assert to == {c.pk: ("rep", "rep_b")[c.pk % 2] for c in book.customers}
    assert sum(preview.json()["per_successor"].values()) == len(book.customers)


def test_round_robin_takes_the_active_reps_of_the_leavers_team(org, leaver, book, api_client_for):
    # given: in team1 only rep and rep_b qualify (rep_leaving is in her notice period, the lead
    # is no sales rep, the leaver is leaving)
    hr = api_client_for(org.hr)

    # when
    created = hr.post(CASES_URL, body_for(leaver, plan={"kind": "round_robin"}), format="json")
    preview = hr.get(f"{CASES_URL}{created.json()['id']}/preview/").json()

    # then
    assert created.status_code == 201, created.content
    assert preview["per_successor"] == {"rep": 3, "rep_b": 3}


def test_least_loaded_fills_up_the_successor_with_fewer_customers_first(
    org, leaver, book, api_client_for
):
    # given: rep already owns 4 customers, rep_b 1 (the book's colleague customer)
    CustomerFactory.create_batch(4, owner=org.rep)
    hr = api_client_for(org.hr)

    # when
    created = hr.post(CASES_URL, body_for(leaver, plan={"kind": "least_loaded"}), format="json")
    preview = hr.get(f"{CASES_URL}{created.json()['id']}/preview/").json()

    # then: rep_b takes 3 to draw level, then they alternate (a tie goes to the older account)
    assert preview["per_successor"] == {"rep": 2, "rep_b": 4}


def test_a_per_customer_override_beats_the_plan(org, leaver, book, api_client_for):
    # given
    hr = api_client_for(org.hr)
    special = book.customers[4]
    plan = {
        "kind": "single",
        "successors": [org.rep.pk],
        "overrides": {str(special.pk): org.rep_b.pk},
    }

    # when
    created = hr.post(CASES_URL, body_for(leaver, plan=plan), format="json")
    preview = hr.get(f"{CASES_URL}{created.json()['id']}/preview/").json()

    # then
    assert created.status_code == 201, created.content
    to = {row["customer_id"]: row["to"] for row in preview["assignments"]}
    assert to.pop(special.pk) == "rep_b"
    assert set(to.values()) == {"rep"}
    assert SuccessorOverride.objects.get().customer == special


def test_the_run_moves_each_customer_where_the_preview_said(org, leaver, book, api_client_for):
    # given
    hr = api_client_for(org.hr)
    plan = {
        "kind": "split",
        "successors": [org.rep.pk, org.rep_b.pk],
        "overrides": {str(book.customers[0].pk): org.lead.pk},
    }
    case_id = hr.post(CASES_URL, body_for(leaver, plan=plan), format="json").json()["id"]
    promised = hr.get(f"{CASES_URL}{case_id}/preview/").json()["assignments"]
    api_client_for(org.lead).post(f"{CASES_URL}{case_id}/approve/")

    # when
    hr.post(f"{CASES_URL}{case_id}/run/")

    # then
    owners = dict(
        Customer.objects.filter(pk__in=[c.pk for c in book.customers]).values_list(
            "pk", "owner__username"
        )
    )
    assert owners == {row["customer_id"]: row["to"] for row in promised}


# --- bad successors and invalid bodies ------------------------------------------------------


@pytest.fixture
def other_leaver(org, leaver):
    """rep_b, with an open case of her own."""
    open_case(org, supervised_by_lead(org, org.rep_b), successors=[org.rep])
    return org.rep_b


@pytest.mark.parametrize(
    ("successor", "message"),
    [
        # as HR reads them (zh-hans)
        ("inactive", "inactive_rep 不是在职员工。"),
        ("in_notice", "rep_leaving 不是在职员工。"),
        ("the_leaver", "离职员工不能做自己的接手人。"),
        ("leaving_too", "rep_b 也在离职中（有未完成的离职交接）。"),
    ],
)
def test_an_unfit_successor_is_refused_with_a_clear_error(
    successor, message, org, leaver, book, api_client_for, request
):
    # given
    candidates = {
        "inactive": lambda: StaffFactory(
            username="inactive_rep", roles=[roles.SALES_REP], team=org.team1, is_active=False
        ),
        "in_notice": lambda: org.rep_leaving,
        "the_leaver": lambda: leaver,
        "leaving_too": lambda: request.getfixturevalue("other_leaver"),
    }
    chosen = candidates[successor]()
    before = OffboardingCase.objects.count()

    # when
    response = api_client_for(org.hr).post(CASES_URL, body_for(leaver, chosen), format="json")

    # then
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"successors": [message]}
    assert OffboardingCase.objects.count() == before


def test_an_unfit_successor_in_an_override_is_refused(org, leaver, book, api_client_for):
    # given
    plan = {
        "kind": "single",
        "successors": [org.rep.pk],
        "overrides": {str(book.customers[0].pk): leaver.pk},
    }

    # when
    response = api_client_for(org.hr).post(CASES_URL, body_for(leaver, plan=plan), format="json")

    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"overrides": ["离职员工不能做自己的接手人。"]}
    assert not OffboardingCase.objects.exists()


def _invalid_bodies(org, leaver, book) -> dict[str, tuple[dict, str]]:
    """name -> (body, the field its error is reported under)."""
    later = (timezone.now() + timedelta(days=3)).isoformat()
    rep = org.rep.pk
    return {
        "no reason": ({"leaver": leaver.pk, "successor": rep, "effective_at": later}, "reason"),
        "blank reason": (body_for(leaver, org.rep, reason="   "), "reason"),
        "no effective time": (
            {"leaver": leaver.pk, "successor": rep, "reason": "x"},
            "effective_at",
        ),
        "bad effective time": (
            body_for(leaver, org.rep, effective_at="next friday"),
            "effective_at",
        ),
        "neither successor nor plan": (body_for(leaver), "plan"),
        "successor and plan": (
            body_for(leaver, org.rep, plan={"kind": "single", "successors": [rep]}),
            "plan",
        ),
        "unknown field": (body_for(leaver, org.rep, owner=rep), "owner"),
        "unknown leaver": ({**body_for(leaver, org.rep), "leaver": 999_999}, "leaver"),
        "unknown successor": ({**body_for(leaver), "successor": 999_999}, "successor"),
        "unknown plan kind": (body_for(leaver, plan={"kind": "lottery"}), "plan"),
        "single plan without successor": (body_for(leaver, plan={"kind": "single"}), "successors"),
        "single plan with two": (
            body_for(leaver, plan={"kind": "single", "successors": [rep, org.rep_b.pk]}),
            "successors",
        ),
        "notice after the last day": (
            body_for(
                leaver,
                org.rep,
                notice_date=(timezone.localdate() + timedelta(days=30)).isoformat(),
            ),
            "notice_date",
        ),
        "override key not a customer id": (
            body_for(leaver, plan={"kind": "single", "successors": [rep], "overrides": {"x": rep}}),
            "plan",
        ),
        "override of an unknown customer": (
            body_for(
                leaver,
                plan={"kind": "single", "successors": [rep], "overrides": {"999999": rep}},
            ),
            "plan",
        ),
        "override of someone else's customer": (
            body_for(
                leaver,
                plan={
                    "kind": "single",
                    "successors": [rep],
                    "overrides": {str(book.colleague_customer.pk): rep},
                },
            ),
            "overrides",
        ),
        "override to an unknown staff id": (
            body_for(
                leaver,
                plan={
                    "kind": "single",
                    "successors": [rep],
                    "overrides": {str(book.customers[0].pk): 999_999},
                },
            ),
            "plan",
        ),
    }


INVALID = [
    "no reason",
    "blank reason",
    "no effective time",
    "bad effective time",
    "neither successor nor plan",
    "successor and plan",
    "unknown field",
    "unknown leaver",
    "unknown successor",
    "unknown plan kind",
    "single plan without successor",
    "single plan with two",
    "notice after the last day",
    "override key not a customer id",
    "override of an unknown customer",
    "override of someone else's customer",
    "override to an unknown staff id",
]


@pytest.mark.parametrize("name", INVALID)
def test_an_invalid_body_answers_400_with_field_errors_and_writes_nothing(
    name, org, leaver, book, api_client_for
):
    # given
    body, field = _invalid_bodies(org, leaver, book)[name]

    # when
    response = api_client_for(org.hr).post(CASES_URL, body, format="json")

    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    # Nested fields are named with dots (`plan.kind`): errors are always field -> messages.
    fields = {name.split(".")[0] for name in response.json()["errors"]}
    assert field in fields, response.json()
    assert not OffboardingCase.objects.exists()
    assert not SuccessorOverride.objects.exists()
    assert not CaseStep.objects.exists()


def test_a_second_open_case_for_the_same_leaver_is_refused(org, leaver, api_client_for):
    # given
    open_case(org, leaver)

    # when
    response = api_client_for(org.hr).post(CASES_URL, body_for(leaver, org.rep), format="json")

    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"leaver": ["leaver 已有未完成的离职交接。"]}
    assert OffboardingCase.objects.count() == 1


# --- approval -----------------------------------------------------------------------------------


def test_the_leavers_supervisor_approves(org, leaver, api_client_for):
    # given
    case = open_case(org, leaver)

    # when
    response = api_client_for(org.lead).post(case_url(case, "approve"))

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["approved_by"] == org.lead.pk
    assert response.json()["approved_at"]


@pytest.mark.parametrize(
    "who", ["hr", "another_lead_of_the_team", "leaver", "admin_user", "manager_other"]
)
def test_nobody_but_the_supervisor_or_a_manager_above_approves(who, org, leaver, api_client_for):
    # given: HR opened the case; a second lead of the same team is not the supervisor; the
    # superuser has no bypass; the leaver may read no cases; another department's manager does
    # not see this one
    case = open_case(org, leaver)
    users = {
        "hr": org.hr,
        "another_lead_of_the_team": StaffFactory(roles=[roles.TEAM_LEAD], team=org.team1),
        "leaver": leaver,
        "admin_user": org.admin_user,
        "manager_other": org.manager_other,
    }

    # when
    response = api_client_for(users[who]).post(case_url(case, "approve"))

    # then
    assert response.status_code == (404 if who == "manager_other" else 403), response.content
    case.refresh_from_db()
    assert case.status == "draft" and case.approved_by is None


def test_a_sales_manager_above_the_supervisor_approves(org, leaver, api_client_for):
    # given: the manager's department tree (Sales) holds the leaver's (Sales East)
    case = open_case(org, leaver)

    # when
    response = api_client_for(org.manager).post(case_url(case, "approve"))

    # then
    assert response.status_code == 200, response.content
    assert response.json()["approved_by"] == org.manager.pk


def test_a_case_is_approved_only_once(org, leaver, api_client_for):
    # given
    case = approved_case(org, leaver)

    # when
    response = api_client_for(org.lead).post(case_url(case, "approve"))

    # then: a conflict with the case's state, not an input error
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "status" in response.json()["errors"]


# --- scheduling and running -----------------------------------------------------------------


def test_scheduling_an_approved_case_creates_a_one_off_clocked_beat_task(
    org, leaver, api_client_for
):
    # given
    case = approved_case(org, leaver)

    # when
    response = api_client_for(org.hr).post(case_url(case, "schedule"))

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    task = PeriodicTask.objects.get(task=RUN_TASK, args=f"[{case.pk}]")
    assert task.task == "offboarding.tasks.run_offboarding_case"
    assert json.loads(task.args) == [case.pk]
    assert task.one_off and task.enabled
    assert task.clocked.clocked_time == case.effective_at
    assert task.task in celery_app.tasks
    case.refresh_from_db()
    assert case.scheduled_task == task


def test_when_the_clock_fires_the_beat_task_runs_the_case(org, leaver, book):
    # given
    case = schedule_case(actor=org.hr, case=approved_case(org, leaver))
    task = PeriodicTask.objects.get(task=RUN_TASK, args=f"[{case.pk}]")

    # when: what celery beat does at the clocked time
    result = celery_app.tasks[task.task].apply(args=json.loads(task.args)).get()

    # then
    assert result == "completed"
    assert not Customer.objects.filter(owner=leaver).exists()


def test_a_draft_cannot_be_scheduled_or_run_approval_is_always_required(
    org, leaver, book, api_client_for
):
    # given
    case = open_case(org, leaver)
    hr = api_client_for(org.hr)

    # when
    scheduled = hr.post(case_url(case, "schedule"))
    run = hr.post(case_url(case, "run"))

    # then
    assert scheduled.status_code == run.status_code == 409
    assert "必须先审批" in scheduled.json()["errors"]["status"][0]  # "approved first"
    assert not PeriodicTask.objects.filter(task=RUN_TASK).exists()
    case.refresh_from_db()
    assert case.status == "draft"
    assert Customer.objects.filter(owner=leaver).count() == len(book.customers)


@pytest.mark.parametrize("who", ["lead", "manager"])
def test_only_hr_schedules_and_runs(who, org, leaver, book, api_client_for):
    # given
    case = approved_case(org, leaver)
    client = api_client_for(getattr(org, who))

    # when
    scheduled = client.post(case_url(case, "schedule"))
    run = client.post(case_url(case, "run"))

    # then
    assert scheduled.status_code == run.status_code == 403
    case.refresh_from_db()
    assert case.status == "approved"
    assert Customer.objects.filter(owner=leaver).count() == len(book.customers)


def test_run_now_completes_the_case_and_the_detail_shows_each_steps_progress(
    org, leaver, book, api_client_for
):
    # given
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)

    # when
    run = hr.post(case_url(case, "run"))
    detail = hr.get(case_url(case))

    # then
    assert run.status_code == 202, run.content
    assert detail.status_code == 200
    data = detail.json()
    assert data["status"] == "completed"
    assert data["started_at"] and data["finished_at"] and not data["error"]
    steps = {s["name"]: s for s in data["steps"]}
    assert list(steps) == STEP_NAMES
    assert {(s["status"], s["percent"]) for s in steps.values()} == {("done", 100)}
    assert (steps["transfer"]["done"], steps["transfer"]["total"]) == (6, 6)
    assert steps["transfer"]["detail"] == {"completed": 6, "refused": 0}
    assert steps["conversations"]["detail"] == {
        "conversations": 7,
        "open_follow_ups": 1,
        "messages_in_moved_conversations": 13,
    }


def test_run_now_on_a_scheduled_case_switches_its_beat_task_off(org, leaver, api_client_for):
    # given
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)
    hr.post(case_url(case, "schedule"))

    # when
    response = hr.post(case_url(case, "run"))

    # then
    assert response.json()["status"] == "completed"
    assert not PeriodicTask.objects.get(task=RUN_TASK, args=f"[{case.pk}]").enabled


def test_a_completed_case_is_not_run_again(org, leaver, book, api_client_for):
    # given
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)
    hr.post(case_url(case, "run"))

    # when
    response = hr.post(case_url(case, "run"))

    # then
    assert response.status_code == 409
    assert "已完成" in response.json()["errors"]["status"][0]  # "completed"


# --- preview and report -----------------------------------------------------------------------


def _raw_values(customers) -> list[str]:
    return [v for c in customers for v in (c.name, c.mobile, c.wechat_id, c.email, c.id_number)]


def test_the_preview_counts_everything_and_lists_customers_masked(
    org, leaver, book, api_client_for
):
    # given
    case = open_case(org, leaver)

    # when
    response = api_client_for(org.hr).get(case_url(case, "preview"))

    # then
    assert response.status_code == 200, response.content
    data = response.json()
    assert {k: v for k, v in data.items() if k not in ("assignments",)} == {
        "leaver": "leaver",
        "customers": 6,
        "conversations": 7,
        "messages": 13,
        "open_follow_ups": 1,
        "shares_held": 1,
        "shares_given": 1,
        "per_successor": {"rep": 6},
        "assignments_truncated": False,
    }
    assert [row["customer_id"] for row in data["assignments"]] == [c.pk for c in book.customers]
    assert data["assignments"][0]["customer"] == str(book.customers[0])
    body = response.content.decode()
    for raw in _raw_values(book.customers):
        assert raw not in body


def test_the_report_says_what_moved_where_in_json_and_csv(org, leaver, book, api_client_for):
    # given
    case = approved_case(org, leaver, successors=[org.rep_b])
    hr = api_client_for(org.hr)
    hr.post(case_url(case, "run"))

    # when
    report = hr.get(case_url(case, "report"))
    download = hr.get(case_url(case, "report/csv"))

    # then
    assert report.status_code == 200, report.content
    data = report.json()
    assert (data["status"], data["customers"], data["completed"], data["refused"]) == (
        "completed",
        6,
        6,
        0,
    )
    assert data["by_successor"] == {"rep_b": 6}
    assert [s["name"] for s in data["steps"]] == STEP_NAMES
    assert {t["customer"] for t in data["transfers"]} == {c.pk for c in book.customers}
    assert {(t["from_owner"], t["to_owner"], t["status"]) for t in data["transfers"]} == {
        (leaver.pk, org.rep_b.pk, "completed")
    }
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert f'filename="handover-{case.pk}.csv"' in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    every_row = list(csv.DictReader(io.StringIO(text)))
    # insider §7: after the transfers, one row per share the leaver gave (revoked by the run)
    rows = [r for r in every_row if not r["status"].startswith("share_")]
    assert [(r["customer_id"], r["to"], r["status"]) for r in every_row[len(rows) :]] == [
        (str(book.customers[2].pk), "rep_other_team", "share_revoked")
    ]
    assert [int(r["customer_id"]) for r in rows] == [c.pk for c in book.customers]
    assert {(r["from"], r["to"], r["status"]) for r in rows} == {("leaver", "rep_b", "completed")}
    assert rows[0]["customer"] == str(book.customers[0])
    for raw in _raw_values(book.customers):
        assert raw not in text
        assert raw not in report.content.decode()


# --- who sees what ------------------------------------------------------------------------------


def test_managers_and_leads_read_the_cases_of_their_people(org, leaver, api_client_for):
    # given
    case = open_case(org, leaver)

    # when
    seen = {
        who: [c["id"] for c in api_client_for(getattr(org, who)).get(CASES_URL).json()["results"]]
        for who in ("hr", "lead", "manager", "manager_other", "admin_user")
    }

    # then
    assert seen == {
        "hr": [case.pk],
        "lead": [case.pk],
        "manager": [case.pk],
        "manager_other": [],
        "admin_user": [case.pk],
    }
    assert api_client_for(org.manager).get(case_url(case)).json()["status"] == "draft"
    assert api_client_for(org.manager_other).get(case_url(case)).status_code == 404


@pytest.mark.parametrize("who", ["lead", "manager"])
def test_leads_and_managers_cannot_open_cases(who, org, leaver, api_client_for):
    # when
    response = api_client_for(getattr(org, who)).post(
        CASES_URL, body_for(leaver, org.rep), format="json"
    )

    # then
    assert response.status_code == 403
    assert not OffboardingCase.objects.exists()


REP_REQUESTS = [
    ("get", "{cases}"),
    ("post", "{cases}"),
    ("get", "{cases}{id}/"),
    ("get", "{cases}{id}/preview/"),
    ("post", "{cases}{id}/approve/"),
    ("post", "{cases}{id}/schedule/"),
    ("post", "{cases}{id}/run/"),
    ("post", "{cases}{id}/cancel/"),
    ("get", "{cases}{id}/report/"),
    ("get", "{cases}{id}/report/csv/"),
    ("post", "{cases}import/"),
    ("get", "{transfers}"),
    ("post", "{transfers}{transfer}/refuse/"),
]


@pytest.mark.parametrize(("method", "url"), REP_REQUESTS)
@pytest.mark.parametrize("who", ["rep", "leaver"])
def test_reps_get_403_everywhere(method, url, who, org, leaver, book, api_client_for):
    # given: a completed case (so there is a transfer to refuse) and a fresh draft
    done = run_case(approved_case(org, leaver).pk)
    draft = open_case(org, supervised_by_lead(org, org.rep_b), successors=[org.rep])
    client = api_client_for(org.rep if who == "rep" else leaver)
    target = url.format(
        cases=CASES_URL,
        transfers=TRANSFERS_URL,
        id=draft.pk,
        transfer=done.transfers.first().pk,
    )

    # when
    response = getattr(client, method)(target, {"reason": "x"}, format="json")

    # then
    assert response.status_code == 403, response.content
    draft.refresh_from_db()
    assert draft.status == "draft"


# --- cancelling ---------------------------------------------------------------------------------


def test_hr_cancels_a_draft(org, leaver, api_client_for):
    # given
    case = open_case(org, leaver)

    # when
    response = api_client_for(org.hr).post(
        case_url(case, "cancel"),
        {"reason": "Stays with us"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",  # the summary is compared in English
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_summary"] == (
        "Cancelled by hr: Stays with us. Steps completed before cancelling: none. "
        "Customers transferred: 0; still owned by leaver: 0."
    )


def test_cancelling_an_approved_case_ends_the_notice_period_and_the_beat_task(
    org, leaver, api_client_for
):
    # given
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)
    hr.post(case_url(case, "schedule"))
    leaver.refresh_from_db()
    assert leaver.employment_status == "notice"

    # when
    response = hr.post(
        case_url(case, "cancel"), {"reason": "Counter-offer accepted"}, format="json"
    )

    # then
    assert response.status_code == 200, response.content
    leaver.refresh_from_db()
    assert leaver.employment_status == "active" and leaver.is_active
    assert not PeriodicTask.objects.filter(task=RUN_TASK, args=f"[{case.pk}]").exists()


def test_a_completed_case_cannot_be_cancelled(org, leaver, book, api_client_for):
    # given
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)
    hr.post(case_url(case, "run"))

    # when
    response = hr.post(case_url(case, "cancel"), {"reason": "Oops"}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["errors"] == {"status": ["状态为“已完成”的交接不能取消。"]}
    case.refresh_from_db()
    assert case.status == "completed" and not case.cancel_summary


def test_a_cancel_needs_a_reason(org, leaver, api_client_for):
    # given
    case = open_case(org, leaver)

    # when
    response = api_client_for(org.hr).post(case_url(case, "cancel"), {}, format="json")

    # then
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    case.refresh_from_db()
    assert case.status == "draft"

"""A run interrupted between batches resumes where it stopped (no customer ownerless, none
duplicated, none lost); cancelling a case that ran partly says exactly what was done."""

from collections import Counter

import pytest
from django.utils import translation

from chats.models import Conversation, Message
from customers.models import Customer, OwnershipTransfer
from offboarding import steps
from offboarding.models import CaseStep, CustomerTransfer
from offboarding.runner import run_case
from tests.offboarding.cases import CASES_URL, approved_case


class WorkerLost(Exception):
    pass


def interrupt(monkeypatch, *, in_step: str, on_batch: int = 2, error=WorkerLost):
    """Make `batch_committed` of `in_step` blow up on its `on_batch`-th call (before that batch
    commits, as a crash would); every other call behaves normally."""
    real = steps.batch_committed
    calls = Counter()

    def flaky(step):
        calls[step.name] += 1
        if step.name == in_step and calls[step.name] == on_batch:
            raise error("worker lost")
        real(step)

    monkeypatch.setattr(steps, "batch_committed", flaky)


def owners_of(customers) -> dict[int, int | None]:
    return dict(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("pk", "owner")
    )


def assert_each_customer_moved_once(case, customers) -> None:
    ids = Counter(c.pk for c in customers)
    assert (
        Counter(CustomerTransfer.objects.filter(case=case).values_list("customer", flat=True))
        == ids
    )
    assert (
        Counter(OwnershipTransfer.objects.filter(case=case).values_list("customer", flat=True))
        == ids
    )


def test_a_run_that_fails_between_transfer_batches_resumes_without_duplicates(
    org, leaver, book, monkeypatch, api_client_for
):
    # given: batches of two customers, and the second batch never commits
    monkeypatch.setattr(steps, "BATCH", 2)
    interrupt(monkeypatch, in_step="transfer")
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)
    messages_before = Message.objects.count()

    # when
    failed = hr.post(f"{CASES_URL}{case.pk}/run/", HTTP_ACCEPT_LANGUAGE="en").json()

    # then: the case is failed and says where; the first batch moved, the rest did not
    assert failed["status"] == "failed"
    assert failed["error"] == "Transfer customers: worker lost"
    step = {s["name"]: s for s in failed["steps"]}
    assert step["freeze"]["status"] == "done"
    assert (step["transfer"]["status"], step["transfer"]["done"], step["transfer"]["total"]) == (
        "failed",
        2,
        6,
    )
    assert step["transfer"]["percent"] == 33
    assert step["transfer"]["error"] == "Transfer customers: worker lost"
    assert step["conversations"]["status"] == "pending"
    owners = owners_of(book.customers)
    assert Counter(owners.values()) == {leaver.pk: 4, org.rep.pk: 2}  # none ownerless
    assert CustomerTransfer.objects.filter(case=case).count() == 2

    # when: HR runs it again
    resumed = hr.post(f"{CASES_URL}{case.pk}/run/", HTTP_ACCEPT_LANGUAGE="en").json()

    # then: completed, each customer moved exactly once, none lost
    assert resumed["status"] == "completed", resumed["error"]
    assert not resumed["error"]
    assert set(owners_of(book.customers).values()) == {org.rep.pk}
    assert_each_customer_moved_once(case, book.customers)
    transfer = {s["name"]: s for s in resumed["steps"]}["transfer"]
    assert (transfer["done"], transfer["total"], transfer["error"]) == (6, 6, "")
    assert transfer["detail"] == {"completed": 6, "refused": 0}
    assert Message.objects.count() == messages_before
    assert not Conversation.objects.filter(owner=leaver).exists()


def test_a_worker_killed_mid_run_leaves_the_case_running_and_a_rerun_finishes_it(
    org, leaver, book, monkeypatch
):
    # given: the process dies (SystemExit is not caught by the runner, as a SIGTERM would not be)
    monkeypatch.setattr(steps, "BATCH", 2)
    interrupt(monkeypatch, in_step="transfer", on_batch=3, error=SystemExit)
    case = approved_case(org, leaver)
    with pytest.raises(SystemExit):
        run_case(case.pk)
    case.refresh_from_db()
    assert case.status == "running"
    assert Counter(owners_of(book.customers).values()) == {leaver.pk: 2, org.rep.pk: 4}

    # when: the task is delivered again after the worker restarts
    resumed = run_case(case.pk)

    # then
    assert resumed.status == "completed", resumed.error
    assert set(owners_of(book.customers).values()) == {org.rep.pk}
    assert_each_customer_moved_once(case, book.customers)


def fail_once(monkeypatch, name: str, on_call: int):
    """Make steps.`name` raise on its `on_call`-th call, as a crash inside the step would."""
    real = getattr(steps, name)
    calls = Counter()

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call:
            raise WorkerLost("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, name, flaky)


def test_a_run_that_fails_in_the_conversations_step_resumes_and_reports_true_counts(
    org, leaver, book, monkeypatch
):
    # given: the step dies after moving the conversations, before the follow-ups
    staff_side = dict(Message.objects.values_list("pk", "staff_id"))
    fail_once(monkeypatch, "_follow_the_customer", on_call=2)
    case = approved_case(org, leaver)
    failed = run_case(case.pk)
    assert failed.status == "failed"
    # the step is one transaction: nothing of it stayed
    assert Conversation.objects.filter(owner=leaver).count() == 7

    # when
    resumed = run_case(case.pk)

    # then
    assert resumed.status == "completed", resumed.error
    assert not Conversation.objects.filter(owner=leaver).exists()
    step = resumed.steps.get(name="conversations")
    assert step.detail == {
        "conversations": 7,
        "open_follow_ups": 1,
        "messages_in_moved_conversations": 13,
    }
    assert (step.done, step.total) == (8, 8)
    # messages keep who held the conversation when they were sent
    assert dict(Message.objects.values_list("pk", "staff_id")) == staff_side


def test_split_and_round_robin_assignments_do_not_change_on_resume(org, leaver, book, monkeypatch):
    # given: a split run that fails after its first batch
    monkeypatch.setattr(steps, "BATCH", 2)
    interrupt(monkeypatch, in_step="transfer")
    case = approved_case(org, leaver, plan="split", successors=[org.rep, org.rep_b])
    run_case(case.pk)

    # when
    run_case(case.pk)

    # then: the same customer -> successor mapping as an uninterrupted split
    expected = {c.pk: (org.rep.pk, org.rep_b.pk)[c.pk % 2] for c in book.customers}
    assert owners_of(book.customers) == expected


# --- cancelling ---------------------------------------------------------------------------------


def test_cancelling_a_case_that_ran_partly_says_exactly_what_was_done(
    org, leaver, book, monkeypatch, api_client_for
):
    # given: the run failed after moving the first two customers
    monkeypatch.setattr(steps, "BATCH", 2)
    interrupt(monkeypatch, in_step="transfer")
    case = approved_case(org, leaver)
    hr = api_client_for(org.hr)
    hr.post(f"{CASES_URL}{case.pk}/run/", HTTP_ACCEPT_LANGUAGE="en")
    totals = (Customer.objects.count(), Conversation.objects.count(), Message.objects.count())

    # when
    response = hr.post(
        f"{CASES_URL}{case.pk}/cancel/",
        {"reason": "She stays"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_summary"] == (
        "Cancelled by hr: She stays. Steps completed before cancelling: Freeze account. "
        "Partly done: Transfer customers (2 of 6). "
        "Customers transferred: 2; still owned by leaver: 4. "
        "The account stays deactivated; reactivate it in Staff if the employee stays."
    )
    # Consistent: every customer has exactly one owner, history matches the owners.
    owners = owners_of(book.customers)
    assert Counter(owners.values()) == {leaver.pk: 4, org.rep.pk: 2}
    moved = set(CustomerTransfer.objects.filter(case=case).values_list("customer", flat=True))
    assert moved == {pk for pk, owner in owners.items() if owner == org.rep.pk}
    assert (
        set(OwnershipTransfer.objects.filter(case=case).values_list("customer", flat=True)) == moved
    )
    assert totals == (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
    )
    # A cancelled case is never run again.
    assert hr.post(f"{CASES_URL}{case.pk}/run/").status_code == 409
    assert run_case(case.pk).status == "cancelled"
    assert Counter(owners_of(book.customers).values()) == {leaver.pk: 4, org.rep.pk: 2}


def test_cancelling_after_the_conversations_step_failed_says_what_was_done(
    org, leaver, book, monkeypatch
):
    # given
    from offboarding.services import cancel_case

    fail_once(monkeypatch, "_follow_the_customer", on_call=2)
    case = approved_case(org, leaver)
    run_case(case.pk)

    # when
    with translation.override("en"):
        cancelled = cancel_case(actor=org.hr, case=case, reason="Rehired")

    # then
    assert (
        "Steps completed before cancelling: Freeze account, Transfer customers."
    ) in cancelled.cancel_summary
    assert "Customers transferred: 6; still owned by leaver: 0." in cancelled.cancel_summary
    assert CaseStep.objects.get(case=case, name="conversations").status == "failed"


def test_a_summary_in_chinese_still_says_the_account_stays_deactivated(
    org, leaver, book, monkeypatch
):
    """The summary is written in the product language: its sentences are chosen by step, not
    by matching the (translated) step names."""
    from offboarding.services import cancel_case

    fail_once(monkeypatch, "_follow_the_customer", on_call=2)
    case = approved_case(org, leaver)
    run_case(case.pk)

    with translation.override("zh-hans"):
        cancelled = cancel_case(actor=org.hr, case=case, reason="返聘")

    assert "冻结账号" in cancelled.cancel_summary
    assert "账号保持停用" in cancelled.cancel_summary

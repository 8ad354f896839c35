"""What happened in the demo organisation, told through the services that make it happen.

Nothing here writes a row a verb would write: follow-ups come from `add_follow_up`, cases from
the offboarding verbs with the actors the rules demand (HR opens, schedules and cancels; the
leaver's supervisor approves), runs from the runner the beat task calls, reveals from
`reveal_field`, exports from `export_response`, a leaver's reads from `recorded_timeline`,
failed sign-ins from `authenticate` (django-axes locks the account and the lockout raises its
alert). Each story first checks whether it was told already, so re-running adds nothing.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from unittest import mock

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import FileResponse
from django.test import RequestFactory
from django.test.utils import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chats.export import export_response
from chats.holds import place_legal_hold
from chats.models import LegalHold, Message, SensitiveWordRule, customer_messages_q
from chats.search import search
from chats.timeline import recorded_timeline
from customers.management.demo.archive import MSGID_PREFIX
from customers.management.demo.scripts import SENSITIVE_RULES
from customers.models import Customer, FollowUp
from customers.services import add_follow_up, share_customer
from offboarding import steps
from offboarding.models import OffboardingCase
from offboarding.runner import run_case
from offboarding.services import (
    approve_case,
    cancel_case,
    create_case,
    record_refusal,
    schedule_case,
)
from scrm.audit.attribution import audit_actor
from scrm.audit.models import AccessAction, AccessEvent, Channel, SecurityAlert
from scrm.audit.read_budget import ReadsBlocked
from scrm.audit.services import refuse_blocked_reads
from scrm.masking.reveal import reveal_field
from scrm.staff.models import Staff

Status = OffboardingCase.Status
Plan = OffboardingCase.Plan
# The leaver reads and the failed sign-ins come from outside addresses (TEST-NET-3, RFC 5737).
OUTSIDE_ADDRESS = "203.0.113.45"


# --- sensitive-word rules ----------------------------------------------------------------


def seed_rules() -> list[bool]:
    """The demo's sensitive-word rules (before the archive: ingest checks each message)."""
    created = []
    for kind, pattern, severity in SENSITIVE_RULES:
        exists = SensitiveWordRule.objects.filter(kind=kind, pattern=pattern).exists()
        if not exists:
            rule = SensitiveWordRule(kind=kind, pattern=pattern, severity=severity)
            rule.full_clean()  # the pattern is checked with the engine that runs it (RE2)
            rule.save()
        created.append(not exists)
    return created


# --- follow-ups due ----------------------------------------------------------------------

DUE_NOTES = [
    "回访：确认报价是否已通过客户内部审批",
    "提醒客户合同盖章后寄回",
    "跟进发货进度，确认客户已签收",
    "约客户下周上门演示",
]
OVERDUE_NOTES = ["催收尾款，确认付款时间", "发送续费报价单"]
DUE_TODAY_REPS = [f"rep{n}" for n in range(1, 9)]
OVERDUE_REPS = [f"rep{n}" for n in range(1, 5)]


def local_at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed_due_follow_ups(staff: dict[str, Staff], customers_of: Callable) -> list[bool]:
    """Two follow-ups due today for rep1-rep8 and one overdue for rep1-rep4, on their own
    demo customers, written by the rep (`add_follow_up`)."""
    today = timezone.localdate()
    wanted = []
    for number, username in enumerate(DUE_TODAY_REPS):
        book = customers_of(staff[username])
        for slot, (hour, minute) in enumerate([(10, 30), (16, 0)][: len(book)]):
            note = DUE_NOTES[(number + slot) % len(DUE_NOTES)]
            wanted.append((username, book[slot], note, local_at(today, hour, minute)))
    for number, username in enumerate(OVERDUE_REPS):
        book = customers_of(staff[username])
        if book:
            due = local_at(today - timedelta(days=2 + number), 15)
            wanted.append((username, book[-1], OVERDUE_NOTES[number % 2], due))
    created = []
    for username, customer, note, due in wanted:
        rep = staff[username]
        exists = FollowUp.objects.filter(customer=customer, staff=rep, note=note).exists()
        if not exists:
            add_follow_up(actor=rep, customer=customer, note=note, due_at=due)
        created.append(not exists)
    return created


# --- offboarding -------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaver:
    """An extra demo rep whose offboarding case ends in `state` (rep1-rep20 never leave)."""

    username: str
    lead: str
    customers: int
    state: str
    plan: str
    successors: tuple[str, ...]
    reason: str
    notice_in_days: int  # the notice date, from today (negative: in the past)
    last_day_in_days: int  # the last working day (18:00), from today


# In the order the cases are built: rep26's case names rep25 as successor, so it is approved
# before rep25 opens their own case; when its clocked task fires, rep25 is leaving too and the
# run stops before it moves anything (failed, resumable once HR names another successor).
LEAVERS = [
    Leaver("rep21", "lead1", 6, Status.COMPLETED, Plan.SINGLE, ("rep3",), "个人原因辞职", -21, -1),
    Leaver(
        "rep22",
        "lead1",
        8,
        Status.RUNNING,
        Plan.SPLIT,
        ("rep4", "rep5"),
        "合同到期不再续签",
        -14,
        0,
    ),
    Leaver(
        "rep23", "lead1", 5, Status.SCHEDULED, Plan.LEAST_LOADED, (), "家庭原因回老家发展", -3, 7
    ),
    Leaver(
        "rep27", "lead1", 4, Status.CANCELLED, Plan.SINGLE, ("rep6",), "提出辞职，后撤回", -7, 21
    ),
    Leaver(
        "rep24", "lead2", 12, Status.APPROVED, Plan.SINGLE, ("rep12",), "跳槽至同行业公司", -5, 14
    ),
    Leaver("rep26", "lead2", 6, Status.FAILED, Plan.SINGLE, ("rep25",), "个人原因辞职", -10, -1),
    Leaver("rep25", "lead2", 5, Status.DRAFT, Plan.ROUND_ROBIN, (), "申请内部转岗至市场部", 3, 30),
]
HANDOVER_NOTES = "重点客户已在企业微信逐一告知交接；在谈的报价和合同见各客户的跟进记录。"
CANCEL_REASON = "员工撤回离职申请，决定留任"
REFUSAL_REASON = "客户希望由团队负责人直接对接"
SHARED_WITH = "rep7"  # rep21 had shared a customer with rep7: the run revokes the share
NOTICE_READER = "rep24"  # in their notice period (approved case): reads past the hourly budget
LOCKED_OUT = "rep21"  # departed (completed case): someone tries the account from outside


class WorkerLost(BaseException):
    """The demo's worker dying mid-run: a BaseException, so the runner's `except Exception`
    does not mark the case failed; it stays running, as after a real crash, until resumed."""


@contextmanager
def worker_dies_in_the_second_transfer_batch():
    # The runner's own interruption point (tests/offboarding interrupt it the same way): the
    # second batch of three customers never commits.
    real, calls = steps.batch_committed, []

    def flaky(step) -> None:
        calls.append(step.name)
        if len(calls) == 2:
            raise WorkerLost()
        real(step)

    with mock.patch.object(steps, "BATCH", 3), mock.patch.object(steps, "batch_committed", flaky):
        yield


def _fire_clocked_task(case: OffboardingCase, run: Callable[[], object]) -> None:
    """What celery beat does at the effective time: disable the one-off task, start the run."""
    PeriodicTask.objects.filter(pk=case.scheduled_task_id).update(enabled=False)
    # The hand-over notices are in-app (Notification rows); no demo mail goes anywhere.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        run()


def seed_cases(staff: dict[str, Staff]) -> list[OffboardingCase]:
    """One case per leaver without one, each brought to its state through the verbs."""
    hr = staff["hr1"]
    created, to_fail = [], []
    for leaver in LEAVERS:
        person = Staff.objects.get(username=leaver.username)
        if OffboardingCase.objects.filter(leaver=person).exists():
            continue
        case = _open_case(leaver, person, staff)
        created.append(case)
        if leaver.state == Status.DRAFT:
            continue
        case = approve_case(actor=Staff.objects.get(username=leaver.lead), case=case)
        if leaver.state == Status.APPROVED:
            continue
        if leaver.state == Status.CANCELLED:
            cancel_case(actor=hr, case=case, reason=CANCEL_REASON)
            continue
        case = schedule_case(actor=hr, case=case)
        if leaver.state == Status.COMPLETED:
            _fire_clocked_task(case, partial(run_case, case.pk))
            _record_a_refusal(case, hr)
        elif leaver.state == Status.RUNNING:
            _fire_clocked_task(case, partial(_run_until_the_worker_dies, case))
        elif leaver.state == Status.FAILED:
            to_fail.append(case)
    for case in to_fail:  # now that their successor has an open case of their own
        _fire_clocked_task(case, partial(run_case, case.pk))
    return created


def _open_case(leaver: Leaver, person: Staff, staff: dict[str, Staff]) -> OffboardingCase:
    today, now = timezone.localdate(), timezone.now()
    if leaver.state == Status.RUNNING:
        last_moment = now - timedelta(hours=1)  # the beat fired an hour ago
    else:
        last_moment = local_at(today + timedelta(days=leaver.last_day_in_days), 18)
    if leaver.state == Status.COMPLETED:
        # Before leaving, rep21 had shared a customer with a colleague: the run revokes it.
        first = Customer.objects.filter(owner=person).order_by("pk").first()
        if first is not None:
            share_customer(actor=person, customer=first, with_staff=staff[SHARED_WITH])
    hr = staff["hr1"]
    with audit_actor(hr):  # as the admin's request would attribute the change log
        return create_case(
            actor=hr,
            leaver=person,
            reason=leaver.reason,
            notice_date=today + timedelta(days=leaver.notice_in_days),
            effective_at=last_moment,
            plan=leaver.plan,
            successors=[staff[name] for name in leaver.successors],
            handover_notes=HANDOVER_NOTES,
        )


def _run_until_the_worker_dies(case: OffboardingCase) -> None:
    # What a crash leaves behind: the case running, its transfer step half done.
    with worker_dies_in_the_second_transfer_batch(), suppress(WorkerLost):
        run_case(case.pk)


def _record_a_refusal(case: OffboardingCase, hr: Staff) -> None:
    transfer = case.transfers.filter(status="completed").order_by("pk").first()
    if transfer is not None:
        record_refusal(actor=hr, transfer=transfer, reason=REFUSAL_REASON)


# --- legal hold, reveals, exports, reads, sign-ins ----------------------------------------

HOLD_REASON = "客户合同纠纷，法务要求保全全部聊天记录"
REVEALS = [
    # (actor, field, reason, channel); the customer: the one under legal hold, or the rep's own
    ("legal1", "mobile", "合同纠纷取证，核实客户联系方式", Channel.ADMIN),
    ("legal1", "id_number", "律师函需核对客户身份证号", Channel.ADMIN),
    ("rep1", "mobile", "电话回访前核对客户号码", Channel.API),
]
EXPORT_KEYWORD = "合同"


def demo_messages():
    return Message.objects.filter(external_id__startswith=MSGID_PREFIX)


def seed_legal_hold(staff: dict[str, Staff]) -> list[bool]:
    """Legal holds the private chat with the archive's oldest message (the purge keeps it)."""
    legal = staff["legal1"]
    if LegalHold.objects.filter(placed_by=legal, reason=HOLD_REASON).exists():
        return [False]
    oldest = demo_messages().filter(customer__isnull=False).order_by("sent_at", "pk").first()
    if oldest is None:
        return []
    place_legal_hold(actor=legal, reason=HOLD_REASON, customer=oldest.customer)
    return [True]


def held_customer(staff: dict[str, Staff]) -> Customer | None:
    hold = LegalHold.objects.filter(placed_by=staff["legal1"], reason=HOLD_REASON).first()
    return hold.customer if hold else None


def seed_reveals(staff: dict[str, Staff], customers_of: Callable) -> list[bool]:
    created = []
    for username, field, reason, channel in REVEALS:
        actor = staff[username]
        done = AccessEvent.objects.filter(actor=actor, action=AccessAction.REVEAL, reason=reason)
        if done.exists():
            created.append(False)
            continue
        # A rep reveals on their own customer; legal on the customer under legal hold.
        candidates = customers_of(actor) if username.startswith("rep") else [held_customer(staff)]
        customer = candidates[0] if candidates else None
        if customer is None:
            continue
        reveal_field(actor=actor, obj=customer, field=field, reason=reason, channel=channel)
        created.append(True)
    return created


def seed_exports(staff: dict[str, Staff]) -> list[bool]:
    """lead1 exports their team's chats about 合同 (CSV); legal1 the held customer's (XLSX)."""
    created = []
    lead = staff["lead1"]
    if AccessEvent.objects.filter(actor=lead, action=AccessAction.EXPORT).exists():
        created.append(False)
    else:
        found = search(Message.objects.visible_to(lead), EXPORT_KEYWORD, user=lead)
        response = export_response(
            user=lead, queryset=found, fmt="csv", channel=Channel.ADMIN, filters={"q": "合同"}
        )
        b"".join(response)  # the rows stream as the download would
        created.append(True)
    legal, customer = staff["legal1"], held_customer(staff)
    if AccessEvent.objects.filter(actor=legal, action=AccessAction.EXPORT).exists():
        created.append(False)
    elif customer is not None:
        messages = Message.objects.visible_to(legal).filter(customer_messages_q(customer.pk))
        response = export_response(
            user=legal,
            queryset=messages,
            fmt="xlsx",
            channel=Channel.ADMIN,
            filters={"customer": customer.pk},
        )
        # Not response.close(): that sends request_finished, whose handler closes the
        # database connection this command's transaction is using.
        assert isinstance(response, FileResponse)  # an xlsx is a file
        b"".join(response.streaming_content)  # type: ignore[arg-type]  # a sync response
        if response.file_to_stream is not None:
            response.file_to_stream.close()
        created.append(True)
    return created


def seed_notice_reads(leaver: Staff) -> list[bool]:
    """A leaver in their notice period reads their customers' timelines one after another
    (API); past the hourly budget the read budget alerts security (and blocks lists)."""
    leaver.refresh_from_db()  # approving the case started the notice period
    if leaver.employment_status != Staff.Status.NOTICE:
        return []
    earlier = AccessEvent.objects.filter(actor=leaver, flagged=True).count()
    if earlier:
        return [False] * earlier
    created = []
    for customer_id in (
        Customer.objects.filter(owner=leaver).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            refuse_blocked_reads(user=leaver, model=Message, channel=Channel.API)
        except ReadsBlocked:
            break
        recorded_timeline(user=leaver, customer_id=customer_id, channel=Channel.API)
        created.append(True)
    return created


def seed_failed_sign_ins(username: str) -> list[bool]:
    """Someone tries a departed rep's account from outside until django-axes locks it."""
    account = Staff.objects.get(username=username)
    if SecurityAlert.objects.filter(kind="login_lockout", actor=account).exists():
        failed = AccessEvent.objects.filter(action=AccessAction.LOGIN_FAILED, ip=OUTSIDE_ADDRESS)
        return [False] * failed.count()
    factory = RequestFactory()
    attempts = settings.SCRM_LOCKOUT_USERNAME_FAILURES
    with quiet("axes"):  # its warnings would be the command's output; the summary says it
        for _ in range(attempts):
            request = factory.post(
                "/api/v1/auth/token/",
                REMOTE_ADDR=OUTSIDE_ADDRESS,
                HTTP_USER_AGENT="python-requests",
            )
            authenticate(request=request, username=username, password="Welcome@2025")
    return [True] * attempts


@contextmanager
def quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def security_alerts() -> dict[str, int]:
    alerts = SecurityAlert.objects.filter(~Q(kind=""))
    counts: dict[str, int] = {}
    for kind in alerts.values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))

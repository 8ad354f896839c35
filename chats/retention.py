"""Purging chat messages whose retention has ended.

A message is kept `settings.SCRM_CHAT_RETENTION_DAYS` days from `sent_at`, unless retention
policies apply to it; then the longest applicable policy decides. A policy applies when every
scope it names matches: the department of the message's staff side (`Message.staff` ->
`Staff.department`, sub-departments included), the channel, a tag of `Message.customer`.
Messages under an active legal hold (chats.holds) are never purged.

The whole decision is one SQL expression (policies are few, messages many), so the database
selects exactly the expired messages: no candidate is loaded only to be kept.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from chats.holds import held_messages_q
from chats.models import Message, PurgeLog, RetentionPolicy
from chats.search import unindex_messages
from customers.models import Customer
from scrm.audit.attribution import audit_actor
from scrm.staff.models import Staff

if TYPE_CHECKING:
    from scrm.staff.types import Actor

logger = logging.getLogger(__name__)

DEFAULT_KEY = "default"
PROGRESS_FIELDS = [
    "deleted",
    "held",
    "attachments_deleted",
    "counts_by_policy",
    "last_message_id",
]


@dataclass(frozen=True)
class Rule:
    """One way a message's retention is decided: a policy (with its condition) or the default."""

    key: str
    cutoff: datetime  # messages sent before this are expired
    condition: Q | None = None  # None: the default, for messages no policy applies to


def _policy_condition(policy: RetentionPolicy, departments: dict[int, list[int]]) -> Q:
    condition = Q()
    if policy.department_id:
        staff = Staff.objects.filter(department_id__in=departments[policy.department_id])
        condition &= Q(staff_id__in=staff.values("pk"))
    if policy.channel:
        condition &= Q(channel=policy.channel)
    if policy.tag_id:
        tagged = Customer.tags.through.objects.filter(
            customer_id=OuterRef("customer_id"), tag_id=policy.tag_id
        )
        condition &= Q(Exists(tagged))
    return condition


def retention_rules(now: datetime) -> list[Rule]:
    """The policies longest first, then the default: the first rule that applies decides."""
    policies = list(
        RetentionPolicy.objects.select_related("department").order_by("-days", "name", "pk")
    )
    departments = {p.department.pk: p.department.descendant_ids() for p in policies if p.department}
    rules = [
        Rule(p.name, now - timedelta(days=p.days), _policy_condition(p, departments))
        for p in policies
    ]
    default_days = settings.SCRM_CHAT_RETENTION_DAYS
    return [*rules, Rule(DEFAULT_KEY, now - timedelta(days=default_days))]


def expired_messages(rules: list[Rule]) -> QuerySet:
    """Expired messages, held or not, annotated with `rule` (index into rules) and `held`."""
    policies, default = rules[:-1], rules[-1]
    rule = Case(
        *[When(r.condition, then=Value(i)) for i, r in enumerate(policies)],
        default=Value(len(policies)),
        output_field=IntegerField(),
    )
    cutoff = Case(
        *[When(r.condition, then=Value(r.cutoff)) for r in policies],
        default=Value(default.cutoff),
        output_field=DateTimeField(),
    )
    held = Case(
        When(held_messages_q(), then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    latest_cutoff = max(r.cutoff for r in rules)
    return (
        Message.objects.filter(sent_at__lt=latest_cutoff)  # lets the sent_at index narrow it
        .annotate(rule=rule, cutoff=cutoff, held=held)
        .filter(sent_at__lt=F("cutoff"))
        .order_by("pk")
    )


def _next_batch(expired: QuerySet, after_id: int, size: int) -> list[tuple]:
    rows = expired.filter(pk__gt=after_id).values_list("pk", "rule", "held", "attachment")
    return list(rows[:size])


def _delete_files(names: set[str]) -> None:
    """Remove purged messages' files, except any another message still points at."""
    storage = Message._meta.get_field("attachment").storage
    still_used = set(
        Message.objects.filter(attachment__in=names).values_list("attachment", flat=True)
    )
    for name in sorted(names - still_used):
        try:
            storage.delete(name)
        except Exception:  # a storage hiccup leaves an orphan file; it must not stop the purge
            logger.exception("could not delete purged chat attachment %s", name)


@dataclass
class _BatchResult:
    counts: Counter
    held: int
    attachments: set[str]
    deleted_ids: list[int]


def _tally(rows: list[tuple], rules: list[Rule]) -> tuple[dict[str, list[int]], int, dict]:
    """Ids to delete per rule key, the held count, and attachment names by message id."""
    by_key: dict[str, list[int]] = {}
    held = 0
    files = {}
    for pk, rule_index, is_held, attachment in rows:
        if is_held:
            held += 1
            continue
        by_key.setdefault(rules[rule_index].key, []).append(pk)
        if attachment:
            files[pk] = attachment
    return by_key, held, files


def _delete_batch(rows: list[tuple], rules: list[Rule]) -> _BatchResult:
    by_key, held, files = _tally(rows, rules)
    counts: Counter = Counter()
    deleted_ids: list[int] = []
    for key, ids in by_key.items():
        # Deleting per rule counts what was really deleted (a concurrent run may have been
        # first). MessageHide rows cascade; a future PROTECT reference fails the batch loudly.
        _, per_model = Message.objects.filter(pk__in=ids).delete()
        counts[key] += per_model.get(Message._meta.label, 0)
        deleted_ids.extend(ids)
    unindex_messages(deleted_ids)
    return _BatchResult(counts, held, {files[pk] for pk in deleted_ids if pk in files}, deleted_ids)


def _add(log: PurgeLog, counts: Counter, held: int, attachments: int, last_id: int) -> None:
    merged = Counter(log.counts_by_policy)
    merged.update(counts)
    log.counts_by_policy = dict(sorted(merged.items()))
    log.deleted += sum(counts.values())
    log.held += held
    log.attachments_deleted += attachments
    log.last_message_id = last_id


def _dry_run(
    rules: list[Rule], batch_size: int, now: datetime, actor: "Actor | None", on_batch
) -> PurgeLog:
    log = PurgeLog(started_at=now, dry_run=True, actor=actor)
    expired = expired_messages(rules)
    while rows := _next_batch(expired, log.last_message_id, batch_size):
        by_key, held, files = _tally(rows, rules)
        counts = Counter({key: len(ids) for key, ids in by_key.items()})
        _add(log, counts, held, len(files), rows[-1][0])
        on_batch(log, len(rows))
    log.finished_at = timezone.now()
    return log


def _start_or_resume(actor: "Actor | None", now: datetime) -> PurgeLog:
    unfinished = PurgeLog.objects.filter(dry_run=False, finished_at__isnull=True)
    log = unfinished.order_by("started_at", "pk").first()
    if log is None:
        log = PurgeLog.objects.create(started_at=now, actor=actor)
    return log


def _purge_one_batch(log: PurgeLog, rules: list[Rule], batch_size: int) -> int:
    """Delete the next batch in its own short transaction; how many expired messages it
    handled (deleted or held), 0 when nothing is left."""
    expired = expired_messages(rules)
    with transaction.atomic():
        # The log row is the lock and the cursor: concurrent runs of the same log take turns
        # batch by batch and never count a message twice.
        locked = PurgeLog.objects.select_for_update().get(pk=log.pk)
        rows = _next_batch(expired, locked.last_message_id, batch_size)
        if not rows:
            return 0
        result = _delete_batch(rows, rules)
        _add(locked, result.counts, result.held, len(result.attachments), rows[-1][0])
        # The registered PurgeLog's update is this batch's audit entry, committed with it.
        locked.save(update_fields=PROGRESS_FIELDS)
        if result.attachments:
            # Files go only once the deletion is committed: a rolled-back batch keeps its
            # files. A crash between commit and callback leaves orphan files, never a message
            # without its file.
            transaction.on_commit(partial(_delete_files, result.attachments))
    for field in PROGRESS_FIELDS:
        setattr(log, field, getattr(locked, field))
    return len(rows)


def _no_progress(log: PurgeLog, handled: int) -> None:
    pass


def purge_expired_messages(
    *,
    actor: "Actor | None" = None,
    dry_run: bool = False,
    batch_size: int = 1000,
    now: datetime | None = None,
    on_batch: Callable[[PurgeLog, int], None] = _no_progress,
) -> PurgeLog:
    """Delete every message whose retention has ended and that no active legal hold covers.

    Works in batches of `batch_size` messages in primary-key order, each its own short
    transaction that deletes the messages (their MessageHide rows cascade), drops them from
    the search index, advances the PurgeLog (its audit entry) and, once committed, deletes
    their attachment files. Idempotent and resumable: an unfinished PurgeLog (a crash) is
    picked up where its cursor stopped; a finished run leaves nothing for the next one.
    `actor` is None for the scheduled task. `attachments_deleted` counts the files handed to
    storage deletion with committed batches (a file another message still uses is kept).

    `dry_run` deletes and writes nothing and returns an unsaved PurgeLog with the counts a
    real run would produce now. `on_batch(log, handled)` is called after each batch (committed,
    for a real run) with the log so far and the number of expired messages the batch handled:
    progress for a long purge. Raises ValueError for a batch size below 1.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    rules = retention_rules(now)
    if dry_run:
        return _dry_run(rules, batch_size, now, actor, on_batch)
    with audit_actor(actor):
        log = _start_or_resume(actor, now)
        while handled := _purge_one_batch(log, rules, batch_size):
            on_batch(log, handled)
        log.finished_at = timezone.now()
        log.save(update_fields=["finished_at"])
    return log

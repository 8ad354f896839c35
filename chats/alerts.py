"""Sensitive-word monitoring: admin-managed rules checked against every ingested message.

Patterns run on RE2 (google-re2), whose matching time is linear in the text: Python's `re`
backtracks, and a rule like `(a+)+$` against a long message stalled a whole ingest batch.
RE2 refuses what it cannot run in linear time (backreferences, lookaround); rules are checked
with it when they are saved (SensitiveWordRule.clean), so such a pattern is refused there.
"""

import re2

from chats.models import SensitiveWordRule
from scrm.audit.models import SecurityAlert


class PatternError(ValueError):
    """A rule pattern the matching engine cannot run; the message says why."""


def _options() -> "re2.Options":
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is reported to the user, not to stderr
    return options


def compile_rule(kind: str, pattern: str):
    """The compiled RE2 pattern of a rule: a keyword matches literally, a regular expression
    in RE2 syntax. Raises PatternError for a pattern RE2 cannot compile."""
    options = _options()
    if kind != SensitiveWordRule.Kind.REGEX:
        options.literal = True
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"Not a valid regular expression for the linear-time engine (RE2): {reason}. "
            "Backreferences and lookaround are not supported."
        ) from exc


def _compiled_rules() -> list[tuple[SensitiveWordRule, object]]:
    compiled = []
    for rule in SensitiveWordRule.objects.filter(active=True):
        try:
            compiled.append((rule, compile_rule(rule.kind, rule.pattern)))
        except PatternError:
            continue  # rules are validated when saved; an old bad row must not stop ingest
    return compiled


def alerts_for_messages(rows: list[dict]) -> list[SecurityAlert]:
    """Create one alert per (message, matching rule) for security officers; `rows` are new
    messages as ingest stores them (column values, "id" included)."""
    rules = _compiled_rules()
    if not rules:
        return []
    alerts = [
        SecurityAlert(
            kind="sensitive_word",
            severity=rule.severity,
            actor_id=row["sender_staff_id"],
            model="chats.message",
            object_id=row["id"],
            message=f"Message #{row['id']} matches rule #{rule.pk} ({rule.get_kind_display()}).",
        )
        for row in rows
        if row["text"]
        for rule, pattern in rules
        if pattern.search(row["text"])
    ]
    return SecurityAlert.objects.bulk_create(alerts)

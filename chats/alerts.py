"""Sensitive-word monitoring: admin-managed rules checked against every ingested message.

Patterns run on RE2 (google-re2), whose matching time is linear in the text: Python's `re`
backtracks, and a rule like `(a+)+$` against a long message stalled a whole ingest batch.
RE2 refuses what it cannot run in linear time (backreferences, lookaround); rules are checked
with it when they are saved (SensitiveWordRule.clean), so such a pattern is refused there.
"""

from typing import Any

import re2
from django.utils.translation import gettext_lazy, gettext_noop

from chats.models import SensitiveWordRule
from scrm.audit.models import SecurityAlert, register_alert_kind
from scrm.masking.detectors import mask_text
from scrm.product_language import product_text

EXCERPT_AROUND = 30  # characters of context on each side of the match


class PatternError(ValueError):
    """A rule pattern the matching engine cannot run; the message says why."""


ALERT_KIND = "sensitive_word"
register_alert_kind(ALERT_KIND, gettext_lazy("Sensitive word"))


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


def _compiled_rules() -> list[tuple[SensitiveWordRule, Any]]:
    compiled = []
    for rule in SensitiveWordRule.objects.filter(active=True):
        try:
            compiled.append((rule, compile_rule(rule.kind, rule.pattern)))
        except PatternError:
            continue  # rules are validated when saved; an old bad row must not stop ingest
    return compiled


def masked_excerpt(text: str, pattern) -> str:
    """The text around the first match, through the content detectors: masked first, then cut,
    so a phone number at the cut is never left half raw."""
    masked = mask_text(text)
    found = pattern.search(masked)
    if found is None:  # the match was inside a masked value
        return masked[: 2 * EXCERPT_AROUND] + ("…" if len(masked) > 2 * EXCERPT_AROUND else "")
    start, end = max(found.start() - EXCERPT_AROUND, 0), found.end() + EXCERPT_AROUND
    return ("…" if start else "") + masked[start:end] + ("…" if end < len(masked) else "")


def alert_text(row: dict, rule: SensitiveWordRule, pattern) -> str:
    """What the security officer reads: the rule, the word, a masked excerpt. Written in the
    product language (the row is stored once, read by everyone)."""
    return product_text(
        gettext_noop(
            "Message #%(message)s matches rule #%(rule)s (%(kind)s) “%(word)s”: %(excerpt)s"
        ),
        message=row["id"],
        rule=rule.pk,
        kind=rule.get_kind_display(),
        word=mask_text(rule.pattern),
        excerpt=masked_excerpt(row["text"], pattern),
    )


def alerts_for_messages(rows: list[dict]) -> list[SecurityAlert]:
    """Create one alert per (message, matching rule) for security officers; `rows` are new
    messages as ingest stores them (column values, "id" included)."""
    rules = _compiled_rules()
    if not rules:
        return []
    alerts = [
        SecurityAlert(
            kind=ALERT_KIND,
            severity=rule.severity,
            actor_id=row["sender_staff_id"],
            model="chats.message",
            object_id=row["id"],
            message=alert_text(row, rule, pattern),
        )
        for row in rows
        if row["text"]
        for rule, pattern in rules
        if pattern.search(row["text"])
    ]
    return SecurityAlert.objects.bulk_create(alerts)

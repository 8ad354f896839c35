"""Sensitive-word monitoring: admin-managed rules checked against every ingested message.

Patterns run on RE2 in linear time (chats.patterns), checked with it when a rule is saved.
"""

from typing import Any

from django.utils.translation import gettext_lazy, gettext_noop

from chats.models import SensitiveWordRule
from chats.patterns import PatternError, compile_pattern
from scrm.audit.models import SecurityAlert, register_alert_kind
from scrm.masking.detectors import mask_text
from scrm.product_language import product_text

EXCERPT_AROUND = 30  # characters of context on each side of the match


ALERT_KIND = "sensitive_word"
register_alert_kind(ALERT_KIND, gettext_lazy("Sensitive word"))


def compile_rule(kind: str, pattern: str):
    """The compiled RE2 pattern of a rule: a keyword matches literally, a regular expression
    in RE2 syntax. Raises PatternError for a pattern RE2 cannot compile."""
    return compile_pattern(pattern, literal=kind != SensitiveWordRule.Kind.REGEX)


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

"""Sensitive-word monitoring: admin-managed rules checked against every ingested message."""

import re

from chats.models import SensitiveWordRule
from scrm.audit.models import SecurityAlert


def _compiled_rules() -> list[tuple[SensitiveWordRule, re.Pattern]]:
    compiled = []
    for rule in SensitiveWordRule.objects.filter(active=True):
        source = rule.pattern if rule.kind == rule.Kind.REGEX else re.escape(rule.pattern)
        try:
            compiled.append((rule, re.compile(source, re.IGNORECASE)))
        except re.error:
            continue  # the admin form validates patterns; an old bad row must not stop ingest
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

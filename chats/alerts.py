"""Sensitive-word monitoring: admin-managed rules checked against every ingested message."""

import re

from chats.models import Message, SensitiveWordRule
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


def alerts_for_messages(messages: list[Message]) -> list[SecurityAlert]:
    """Create one alert per (message, matching rule) for security officers."""
    rules = _compiled_rules()
    if not rules:
        return []
    alerts = [
        SecurityAlert(
            kind="sensitive_word",
            severity=rule.severity,
            actor_id=message.sender_staff_id,
            model="chats.message",
            object_id=message.pk,
            message=f"Message #{message.pk} matches rule #{rule.pk} ({rule.get_kind_display()}).",
        )
        for message in messages
        if message.text
        for rule, pattern in rules
        if pattern.search(message.text)
    ]
    return SecurityAlert.objects.bulk_create(alerts)

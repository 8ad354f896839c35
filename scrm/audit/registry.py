"""The one way models join the change log."""

from typing import Any

from auditlog.registry import auditlog
from django.db.models import Model


def reverse_relations(model: type[Model]) -> list[str]:
    """The names of the one-to-many relations pointing at `model` (not its own fields)."""
    return [
        f.name
        for f in model._meta.get_fields()
        if f.auto_created and not f.concrete and not f.many_to_many
    ]


def register(model: type[Model], **options: Any) -> None:
    """`auditlog.register`, without the reverse relations auditlog also diffs: a created row
    would log one "customers.Customer.None" per relation pointing at it, which changes nothing
    and reads as noise."""
    options["exclude_fields"] = [*options.get("exclude_fields", []), *reverse_relations(model)]
    auditlog.register(model, **options)

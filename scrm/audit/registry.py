"""The one way models join the change log."""

from auditlog.registry import auditlog


def register(model, **options) -> None:
    """`auditlog.register`, without the reverse relations auditlog also diffs: a created row
    would log one "customers.Customer.None" per relation pointing at it, which changes nothing
    and reads as noise."""
    reverse = [
        f.name
        for f in model._meta.get_fields()
        if f.auto_created and not f.concrete and not f.many_to_many
    ]
    options["exclude_fields"] = [*options.get("exclude_fields", []), *reverse]
    auditlog.register(model, **options)

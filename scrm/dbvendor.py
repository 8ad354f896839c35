"""The one place that asks which database an alias is.

A feature whose SQL differs between PostgreSQL and SQLite (chat search and ingest, the audit
selectors, the bounded count) keeps one small object per database with the operations its hot
functions need, declared as a `PerDatabase`, and its code calls that object's methods instead
of testing `connection.vendor` (tests/test_vendor_branches.py keeps it that way).
"""

from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

Backend = TypeVar("Backend")


class PerDatabase(Generic[Backend]):
    """`backends(alias)`: the feature's backend for the database behind `alias`, built once per
    alias (from the backend's class, given the alias) and reused.

    Pass the alias the query runs on (`queryset.db`): a search may run on the read replica
    (scrm/dbrouting.py). A backend keeps the alias, never a connection: connections are per
    thread."""

    def __init__(
        self,
        feature: str,
        *,
        postgresql: Callable[[str], Backend],
        sqlite: Callable[[str], Backend],
    ):
        self.feature = feature
        self.by_vendor = {"postgresql": postgresql, "sqlite": sqlite}
        self.chosen: dict[str, Backend] = {}

    def __call__(self, alias: str = DEFAULT_DB_ALIAS) -> Backend:
        try:
            return self.chosen[alias]
        except KeyError:
            pass
        vendor = connections[alias].vendor
        if vendor not in self.by_vendor:
            raise ImproperlyConfigured(
                f"{self.feature} supports PostgreSQL and SQLite, not {vendor}"
            )
        backend = self.chosen[alias] = self.by_vendor[vendor](alias)
        return backend

"""Database differences stay behind the per-database backend objects (scrm/dbvendor.py).

Code that needs different SQL on PostgreSQL and SQLite calls a backend chosen once per alias
(chats.search_backends, chats.ingest_backends, scrm.audit.selector_backends,
scrm.api.count_backends); only the chooser reads `connection.vendor`. A new `.vendor` test in
application code fails here: add an operation to the feature's backend instead.
"""

import ast
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection

from chats.ingest_backends import PostgresIngest, SqliteIngest, ingest_backend
from chats.search_backends import PostgresSearch, SqliteSearch, search_backend
from scrm.api.count_backends import PostgresCount, SqliteCount, bounded_count
from scrm.audit.selector_backends import (
    PostgresAuditSelectors,
    SqliteAuditSelectors,
    audit_selectors,
)

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("scrm", "customers", "chats", "offboarding", "bench")

ALLOWED = {
    # The chooser itself.
    "scrm/dbvendor.py",
    # Refuse to fill anything but a PostgreSQL benchmark database (guards, not SQL choices).
    "customers/management/commands/generate_dataset.py",
    "bench/benchlib.py",
    "bench/offboarding_bench.py",
    # Name the database in what they print.
    "customers/management/commands/rotate_field_keys.py",
    "bench/export_memory.py",
}


def _is_migration(relative: str) -> bool:
    # Migrations are frozen history, and schema_editor DDL differs per database by nature.
    return "/migrations/" in relative


def _reads_vendor(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "vendor"
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and any(isinstance(a, ast.Constant) and a.value == "vendor" for a in node.args)
    )


def _vendor_reads(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source)) if _reads_vendor(node)]


def test_only_the_backend_chooser_reads_the_database_vendor():
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED or _is_migration(relative):
                continue
            found += [f"{relative}:{line}" for line in _vendor_reads(path.read_text("utf-8"))]
    assert found == [], (
        f"database-vendor branches outside the backend objects (scrm/dbvendor.py): {found}"
    )


def test_the_allowed_files_still_exist():
    # A moved or renamed file must leave the list, not stay allowed under its old name.
    assert [name for name in sorted(ALLOWED) if not (ROOT / name).is_file()] == []


@pytest.mark.parametrize(
    ("choose", "postgresql", "sqlite"),
    [
        (search_backend, PostgresSearch, SqliteSearch),
        (ingest_backend, PostgresIngest, SqliteIngest),
        (audit_selectors, PostgresAuditSelectors, SqliteAuditSelectors),
        (bounded_count, PostgresCount, SqliteCount),
    ],
)
def test_each_feature_picks_its_backend_once_per_alias(choose, postgresql, sqlite):
    backend = choose(DEFAULT_DB_ALIAS)

    assert type(backend) is {"postgresql": postgresql, "sqlite": sqlite}[connection.vendor]
    assert backend.alias == DEFAULT_DB_ALIAS
    assert choose(DEFAULT_DB_ALIAS) is backend

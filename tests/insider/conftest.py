"""Fixtures the insider tests share with the offboarding suite (a leaver with a full book)."""

from tests.offboarding.conftest import book, eager_celery, leaver  # noqa: F401

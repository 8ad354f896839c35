"""Types shared across the project that have no runtime class of their own."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # A message for people: a str or a lazy translation (gettext_lazy), as Django accepts.
    from django_stubs_ext import StrOrPromise as Text
else:
    Text = str  # the stubs' name exists only for the type checker (django-stubs-ext is dev-only)

__all__ = ["Text"]

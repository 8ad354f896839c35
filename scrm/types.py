"""Types shared across the project that have no runtime class of their own."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    # A message for people: a str or a lazy translation (gettext_lazy), as Django accepts.
    from django_stubs_ext import StrOrPromise as Text

    # The base of a ModelAdmin mixin: checked as a ModelAdmin (so `super().changelist_view`,
    # `self.model` and the like are known), a plain class at run time, where the mixin sits
    # before the real ModelAdmin in the bases.
    AdminMixinBase = ModelAdmin[Any]
else:
    Text = str  # the stubs' name exists only for the type checker (django-stubs-ext is dev-only)
    AdminMixinBase = object

__all__ = ["AdminMixinBase", "Text"]

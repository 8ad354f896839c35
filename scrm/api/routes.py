"""The API's routes, contributed by the apps: the platform's URLconf imports no domain app.

Each app that answers under /api/v1/ has an `api_urls` module: it registers its viewsets on
`router` and lists its other paths in `urlpatterns`. `app_urlpatterns()` collects them in the
order of INSTALLED_APPS (PostHog's routers register products from their own folders the same
way).
"""

from importlib import import_module

from django.apps import apps
from django.urls import URLPattern
from django.utils.module_loading import module_has_submodule
from rest_framework.routers import DefaultRouter

router = DefaultRouter()

MODULE = "api_urls"


def app_urlpatterns() -> list[URLPattern]:
    """Every app's `api_urls.urlpatterns`, importing each module once (which registers its
    viewsets on `router`)."""
    patterns: list[URLPattern] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, MODULE):
            module = import_module(f"{config.name}.{MODULE}")
            patterns.extend(getattr(module, "urlpatterns", []))
    return patterns

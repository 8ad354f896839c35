"""The read door, enforced: every view declares what it is, or it is refused.

An API action or an admin view declares one of:
- a scope action of `scrm.access.scope` (list, view, reveal: a scoped read; change, share,
  transfer: a write), which the platform bases apply (`visible_to`) and record;
- `Public(reason)`: answered without a scope and without an access event, because it shows no
  protected data (the sign-in door, the API root, the caller's own record, configuration);
- `WriteOnly(reason)`: a change that answers nothing beyond what was just written.

Nothing is given VIEW by default. The bases refuse an undeclared action with 403 at request time
(`scrm.api.viewsets.DeclaredScopeMixin`, `scrm.audit.admin_mixins.DoorAdminMixin`), and the
system check below (`manage.py check`) reports it at start-up. `classify_urls()` gives every URL
pattern of the project its class; tests/test_url_classification.py fails on one without.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from scrm.access.declarations import (  # noqa: F401 (the door's vocabulary, re-exported)
    PUBLIC,
    READ_ACTIONS,
    SCOPED_READ,
    WRITE,
    WRITE_ACTIONS,
    Declared,
    Public,
    WriteOnly,
    kind_of,
)

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite

# The patterns of a URLconf (what `urlpatterns` and URLResolver.url_patterns hold).
Patterns = Sequence[URLPattern | URLResolver]

# Views of the libraries the project stands on, which cannot carry a declaration themselves.
PUBLIC_VIEWS: dict[str, str] = {
    "django.views.generic.base.RedirectView": "a redirect: reads nothing",
    "rest_framework.routers.APIRootView": "the API root: links to the routes, no records",
}
# Plain Django pages of the project (by URL name) that read no protected record.
PUBLIC_PAGES: dict[str, str] = {
    "set_language": "stores the caller's language choice (session and cookie), reads nothing",
    "masking-matrix": "the masking policy (role x data class): names no customer and no value; "
    "administrators, auditors and security officers only",
}
# Admin-site-wide pages (autocomplete and view_on_site are switched off: scrm.admin_site).
# Admin-site-wide pages that read records: each part reads within the viewer's scope and
# records what it showed.
SCOPED_ADMIN_PAGES: dict[str, str] = {
    "index": "the viewer's home: every panel reads through the scopes and records its access "
    "event (scrm.dashboard)",
}
PUBLIC_ADMIN_PAGES: dict[str, str] = {
    "app_list": "the models of one app the user may open, no records",
    "login": "the sign-in door",
    "mfa_verify": "the sign-in door's second step: a code for the account being signed in",
    "mfa_enrol": "the caller's own authenticator set-up",
    "logout": "signs out",
    "password_change": "the caller's own password",
    "password_change_done": "a confirmation page",
    "jsi18n": "the admin's translated JavaScript strings",
    "search": "unfold's model search, switched off: always 404 (scrm.admin_site)",
}
# Admins of the libraries' models: no customer, chat or audit data in them.
UNPROTECTED_ADMIN_MODELS: dict[str, str] = {
    "auth.group": "roles and their permissions (administrators only)",
    "token_blacklist.outstandingtoken": "token ids and expiry (administrators only)",
    "token_blacklist.blacklistedtoken": "token ids (administrators only)",
    "django_celery_beat.periodictask": "schedules (administrators only)",
    "django_celery_beat.clockedschedule": "schedules (administrators only)",
    "django_celery_beat.crontabschedule": "schedules (administrators only)",
    "django_celery_beat.solarschedule": "schedules (administrators only)",
    "django_celery_beat.intervalschedule": "schedules (administrators only)",
}


def dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class Route:
    """One URL pattern of the project and the view behind it."""

    route: str
    name: str | None
    namespace: str
    # A view function: Django's own, or a DRF/class-based view's, carrying `cls` or
    # `view_class` and the `actions` of a viewset (read with getattr).
    callback: Callable[..., Any]


def walk(
    patterns: Patterns | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    """Every URL pattern below `patterns` (the project's root URLconf by default), recursively:
    router-generated and admin-generated patterns included."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield Route(route, pattern.name, namespace, pattern.callback)


# --- the API -------------------------------------------------------------------------------


# DRF's as_view() returns a plain function and sets `cls` (and a viewset's `actions`) on it: no
# type carries those attributes, so the callback of a DRF route is Any here.
def api_handlers(callback: Any) -> list[str]:
    """The actions a DRF view answers at this URL: a viewset's mapped actions, an APIView's
    method handlers (OPTIONS describes the endpoint, HEAD is GET)."""
    view_cls = callback.cls
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted({a for m, a in actions.items() if m not in ("head", "options")})
    return [
        m
        for m in view_cls.http_method_names
        if m not in ("head", "options") and hasattr(view_cls, m)
    ]


def classify_api(callback: Any) -> dict[str, str | None]:
    """{action: class} for one DRF view, None for an undeclared action; {"*": None} when the
    view is neither on the platform base nor a listed public view."""
    from scrm.api.viewsets import DeclaredScopeMixin

    view_cls = callback.cls
    if dotted(view_cls) in PUBLIC_VIEWS:
        return {"*": PUBLIC}
    if not issubclass(view_cls, DeclaredScopeMixin):
        return {"*": None}
    return {a: kind_of(view_cls.scope_actions.get(a)) for a in api_handlers(callback)}


# --- the admin -----------------------------------------------------------------------------


def admin_pages(site: "AdminSite | None" = None) -> dict[str, str | None]:
    """{url name: class} for every page of the admin site."""
    from django.contrib import admin

    from scrm.audit.admin_mixins import DoorAdminMixin

    site = site or admin.site
    pages: dict[str, str | None] = {name: PUBLIC for name in PUBLIC_ADMIN_PAGES}
    pages.update({name: SCOPED_READ for name in SCOPED_ADMIN_PAGES})
    for model, model_admin in site._registry.items():
        label = model._meta.label_lower
        if isinstance(model_admin, DoorAdminMixin):
            pages.update(model_admin.page_classes())
            continue
        exempt = UNPROTECTED_ADMIN_MODELS.get(label) or getattr(model_admin, "door_public", "")
        for pattern in model_admin.get_urls():
            if pattern.name:
                pages[pattern.name] = PUBLIC if exempt else None
    return pages


def classify_urls(patterns: Patterns | None = None) -> list[tuple[str, str, str | None]]:
    """(route, what, class) for every URL pattern; class None means unclassified."""
    from rest_framework.views import APIView

    pages = admin_pages()
    rows: list[tuple[str, str, str | None]] = []
    for route in walk(patterns):
        view_cls = getattr(route.callback, "cls", None) or getattr(
            route.callback, "view_class", None
        )
        if view_cls is not None and issubclass(view_cls, APIView):
            for action, kind in classify_api(route.callback).items():
                rows.append((route.route, f"{view_cls.__name__}.{action}", kind))
        elif route.namespace == "admin" and route.name:
            rows.append((route.route, f"admin:{route.name}", pages.get(route.name)))
        elif view_cls is not None and dotted(view_cls) in PUBLIC_VIEWS:
            rows.append((route.route, view_cls.__name__, PUBLIC))
        elif route.name in PUBLIC_PAGES:
            rows.append((route.route, route.name, PUBLIC))
        elif route.namespace == "admin" and route.callback.__name__ == "catch_all_view":
            # Unknown admin URLs: a redirect adding the slash, or 404.
            rows.append((route.route, "admin catch-all", PUBLIC))
        else:
            rows.append((route.route, route.name or repr(route.callback), None))
    return rows


# --- the start-up check ----------------------------------------------------------------------


def check_read_door(
    app_configs: Sequence[object] | None = None,
    patterns: Patterns | None = None,
    **kwargs: object,
) -> list[checks.CheckMessage]:
    """`manage.py check`: every API action declares its scope; every custom admin view too; no
    admin relies on the switched-off autocomplete."""
    from django.contrib import admin

    errors: list[checks.CheckMessage] = []
    for route in walk(patterns):
        view_cls = getattr(route.callback, "cls", None)
        if view_cls is None or not hasattr(view_cls, "http_method_names"):
            continue
        for action, kind in classify_api(route.callback).items():
            if kind is not None:
                continue
            if action == "*":
                msg = (
                    f"{dotted(view_cls)} at /{route.route} is not on the platform base "
                    "(scrm.api.viewsets.DeclaredScopeMixin) and is not a listed public view."
                )
                errors.append(checks.Error(msg, obj=view_cls, id="scrm.E002"))
            else:
                msg = f"{dotted(view_cls)}.{action} at /{route.route} declares no scope action."
                errors.append(
                    checks.Error(
                        msg,
                        hint="Add it to scope_actions: a scope action, Public(...) or "
                        "WriteOnly(...). Until then it answers 403.",
                        obj=view_cls,
                        id="scrm.E001",
                    )
                )
    if patterns is None:
        for name, kind in admin_pages().items():
            if kind is None:
                msg = f"The admin page {name!r} declares no scope (it answers 403)."
                errors.append(checks.Error(msg, id="scrm.E003"))
        for model_admin in admin.site._registry.values():
            if model_admin.autocomplete_fields:
                msg = (
                    f"{dotted(type(model_admin))} uses autocomplete_fields, but the admin's "
                    "autocomplete is switched off (it bypasses the read door)."
                )
                errors.append(checks.Error(msg, obj=model_admin, id="scrm.E004"))
    return errors

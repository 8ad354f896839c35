"""Every URL pattern of the project is classified: a scoped read, a write, or public (with a
reason). A new URL anywhere (an API route, a viewset action, an admin page, a plain Django view)
fails `test_every_url_pattern_is_classified` until it is declared.

The classification lives next to the code: API views declare `scope_actions`
(scrm.api.viewsets.DeclaredScopeMixin), admins over protected data declare `view_scopes`
(scrm.audit.admin_mixins.DoorAdminMixin) or say why they hold none (`door_public`), and the few
views of the libraries are listed with their reason in scrm.access.door.
"""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, resolve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.views import APIView

from scrm.access.door import (
    PUBLIC,
    PUBLIC_ADMIN_PAGES,
    PUBLIC_VIEWS,
    SCOPED_ADMIN_PAGES,
    SCOPED_READ,
    UNPROTECTED_ADMIN_MODELS,
    WRITE,
    Public,
    WriteOnly,
    classify_urls,
    walk,
)
from scrm.api.viewsets import DeclaredScopeMixin
from scrm.audit.admin_mixins import DoorAdminMixin
from tests.endpoints import test_coverage as coverage
from tests.endpoints import world as worlds
from tests.endpoints.registry import ENDPOINTS
from tests.insider import throwaway_urls


def test_every_url_pattern_is_classified():
    unclassified = [(route, what) for route, what, kind in classify_urls() if kind is None]

    assert unclassified == []


def test_the_walk_reaches_router_admin_and_library_patterns():
    classes = {what: kind for _, what, kind in classify_urls()}

    assert classes["CustomerViewSet.list"] == SCOPED_READ
    assert classes["CustomerViewSet.reveal"] == SCOPED_READ
    assert classes["CustomerViewSet.partial_update"] == WRITE
    assert classes["CustomerViewSet.transfer"] == WRITE
    assert classes["MessageViewSet.batch"] == WRITE
    assert classes["AccessEventViewSet.export"] == SCOPED_READ
    assert classes["ChangeLogViewSet.list"] == classes["ChangeLogViewSet.retrieve"] == SCOPED_READ
    assert classes["MeView.get"] == PUBLIC
    assert classes["ObtainToken.post"] == PUBLIC
    assert classes["admin:customers_customer_history"] == SCOPED_READ
    assert classes["admin:customers_customer_reveal"] == SCOPED_READ
    assert classes["admin:customers_customer_follow_up"] == WRITE
    assert classes["admin:customers_customer_transaction"] == WRITE
    assert classes["admin:chats_message_thread"] == SCOPED_READ
    assert classes["admin:chats_message_timeline"] == SCOPED_READ
    assert classes["admin:auditlog_logentry_changelist"] == SCOPED_READ
    assert classes["admin:offboarding_case_approve"] == WRITE
    assert classes["admin:customers_tag_changelist"] == PUBLIC
    # --- identity deploy: the docs, public in the door's sense (no records), signed in only
    assert classes["SchemaView.get"] == PUBLIC
    assert classes["SwaggerView.get"] == PUBLIC
    assert classes["RedocView.get"] == PUBLIC
    # Switched off: not a URL any more.
    assert "admin:autocomplete" not in classes and "admin:view_on_site" not in classes


def _plain_view(request):
    return HttpResponse("customers")


class _OffTheBase(APIView):
    def get(self, request):
        return HttpResponse("customers")


class _Declared(DeclaredScopeMixin, APIView):
    scope_actions = {"get": "list"}

    def get(self, request):
        return HttpResponse("customers")

    def post(self, request):  # added later, declaration forgotten
        return HttpResponse("changed")


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (path("plain/", _plain_view, name="plain"), "plain"),
        (path("off-the-base/", _OffTheBase.as_view()), "_OffTheBase.*"),
        (path("declared/", _Declared.as_view()), "_Declared.post"),
        (path("api/", include(throwaway_urls.router.urls)), "PeekViewSet.peek"),
    ],
    ids=["django view", "apiview off the base", "undeclared method", "undeclared action"],
)
def test_a_new_url_is_unclassified_until_declared(pattern, what):
    classes = {w: kind for _, w, kind in classify_urls([pattern])}

    assert classes[what] is None


# --- identity deploy ---
@pytest.mark.parametrize(
    "view",
    [SpectacularAPIView, SpectacularSwaggerView, SpectacularRedocView],
    ids=lambda v: v.__name__,
)
def test_the_librarys_anonymous_docs_views_are_unclassified(view):
    """drf-spectacular's own views answer anyone: routed again, they would fail the check."""
    classes = {w: kind for _, w, kind in classify_urls([path("docs/", view.as_view())])}

    assert classes == {f"{view.__name__}.*": None}


def test_declared_public_and_write_only_need_a_reason():
    class Lazy(DeclaredScopeMixin, APIView):
        scope_actions = {"get": Public(""), "post": WriteOnly("")}

        def get(self, request): ...

        def post(self, request): ...

    classes = {w: kind for _, w, kind in classify_urls([path("lazy/", Lazy.as_view())])}

    assert classes == {"Lazy.get": None, "Lazy.post": None}


def test_every_listed_public_view_says_why():
    for listing in (PUBLIC_VIEWS, PUBLIC_ADMIN_PAGES, SCOPED_ADMIN_PAGES, UNPROTECTED_ADMIN_MODELS):
        assert all(reason.strip() for reason in listing.values())
    for model_admin in admin.site._registry.values():
        if not isinstance(model_admin, DoorAdminMixin):
            label = model_admin.model._meta.label_lower
            reason = UNPROTECTED_ADMIN_MODELS.get(label) or getattr(model_admin, "door_public", "")
            assert reason.strip(), label


def test_admins_over_protected_data_stand_on_the_door():
    protected = {
        "customers.customer",
        "chats.conversation",
        "chats.message",
        "chats.legalhold",
        "offboarding.offboardingcase",
        "offboarding.customertransfer",
        "staff.staff",
        "audit.accessevent",
        "audit.securityalert",
        "auditlog.logentry",
    }
    on_the_door = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, DoorAdminMixin)
    }

    assert protected <= on_the_door


# --- the endpoint registry's coverage, reused ---------------------------------------------


def test_routes_the_registry_leaves_out_are_public():
    """The registry exempts a few routes from declarations; each must be classified public."""
    by_name = {}
    for route in walk():
        by_name.setdefault(route.name, route)
    api = {what.split(".")[0]: kind for _, what, kind in classify_urls()}
    for name in coverage.UNDECLARED_API_ROUTES:
        view = by_name[name].callback.cls
        assert api[view.__name__] == PUBLIC, name
    admin_classes = {what: kind for _, what, kind in classify_urls() if what.startswith("admin:")}
    for name in coverage.UNDECLARED_ADMIN_ROUTES - {"autocomplete", "view_on_site"}:
        assert admin_classes[f"admin:{name}"] == PUBLIC, name


def test_every_scoped_read_and_write_route_has_declared_statuses(world):
    """Reuses the registry: every API route that is not public is exercised by an endpoint."""
    covered = {
        resolve(urlsplit(e.url(world)).path).url_name
        for e in ENDPOINTS
        if e.statuses and e.needs != "masking_world"
    }
    not_public = {
        route.name
        for route in walk()
        if route.name
        and route.namespace == ""
        and getattr(route.callback, "cls", None) is not None
        and any(
            kind != PUBLIC
            for _, what, kind in classify_urls([path("x/", route.callback)])
            if kind is not None
        )
    }

    assert not_public - covered == set()


# The registry's world fixtures (tests/endpoints/world.py), for the test above.
world = worlds.world
base_world = worlds.base_world


def test_the_admin_home_is_a_scoped_read():
    """Its panels show customers, chats and alerts: not a public page."""
    classes = {what: kind for _, what, kind in classify_urls()}

    assert classes["admin:index"] == SCOPED_READ

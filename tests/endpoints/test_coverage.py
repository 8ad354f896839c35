"""The registry covers the project: every API route and admin page resolves to a declared
endpoint with a full status table, and the declarations are well formed. A new viewset action
or admin page fails here until it is declared in tests/endpoints/registry.py."""

from urllib.parse import urlsplit

from django.contrib.admin import site as admin_site
from django.urls import URLResolver, resolve

from scrm.access.door import SCOPED_READ, classify_urls
from scrm.urls import api_v1
from tests.endpoints.harness import route_of
from tests.endpoints.registry import ENDPOINTS, ROLES, World

# Routes without a declaration, and why (tests/test_url_classification.py: each is public).
UNDECLARED_API_ROUTES = {
    "token_obtain_pair": "the sign-in door itself: anonymous by design (tests/identity)",
    "token_refresh": "the sign-in door itself: anonymous by design (tests/identity)",
}
# Admin routes every ModelAdmin has; the endpoints cover the changelists and each custom page.
STANDARD_ADMIN_SUFFIXES = ("_add", "_change", "_delete", "_history")
UNDECLARED_ADMIN_ROUTES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
    "search",  # unfold's model search, switched off (tests/insider/test_read_door.py)
}


def route_names(patterns) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= route_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


def declared_names(world: World, client: str) -> set[str]:
    """The URL names the endpoints with a status table reach (in `world`: base and cases)."""
    return {
        resolve(urlsplit(e.url(world)).path).url_name
        for e in ENDPOINTS
        if e.client == client and e.statuses and e.needs != "masking_world"
    }


def test_every_api_route_is_declared(world):
    routes = route_names(api_v1) - set(UNDECLARED_API_ROUTES)

    assert routes - declared_names(world, "api") == set()


def test_every_admin_page_is_declared(world):
    standard = {
        f"{model._meta.app_label}_{model._meta.model_name}{suffix}"
        for model in admin_site._registry
        for suffix in STANDARD_ADMIN_SUFFIXES
    }
    routes = route_names(admin_site.urls[0]) - standard - UNDECLARED_ADMIN_ROUTES

    assert routes - declared_names(world, "admin") == set()


def test_endpoint_keys_are_unique():
    keys = [e.key for e in ENDPOINTS]

    assert sorted(k for k in keys if keys.count(k) > 1) == []


def test_a_recorded_status_comes_from_one_place():
    """An endpoint with a status table takes each recorded role's status from it; one without
    names the status on each event."""
    wrong = [
        (e.key, role)
        for e in ENDPOINTS
        for role, event in e.records.items()
        if (event.status is None) != bool(e.statuses)
    ]

    assert wrong == []


def test_every_endpoint_declares_something_to_check():
    idle = [e.key for e in ENDPOINTS if not (e.statuses or e.shows or e.records)]

    assert idle == []


def test_status_tables_name_known_roles():
    assert {role for e in ENDPOINTS for role in e.statuses} <= set(ROLES)


def test_every_scoped_read_has_a_budget(world):
    """Every route scrm.access.door classifies as a scoped read is reached by an endpoint with
    a query budget (tests/endpoints/test_query_budgets.py)."""
    scoped = {what for _, what, kind in classify_urls() if kind == SCOPED_READ}
    budgeted = {route_of(e, world) for e in ENDPOINTS if e.queries is not None}

    assert scoped - budgeted == set()


def test_budgets_are_run_as_every_role():
    """The budget battery runs each budget as every role of the status table, in `world`."""
    unrunnable = [
        e.key
        for e in ENDPOINTS
        if e.queries is not None and (not e.statuses or e.needs == "masking_world")
    ]

    assert unrunnable == []

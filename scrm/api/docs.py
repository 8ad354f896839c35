"""The API schema and its two readers (Swagger UI, ReDoc), for signed-in staff only.

The schema names every route and field, which is no record but is a map for an attacker, so it
needs a session or a JWT like the API it describes: anonymous callers get 401 JSON from the
schema and are sent to the admin login by the HTML pages. Both pages load Swagger UI / ReDoc
from the app's own static files (drf-spectacular-sidecar) and run no inline script, so they
work under the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY).
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.renderers import JSONRenderer

from scrm.access.declarations import Public
from scrm.api.viewsets import DeclaredScopeMixin

_NO_RECORDS = "routes and fields, no records; signed-in staff only"

# ReDoc styles itself with CSS-in-JS (inline <style> elements) and runs its search in a blob:
# worker; this page alone allows both. Scripts stay 'self' only.
REDOC_CSP_UPDATE = {"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}


class SchemaView(DeclaredScopeMixin, SpectacularAPIView):
    scope_actions = {"get": Public(f"the OpenAPI schema: {_NO_RECORDS}")}

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # Errors answer in the API's JSON shape, not in the YAML the schema is served in.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class _SignInPageMixin:
    """HTML pages: an anonymous visitor is sent to the admin login, and back after it."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class SwaggerView(_SignInPageMixin, DeclaredScopeMixin, SpectacularSwaggerSplitView):
    """Swagger UI; its start-up script is a second request to this URL (`?script`)."""

    scope_actions = {"get": Public(f"the Swagger UI page and its script: {_NO_RECORDS}")}
    template_name = "api_docs/swagger_ui.html"


class RedocView(_SignInPageMixin, DeclaredScopeMixin, SpectacularRedocView):
    scope_actions = {"get": Public(f"the ReDoc page: {_NO_RECORDS}")}
    template_name = "api_docs/redoc.html"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._csp_update = REDOC_CSP_UPDATE  # read by csp.middleware.CSPMiddleware
        return response

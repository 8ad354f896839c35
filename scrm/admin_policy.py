"""The admin's relaxations of the Content-Security-Policy, both for django-unfold's theme.

django-unfold draws its menus, dropdowns, modals and tabs with Alpine.js, whose standard build
evaluates the expressions in `x-*` / `@*` attributes with `new Function`; under the strict
policy every Alpine component stays dead (a modal overlay covers the login button). The policy
still refuses inline <script>, inline event handlers and every other origin, so an attacker
would need to inject an Alpine attribute, which Django's autoescaping of every value (quotes
included) rules out. unfold also writes its colour variables in a <style> element and sets a
few `style` attributes (progress bars, chart sizes), so styles may be inline too; styles run no
code. Only /admin/ pages get these: the API, its docs and the rest stay strict.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

ADMIN_SCRIPT_UPDATE = {"script-src": ["'unsafe-eval'"], "style-src": ["'unsafe-inline'"]}


class AdminScriptPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            update = dict(getattr(response, "_csp_update", None) or {})
            for directive, sources in ADMIN_SCRIPT_UPDATE.items():
                update[directive] = [*update.get(directive, []), *sources]
            # Read by csp.middleware.CSPMiddleware: django-csp's own attribute on the response.
            response._csp_update = update  # type: ignore[attr-defined]
        return response

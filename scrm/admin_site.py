"""The project's admin site: Django's, with the pages that bypass the read door switched off.

- autocomplete (`/admin/autocomplete/`) answers from any registered admin's search with no
  access event and no throttle (an exact-mobile oracle over customers); no admin uses
  `autocomplete_fields`, so it is off (a system check fails if one starts to);
- view_on_site (`/admin/r/<content type>/<id>/`) looks any object up by id outside every scope;
  no model has `get_absolute_url`, so it is off too.
- unfold's model search (`/admin/search/`) runs every registered admin's search the same way
  (no access event, no throttle, outside the read door), so it is off as well.
Both answer 404 like any unknown admin URL.

The site is django-unfold's (the theme); its home page is each role's dashboard, built from the
panels the apps register (scrm.dashboard): the platform names no domain app.
"""

from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from unfold.sites import UnfoldAdminSite

SWITCHED_OFF = ("autocomplete", "view_on_site", "search")


class ScrmAdminSite(UnfoldAdminSite):
    site_header = gettext_lazy("scrm customer resource protection")
    site_title = "scrm"
    index_title = gettext_lazy("Home")

    def get_urls(self):
        from scrm.staff.admin_mfa import enrol_view, verify_view

        mfa_pages = [
            path("mfa/verify/", self.admin_view_open(verify_view), name="mfa_verify"),
            path("mfa/enrol/", self.admin_view(lambda r: enrol_view(r, self)), name="mfa_enrol"),
        ]
        kept = [p for p in super().get_urls() if getattr(p, "name", None) not in SWITCHED_OFF]
        # unfold's templates reverse "search" even with its search turned off: the name stays,
        # answering 404 like the other switched-off pages.
        gone = [path("search/", self.admin_view(switched_off), name="search")]
        return [*mfa_pages, *kept, *gone]

    def admin_view_open(self, view):
        """The code step: before sign-in, so not behind admin_view (which wants staff)."""
        return never_cache(csrf_protect(lambda request: view(request, self)))

    def login(self, request, extra_context=None):
        """Django's admin login with the code step after the password (scrm.staff.admin_mfa)."""
        from django.contrib.admin.forms import AdminAuthenticationForm

        from scrm.staff.admin_mfa import PasswordStepView

        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return PasswordStepView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)


def switched_off(request, *args, **kwargs):
    raise Http404


class ScrmAdminConfig(AdminConfig):
    default_site = "scrm.admin_site.ScrmAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module
        assert self.module is not None  # django.contrib.admin, imported by AppConfig.create
        themed_admins(self.module.site)
        from scrm.library_labels import make_library_labels_translatable

        make_library_labels_translatable()


def themed_admins(site) -> None:
    """Give the admins registered by other libraries (groups, tokens, celery beat) unfold's
    look too: the same class with unfold's ModelAdmin mixed in, so every page has one style."""
    from unfold.admin import ModelAdmin

    for model, model_admin in list(site._registry.items()):
        if not isinstance(model_admin, ModelAdmin):
            themed = type(type(model_admin).__name__, (type(model_admin), ModelAdmin), {})
            site.unregister(model)
            site.register(model, themed)


def dashboard_callback(request, context: dict) -> dict:
    """unfold's home page hook: the panels the apps registered for this viewer."""
    from scrm.dashboard import panels_for

    context["scrm_panels"] = panels_for(request)
    return context

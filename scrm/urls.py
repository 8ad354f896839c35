from django.contrib import admin
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from scrm.api import ids  # noqa: F401 (registers the `id` path converter)
from scrm.api.docs import RedocView, SchemaView, SwaggerView
from scrm.api.routes import app_urlpatterns, router
from scrm.audit.api import AccessEventViewSet, ChangeLogViewSet, SecurityAlertViewSet
from scrm.masking.views import masking_matrix
from scrm.staff import auth_api
from scrm.staff.api import StaffDirectoryViewSet, me

router.register("staff", StaffDirectoryViewSet, basename="staff")
router.register("audit/events", AccessEventViewSet, basename="accessevent")
router.register("audit/changes", ChangeLogViewSet, basename="changelog")
router.register("alerts", SecurityAlertViewSet, basename="alert")

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", auth_api.ObtainToken.as_view(), name="token_obtain_pair"),
    path("auth/token/mfa/", auth_api.ObtainTokenWithSecondFactor.as_view(), name="token_mfa"),
    path("auth/token/refresh/", auth_api.RefreshToken.as_view(), name="token_refresh"),
    path("auth/logout/", auth_api.Logout.as_view(), name="logout"),
    path("auth/logout/all/", auth_api.LogoutEverywhere.as_view(), name="logout_all"),
    path("auth/mfa/totp/", auth_api.TotpEnrolment.as_view(), name="mfa_totp"),
    path("auth/mfa/totp/confirm/", auth_api.TotpConfirmation.as_view(), name="mfa_totp_confirm"),
    path("me/", me, name="me"),
    # The apps' own paths and viewsets (each app's api_urls module, scrm.api.routes).
    *app_urlpatterns(),
    path("", include(router.urls)),
]

urlpatterns = [
    # insider §5: the masking matrix, read-only, for administrators, auditors, security officers
    path("admin/masking-matrix/", masking_matrix, name="masking-matrix"),
    path("admin/", admin.site.urls),
    # The header's language switcher posts here (Django's set_language: session + cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    # Signed-in staff only (scrm/api/docs.py).
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    # Browsers ask every site for /favicon.ico; the admin names none (a 404 in every console).
    path("favicon.ico", RedirectView.as_view(url=static("scrm/favicon.svg"), permanent=True)),
    # The site's root is the admin's home.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]

"""Settings read from the environment; see .env.example for every variable.

DEBUG defaults to off: a server started without it is production, refuses to start without
real secrets, and sends HTTPS-only cookies, HSTS and the SSL redirect. `make run` (and the test
suite, through pytest-env) set DEBUG=1: then the embedded default runs on a SQLite file with
eager Celery and local development keys, so it works on a bare machine.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from scrm.devkeys import UnsafeToStart, load_or_create_dev_keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless asked for: a forgotten variable in production must fail closed, not open.
DEBUG = env_bool("DEBUG", False)

_secrets = load_or_create_dev_keys(BASE_DIR / ".scrm-dev-keys.json", production=not DEBUG)
SECRET_KEY = _secrets["DJANGO_SECRET_KEY"]
# "kid:base64key,kid:base64key": the first key encrypts, every listed key decrypts.
SCRM_FIELD_KEYS = _secrets["SCRM_FIELD_KEYS"]
SCRM_BLIND_INDEX_KEY = _secrets["SCRM_BLIND_INDEX_KEY"]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

# --- HTTPS ------------------------------------------------------------------------------------
# Production (DEBUG off) defaults to HTTPS only; development to plain http on 127.0.0.1. Each
# can be overridden, e.g. SECURE_SSL_REDIRECT=0 when the balancer already redirects.
_HTTPS_ONLY = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS_ONLY)
_ONE_YEAR = 31_536_000
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS") or (_ONE_YEAR if _HTTPS_ONLY else 0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _HTTPS_ONLY)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _HTTPS_ONLY)
# "HEADER,value", e.g. "HTTP_X_FORWARDED_PROTO,https": only behind a proxy that sets the header
# itself and drops the client's, or any client could claim HTTPS. Default: not trusted.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER")
if len(_proxy_ssl_header) == 2:
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
elif _proxy_ssl_header:
    raise UnsafeToStart(
        'SECURE_PROXY_SSL_HEADER must be "HEADER,value", e.g. "HTTP_X_FORWARDED_PROTO,https".'
    )
# Origins (scheme://host[:port]) allowed to POST with the CSRF cookie besides the site itself.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django-unfold: the admin's theme (Tailwind, dashboard components, Chart.js, all served
    # from its static files). Before django.contrib.admin so its templates win.
    "unfold.apps.BasicAppConfig",  # the theme only: the site is scrm.admin_site.ScrmAdminSite
    "unfold.contrib.filters",
    "scrm.admin_site.ScrmAdminConfig",  # django.contrib.admin without the door bypasses
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as local static files, never a CDN
    "csp",
    "corsheaders",
    "guardian",
    "auditlog",
    "django_celery_beat",
    "scrm.staff",
    "scrm.audit",
    "customers",
    "chats",
    "offboarding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # CORS for /api/ only (an embedded WeCom sidebar page): answers preflights before any
    # authentication, adds the headers for the allowed origins (SCRM_CORS_ALLOWED_ORIGINS).
    "corsheaders.middleware.CorsMiddleware",
    # Every error under /api/ in the API's JSON shape (404, 405, 500, too many fields...).
    "scrm.api.middleware.ApiJsonErrorsMiddleware",
    "scrm.admin_policy.AdminScriptPolicyMiddleware",  # Alpine.js in the admin (unfold)
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: the session's choice, else the browser's Accept-Language,
    # else LANGUAGE_CODE (zh-hans).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "scrm.staff.admin_mfa.SecondFactorMiddleware",
    "scrm.audit.middleware.ActorMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: answers a locked-out sign-in
]

ROOT_URLCONF = "scrm.urls"
WSGI_APPLICATION = "scrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dj_database_url.DBConfig:
    database = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + a busy timeout let the dev server and a management command share the file.
        # IMMEDIATE: a transaction takes the write lock when it begins, so concurrent writers
        # wait their turn (the timeout) instead of failing with "database is locked" when a
        # read lock cannot be upgraded (30 parallel reveals answered 500 before).
        database["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        database["CONN_MAX_AGE"] = 0
    return database


DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if os.environ.get("DATABASE_REPLICA_URL"):
    # Read only by chat search and export (scrm/dbrouting.py). In tests it is a second
    # connection to the test database (TEST MIRROR), not a database of its own.
    DATABASES["replica"] = {
        **database_from_url(os.environ["DATABASE_REPLICA_URL"]),
        "TEST": {"MIRROR": "default"},
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "staff.Staff"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username or address
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"  # the login page posts no "next" of its own

# Chinese first, English available. The catalogue (locale/zh_Hans/LC_MESSAGES/) is committed
# compiled, so a fresh clone shows Chinese without GNU gettext installed.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# The company named on printed reports (the offboarding handover report).
SCRM_COMPANY_NAME = os.environ.get("SCRM_COMPANY_NAME", "示例科技有限公司")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Project-wide assets (the API docs pages); each app keeps its own in <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "scrm" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# --- Content-Security-Policy (django-csp) ----------------------------------------------------
# Sent on every response: scripts and styles only from this server's static files, no inline
# script anywhere (the admin's own scripts, ours in <app>/static/, Swagger UI and ReDoc from
# drf-spectacular-sidecar). data: images are Swagger UI's and the admin's CSS icons. ReDoc's
# page alone adds inline *styles* and a blob: worker (its CSS-in-JS and search: scrm/api/docs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- CORS (django-cors-headers) ---------------------------------------------------------------
# Origins (scheme://host[:port], comma-separated) whose pages may call the API from a browser,
# e.g. the WeCom sidebar page embedded in the WeCom client. Empty (the default): no CORS
# headers at all, browsers keep the same-origin rule. Only /api/ paths; the admin never.
# Credentials are bearer tokens (Authorization), not cookies: no CORS_ALLOW_CREDENTIALS.
CORS_ALLOWED_ORIGINS = env_list("SCRM_CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (*cors_default_headers, "if-match")
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]

# A request body over this size answers 400 instead of being parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scrm.staff.authentication.DeviceWipeAuthentication",
        "scrm.staff.tokens.ScrmJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON first (clients sending Accept: */* or application/json get JSON), then the browsable
    # API for browsers, drawn without the forms that would list related rows outside the
    # caller's scope (scrm.api.renderers). The docs live at /api/docs/.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "scrm.api.renderers.SafeBrowsableAPIRenderer",
    ],
    # JSON request bodies only, nesting bounded (a body of 100,000 "[" answers 400); a form
    # or multipart body answers 415. The one upload (offboarding's leavers CSV) takes multipart
    # on its own action. The schema, and so a generated client, follows the parsers.
    "DEFAULT_PARSER_CLASSES": ["scrm.api.parsers.DepthLimitedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "scrm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # django-filter with every number and model-choice filter bounded to the id range.
    "DEFAULT_FILTER_BACKENDS": ["scrm.api.ids.FilterBackend"],
    # Documents every operation's error answers and the X-Device-Id header (scrm.api.schema).
    "DEFAULT_SCHEMA_CLASS": "scrm.api.schema.ScrmAutoSchema",
    "EXCEPTION_HANDLER": "scrm.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["scrm.api.throttling.ScrmUserRateThrottle"],  # + RateLimit-*
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("SCRM_API_USER_RATE", "1200/min")},
    # The throttle's client address: REMOTE_ADDR unless proxies are trusted (scrm.client_ip).
    "NUM_PROXIES": int(os.environ.get("SCRM_TRUSTED_PROXY_COUNT", "0")),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "15"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "7"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Last login is set by the `user_logged_in` signal that scrm.staff.tokens sends.
    "UPDATE_LAST_LOGIN": False,
}
# No chain of refreshes outlives this many days from the sign-in (scrm.staff.tokens).
JWT_SESSION_MAX_DAYS = int(os.environ.get("JWT_SESSION_MAX_DAYS", "7"))
SPECTACULAR_SETTINGS = {
    "TITLE": "scrm API",
    "DESCRIPTION": "REST API for scrm mobile clients. Sensitive fields are masked unless revealed.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags without the version: `customers_list`, tag `customers` (a
    # generated client's modules are named after them).
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The docs are for signed-in staff (scrm/api/docs.py), served from local static files.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: Swagger UI would send the schema's URL to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # One name per choice set, so the schema (and `check --deploy`) has no naming collisions.
    "ENUM_NAME_OVERRIDES": {
        "AccessChannelEnum": "scrm.audit.models.Channel",
        "ChatChannelEnum": "chats.models.Channel",
        "OffboardingPlanEnum": "offboarding.models.OffboardingCase.Plan",
        "CaseStatusEnum": "offboarding.models.OffboardingCase.Status",
        "StepStatusEnum": "offboarding.models.CaseStep.Status",
        "TransferStatusEnum": "offboarding.models.CustomerTransfer.Status",
        "BatchItemStatusEnum": "chats.serializers.BATCH_ITEM_STATUSES",
    },
}
# Deepest JSON request body the API parses (arrays and objects inside each other).
SCRM_JSON_MAX_DEPTH = int(os.environ.get("SCRM_JSON_MAX_DEPTH", "64"))

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# No broker configured: run tasks in-process so the embedded default needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Caches (throttling) --------------------------------------------------------------------
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Third-party protection libraries -------------------------------------------------------
GUARDIAN_ANONYMOUS_USER_NAME = None  # no anonymous access anywhere; guardian must not create one
ANONYMOUS_USER_NAME = None
AUDITLOG_MASK_CALLABLE = "scrm.masking.policy.mask_for_log"
AUDITLOG_INCLUDE_ALL_MODELS = False

# --- Identity: second factor, lockout, client address --------------------------------------
# How many reverse proxies in front of scrm append to X-Forwarded-For (0: trust none, use
# REMOTE_ADDR). The audit trail, the lockout and the API throttle all read it (scrm.client_ip).
SCRM_TRUSTED_PROXY_COUNT = int(os.environ.get("SCRM_TRUSTED_PROXY_COUNT", "0"))
# Roles that must use a second factor (scrm.staff.mfa): whoever may reveal identity data,
# export raw data, approve or run offboarding, read the audit trail, or administer. Superusers
# always. Comma-separated group names.
SCRM_MFA_REQUIRED_ROLES = [
    r.strip()
    for r in os.environ.get(
        "SCRM_MFA_REQUIRED_ROLES",
        "Team lead,Sales manager,HR,Legal,Auditor,Security officer,Administrator",
    ).split(",")
    if r.strip()
]
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "scrm")
# django-axes (scrm.staff.lockout): failures per username and per address, each its own limit.
SCRM_LOCKOUT_USERNAME_FAILURES = int(os.environ.get("SCRM_LOCKOUT_USERNAME_FAILURES", "5"))
SCRM_LOCKOUT_ADDRESS_FAILURES = int(os.environ.get("SCRM_LOCKOUT_ADDRESS_FAILURES", "20"))
SCRM_LOCKOUT_MINUTES = int(os.environ.get("SCRM_LOCKOUT_MINUTES", "15"))
AXES_HANDLER = "scrm.staff.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = SCRM_LOCKOUT_USERNAME_FAILURES
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # order matters: LockoutHandler
AXES_COOLOFF_TIME = timedelta(minutes=SCRM_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = False  # a sign-in to one's own account must not wipe an address count
AXES_CLIENT_IP_CALLABLE = "scrm.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "scrm.staff.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# Sign-ins are access events (the audit admin lists them); an address or username is unlocked
# with `manage.py axes_reset_username` / `axes_reset_ip` (docs/operations.md).
AXES_ENABLE_ADMIN = False

# --- scrm policy ----------------------------------------------------------------------------
SCRM_REVEAL_LIMIT_PER_HOUR = int(os.environ.get("SCRM_REVEAL_LIMIT_PER_HOUR", "20"))
# Staff in their notice period: records read per hour (lists, searches, timelines, details)
# before a security alert, and before their list reads are blocked (scrm/audit/read_budget.py).
SCRM_NOTICE_READS_ALERT_PER_HOUR = int(os.environ.get("SCRM_NOTICE_READS_ALERT_PER_HOUR", "200"))
SCRM_NOTICE_READS_BLOCK_PER_HOUR = int(os.environ.get("SCRM_NOTICE_READS_BLOCK_PER_HOUR", "500"))
SCRM_LOOKUP_LIMIT_PER_HOUR = int(os.environ.get("SCRM_LOOKUP_LIMIT_PER_HOUR", "30"))
SCRM_DEMO_PASSWORD = os.environ.get("SCRM_DEMO_PASSWORD", "scrm-demo-2026")
SCRM_CHAT_RETENTION_DAYS = int(os.environ.get("SCRM_CHAT_RETENTION_DAYS", "180"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Object permissions are decided by scrm.access.scope (which honours share expiry); guardian's
# backend would not, so it is deliberately not installed.
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]

# --- The admin's look (django-unfold) -------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "scrm",
    "SITE_HEADER": "scrm 客户资源保护",
    "SITE_SUBHEADER": _("Customers, conversations and the staff who own them"),
    "SITE_SYMBOL": "shield_person",
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": "/static/scrm/favicon.svg"},
    ],
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    # No "view on site": the page it opens looks objects up outside every scope (admin_site).
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_BACK_BUTTON": True,
    "DASHBOARD_CALLBACK": "scrm.admin_site.dashboard_callback",
    "SIDEBAR": {"show_search": False, "command_search": False, "show_all_applications": True},
    "COMMAND": {"search_models": False},
    "BORDER_RADIUS": "6px",
}

# --- Offboarding ----------------------------------------------------------------------------
# A case always needs its approver (offboarding.services.approve_case): no setting skips it.
# As WeCom does: a customer may change hands at most this many times in this many days.
SCRM_TRANSFER_LIMIT = int(os.environ.get("SCRM_TRANSFER_LIMIT", "2"))
SCRM_TRANSFER_LIMIT_DAYS = int(os.environ.get("SCRM_TRANSFER_LIMIT_DAYS", "90"))

"""Settings for curation: one module, driven by environment variables.

With no environment set this is the *embedded mode*: SQLite under ``var/``,
Celery tasks run in-process, a local-memory cache and DEBUG on, so a newcomer
needs nothing but Python. Setting ``DATABASE_URL``, ``CELERY_BROKER_URL`` and
``REDIS_URL`` switches to the real services. With DEBUG off the settings
refuse to load without a ``SECRET_KEY``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or list(default)


DATABASE_URL = os.environ.get("DATABASE_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

# Embedded mode: no external service configured at all.
EMBEDDED = not (DATABASE_URL or CELERY_BROKER_URL or REDIS_URL)

DEBUG = env_bool("DEBUG", EMBEDDED)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=...).")
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "embedded-mode-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Unset with DEBUG on, runserver replaces the default with the address it serves.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = os.environ.get("SITE_NAME", "Best of arXiv")
SITE_ABOUT = os.environ.get(
    "SITE_ABOUT",
    "Every month our curators read the new arXiv papers in machine learning, "
    "language and vision so that you don't have to, and pick about ten worth "
    "your time, with a note on why each one matters.",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Its runserver sets SITE_URL to the address served (curation/management/commands/runserver.py);
    # before whitenoise's, which it wraps.
    "curation",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "papers",
    "issues",
    "triage",
]

MIDDLEWARE = [
    # Searches past their client's rate or the deployment's search concurrency are refused before
    # anything else runs: they come in floods, and each must cost less than a cached page
    # (issues/search.py, bench/search.py).
    "issues.search.SearchGuardMiddleware",
    # First otherwise, so that every log line of the request and every response carries the id.
    "curation.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Refusals of the middleware below (limits, CSRF…) answer /api/ in the API's error shape.
    "curation.api_errors.APIErrorShapeMiddleware",
    "curation.limits.RequestLimitsMiddleware",
    "curation.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cached public pages are answered here, before sessions/CSRF/auth (issues/page_cache.py).
    "issues.page_cache.PublicPageCacheMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "curation.urls"

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
                "curation.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "curation.wsgi.application"

# Database -------------------------------------------------------------------

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache ----------------------------------------------------------------------

if REDIS_URL:
    CACHES = {
        "default": {
            # Redis errors are logged, not raised: with Redis down the site and
            # the API still serve, only slower (see curation/cache.py). A Redis that
            # stops answering costs one short timeout, then is skipped for a few seconds.
            "BACKEND": "curation.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "curation",
            "TIMEOUT": 600,
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("REDIS_CONNECT_TIMEOUT", 0.25)),
                "socket_timeout": float(os.environ.get("REDIS_TIMEOUT", 0.25)),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "curation",
            "TIMEOUT": 600,
        }
    }
# Rendered public pages for anonymous readers (issues/page_cache.py); off only to measure without it.
PUBLIC_PAGE_CACHE = env_bool("PUBLIC_PAGE_CACHE", True)

# Auth -----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Where a login goes when its ?next= is missing or refused (an outside address): the
# admin's index, not Django's /accounts/profile/ default, which we don't have.
LOGIN_REDIRECT_URL = "admin:index"
AUTHENTICATION_BACKENDS = [
    # Checks every password login, once, and refuses it for a locked-out account or
    # address (curation/lockout.py). ModelBackend only loads the user of older sessions.
    "curation.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login brute force: this many failures within the window lock the
# account (or the address) until the window ends.
LOGIN_FAILURE_LIMIT_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ACCOUNT", 5))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20))
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", 15 * 60))
# How many reverse proxies (nginx, a load balancer) append to X-Forwarded-For;
# 0 trusts only REMOTE_ADDR. Decides who a client is for the login lockout and the
# API's rate limits alike (curation/limits.py::client_address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))

# Security -------------------------------------------------------------------

# TLS ends at the proxy in front of gunicorn, which must set (not pass on)
# X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes call the container over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# The preload directive only consents to the browsers' preload list; submitting
# the domain is a separate, deliberate step (hstspreload.org).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# Editors sign in again after a working day, and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 8 * 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
# Anything bigger is refused with 413 before it is read (curation/limits.py);
# the largest legitimate request is a figure upload.
MAX_REQUEST_BODY_SIZE = int(os.environ.get("MAX_REQUEST_BODY_SIZE", 10 * 1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Internationalization -------------------------------------------------------

LANGUAGE_CODE = "en-us"
# Storage is always UTC; TIME_ZONE is what editors see in the admin.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static and media -----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Celery ---------------------------------------------------------------------

# No broker configured: tasks run in-process, eagerly, and their exceptions
# propagate to the caller, so the embedded mode behaves like production
# minus the queue.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", 3300))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 3600))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died is redelivered after this many seconds.
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3700)),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With Redis down, enqueueing gives up in about 2 s instead of 20 (curation/queue.py).
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_TIMEZONE = "UTC"
# Anything that talks to arXiv goes to its own queue, consumed by a worker
# with concurrency 1 (see docker-compose.yml).
CELERY_TASK_ROUTES = {
    "papers.tasks.harvest_source": {"queue": "arxiv"},
    "papers.tasks.fetch_papers": {"queue": "arxiv"},
}
CELERY_BEAT_SCHEDULE = {
    # Every enabled source, from its high-water mark to now (papers/tasks.py).
    "harvest-enabled-sources": {
        "task": "papers.tasks.harvest_enabled_sources",
        "schedule": float(os.environ.get("HARVEST_EVERY_SECONDS", 6 * 3600)),
    },
    # Harvest runs whose worker died are marked failed (papers/harvest.py, reap_stale_runs).
    "reap-stale-harvest-runs": {
        "task": "papers.tasks.reap_stale_runs",
        "schedule": 300.0,
    },
    # Scheduled issues go out within a minute of their time (issues/tasks.py).
    "publish-due-issues": {
        "task": "issues.tasks.publish_due_issues",
        "schedule": 60.0,
    },
}
# With no broker nothing runs beat, so the web process runs these entries of
# CELERY_BEAT_SCHEDULE itself, in a thread (curation/scheduler.py, started by
# curation/wsgi.py). Harvests are left out: the embedded mode never calls arXiv unasked.
# IN_PROCESS_BEAT=off turns it off.
IN_PROCESS_BEAT = [
    name
    for name in env_list("IN_PROCESS_BEAT", [] if CELERY_BROKER_URL else ["publish-due-issues"])
    if name.lower() != "off"
]
# The admin warns when the scheduler has not run for this many seconds (issues/heartbeat.py).
SCHEDULER_STALE_AFTER = int(os.environ.get("SCHEDULER_STALE_AFTER", 300))

# Editorial ------------------------------------------------------------------

# Signed draft-preview links stop working after this many seconds (7 days).
PREVIEW_LINK_MAX_AGE = int(os.environ.get("PREVIEW_LINK_MAX_AGE", 7 * 24 * 3600))
# Figure uploads: bytes and pixels (width × height) an image may have.
FIGURE_MAX_BYTES = int(os.environ.get("FIGURE_MAX_BYTES", 10 * 1024 * 1024))
FIGURE_MAX_PIXELS = int(os.environ.get("FIGURE_MAX_PIXELS", 40_000_000))

# arXiv ----------------------------------------------------------------------

ARXIV_API_URL = os.environ.get("ARXIV_API_URL", "https://export.arxiv.org/api/query")
# arXiv asks for one request every 3 s, over one connection, deployment-wide
# (papers/politeness.py). Only a local fake server may set 0.
ARXIV_REQUEST_INTERVAL = float(os.environ.get("ARXIV_REQUEST_INTERVAL", 3.0))
ARXIV_TIMEOUT = float(os.environ.get("ARXIV_TIMEOUT", 30.0))
# Seconds one whole request may take, however slowly arXiv drips its answer
# (it holds the deployment-wide slot meanwhile); a read timeout alone never fires on a drip.
ARXIV_REQUEST_DEADLINE = float(os.environ.get("ARXIV_REQUEST_DEADLINE", 90.0))
# Bytes one answer may have (a page of 2,000 entries is about 6 MB); larger ones fail, unretried.
ARXIV_MAX_RESPONSE_BYTES = int(os.environ.get("ARXIV_MAX_RESPONSE_BYTES", 50_000_000))
ARXIV_MAX_RETRIES = int(os.environ.get("ARXIV_MAX_RETRIES", 5))
# First backoff in seconds; doubles on each retry unless arXiv sends Retry-After.
ARXIV_BACKOFF = float(os.environ.get("ARXIV_BACKOFF", 3.0))
ARXIV_PAGE_SIZE = int(os.environ.get("ARXIV_PAGE_SIZE", 500))
# Retries of an empty first page on a weekday before the day counts as unknown.
ARXIV_EMPTY_FIRST_PAGE_RETRIES = int(os.environ.get("ARXIV_EMPTY_FIRST_PAGE_RETRIES", 2))
# Days a source with no high-water mark looks back on its first harvest.
HARVEST_FIRST_DAYS = int(os.environ.get("HARVEST_FIRST_DAYS", 3))
# A running harvest run whose worker gave no sign of life for this long died: the
# reaper marks it failed. Longer than one request, its retries' backoff and a page's import.
HARVEST_HEARTBEAT_TIMEOUT = int(os.environ.get("HARVEST_HEARTBEAT_TIMEOUT", 600))
# A queued run (papers added by id) that no worker started within this long is marked failed.
HARVEST_QUEUED_TIMEOUT = int(os.environ.get("HARVEST_QUEUED_TIMEOUT", 6 * 3600))

# Search ---------------------------------------------------------------------

# PostgreSQL cancels a search query after this many milliseconds (papers/search.py).
SEARCH_STATEMENT_TIMEOUT_MS = int(os.environ.get("SEARCH_STATEMENT_TIMEOUT_MS", 2000))
# Public searches one client address may run per minute (0: no limit); the site's
# other pages are not counted. Then 429 with Retry-After (issues/search.py).
SEARCH_RATE_PER_MINUTE = int(os.environ.get("SEARCH_RATE_PER_MINUTE", 30))
# Public searches one web process runs at once; more get a quick 503, so a flood of
# searches never takes every worker thread from the other pages.
SEARCH_CONCURRENCY = int(os.environ.get("SEARCH_CONCURRENCY", 2))

# REST framework -------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "curation.api_errors.ErrorDocumentingAutoSchema",
    # Token first: an unauthenticated request then gets 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, within the size limit, no deeper than 64 levels, no lone surrogates.
    "DEFAULT_PARSER_CLASSES": ["curation.api_input.StrictJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "curation.api_limits.AnonThrottle",
        "curation.api_limits.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "curation.api_errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_PAGE_SIZE = int(os.environ.get("API_PAGE_SIZE", 20))
API_MAX_PAGE_SIZE = int(os.environ.get("API_MAX_PAGE_SIZE", 100))
# Public reads may be cached this long by browsers and shared caches.
API_CACHE_SECONDS = int(os.environ.get("API_CACHE_SECONDS", 60))
SPECTACULAR_SETTINGS = {
    "TITLE": "curation API",
    "DESCRIPTION": "Published issues, picks, papers and authors of the Best of arXiv.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Docs work offline: Swagger UI and Redoc come from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No call to the public swagger.io validator: the docs work offline and leak no URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH here has its own request serializer (a pick edit requires lock_version):
    # document it as it is, not as an all-optional copy.
    "COMPONENT_SPLIT_PATCH": False,
}
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")

# Logging --------------------------------------------------------------------

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
# JSON lines in production (one object per line, for the log collector);
# readable text on a developer's terminal. Both carry the request id / run id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "curation.logging.ContextFilter"}},
    "formatters": {
        "text": {"()": "curation.logging.TextFormatter"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
# The worker logs through the configuration above instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors to Sentry when SENTRY_DSN is set and sentry-sdk is installed
# (optional: pip install sentry-sdk).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from curation.logging import init_sentry

    init_sentry(SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"))

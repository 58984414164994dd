"""Settings shared by every environment. Everything configurable comes from the environment (django-environ)."""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "template_partials",
    "workspaces",
    "connectors",
    "webhooks",
    "connect",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RejectNulCharactersMiddleware",
    "config.outages.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Times in the viewer's own zone (a `tz` cookie set by static/dashboard/app.js; UTC without it).
    "dashboard.middleware.BrowserTimezoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Reuse connections across requests and tasks: a new PostgreSQL connection costs milliseconds per execute.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that reads the socket instead of sending SELECT 1 (core/postgresql).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the dev server, an in-process worker and the shell share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"})
# The hot-path statements in core/prepared.py are prepared on the PostgreSQL server. Set false behind a pooler that
# cannot keep prepared statements across transactions (PgBouncer in transaction mode before 1.21).
PATCHBAY_DB_PREPARED_STATEMENTS = env.bool("PATCHBAY_DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# --- Patchbay -------------------------------------------------------------------------------------------------
# Comma-separated Fernet keys. The first encrypts; every key decrypts (MultiFernet), so keys rotate without downtime.
PATCHBAY_ENCRYPTION_KEYS: list[str] = env.list("PATCHBAY_ENCRYPTION_KEYS", default=[])
# Extra manifest directories (colon-separated) for a deployment's own connector types.
PATCHBAY_CATALOG_DIRS: list[str] = [p for p in env("PATCHBAY_CATALOG_DIRS", default="").split(":") if p.strip()]
# JSON: {"github": {"base_url": "...", "token_url": "...", "authorization_url": "..."}}
PATCHBAY_CATALOG_OVERRIDES: dict = env.json("PATCHBAY_CATALOG_OVERRIDES", default={})
PATCHBAY_PUBLIC_URL: str = env("PATCHBAY_PUBLIC_URL", default="http://127.0.0.1:8000")
# Operator metrics at /metrics (config/metrics_view.py): off when empty, else scrapers send "Bearer <token>".
PATCHBAY_METRICS_TOKEN: str = env("PATCHBAY_METRICS_TOKEN", default="")
PATCHBAY_EXECUTE_TIMEOUT: float = env.float("PATCHBAY_EXECUTE_TIMEOUT", default=30.0)
PATCHBAY_UPSTREAM_TIMEOUT: float = env.float("PATCHBAY_UPSTREAM_TIMEOUT", default=20.0)
PATCHBAY_UPSTREAM_MAX_ATTEMPTS: int = env.int("PATCHBAY_UPSTREAM_MAX_ATTEMPTS", default=4)
PATCHBAY_UPSTREAM_MAX_RETRY_SECONDS: float = env.float("PATCHBAY_UPSTREAM_MAX_RETRY_SECONDS", default=30.0)
PATCHBAY_UPSTREAM_MAX_BODY_BYTES: int = env.int("PATCHBAY_UPSTREAM_MAX_BODY_BYTES", default=10 * 1024 * 1024)
PATCHBAY_EXECUTION_RETENTION_DAYS: int = env.int("PATCHBAY_EXECUTION_RETENTION_DAYS", default=30)
PATCHBAY_TOKEN_REFRESH_MARGIN_SECONDS: int = env.int("PATCHBAY_TOKEN_REFRESH_MARGIN_SECONDS", default=300)
PATCHBAY_REFRESH_SWEEP_SECONDS: int = env.int("PATCHBAY_REFRESH_SWEEP_SECONDS", default=60)
PATCHBAY_CREDENTIAL_CHECK_INTERVAL_HOURS: int = env.int("PATCHBAY_CREDENTIAL_CHECK_INTERVAL_HOURS", default=24)
# Hosts a connector may reach over plain http, and regardless of a definition's allowed_hosts: loopback stand-ins for
# tests and local development only. Empty in production: every host that reaches us through the API, the dashboard or
# a token response must be https (docs/reliability.md, "Credentials are bound to their hosts").
PATCHBAY_ALLOW_HTTP_HOSTS: list[str] = env.list("PATCHBAY_ALLOW_HTTP_HOSTS", default=[])
# Reliability (docs/reliability.md). Retry-After sent with a 503 when the database or the broker is unreachable.
PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS: int = env.int("PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS", default=5)
# An execution no worker has started by then fails with error_code "deadline_exceeded" instead of waiting forever.
PATCHBAY_EXECUTION_DEADLINE_SECONDS: int = env.int("PATCHBAY_EXECUTION_DEADLINE_SECONDS", default=900)
# Lifetime of a bearer token from POST /api/v1/account/applications/token. Airbyte's SDK ignores `expires_in` and
# reuses a token for 14 minutes, so anything shorter than 15 minutes breaks it.
PATCHBAY_APPLICATION_TOKEN_SECONDS: int = env.int("PATCHBAY_APPLICATION_TOKEN_SECONDS", default=900)
# A pending execution whose queue message is older than this is sent again (the broker lost it, e.g. a restart).
PATCHBAY_REDISPATCH_AFTER_SECONDS: int = env.int("PATCHBAY_REDISPATCH_AFTER_SECONDS", default=120)
# How often beat runs the execution sweeper.
PATCHBAY_SWEEP_SECONDS: int = env.int("PATCHBAY_SWEEP_SECONDS", default=30)

# Webhooks (webhooks/): seconds between a message's attempts after the first (Standard Webhooks' usual schedule:
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27 hours in all), the timeout of one delivery, how long an
# endpoint may fail before it is disabled, and whether private/loopback targets are allowed (tests, on-prem).
PATCHBAY_WEBHOOK_RETRY_SCHEDULE: list[float] = [
    float(x)
    for x in env.list(
        "PATCHBAY_WEBHOOK_RETRY_SCHEDULE", default=["5", "300", "1800", "7200", "18000", "36000", "36000"]
    )
]
PATCHBAY_WEBHOOK_TIMEOUT: float = env.float("PATCHBAY_WEBHOOK_TIMEOUT", default=10.0)
# A claimed message whose worker has not recorded an outcome by then (it died mid-delivery) is sent again by the
# sweeper: longer than one delivery's timeout.
PATCHBAY_WEBHOOK_LEASE_SECONDS: int = env.int(
    "PATCHBAY_WEBHOOK_LEASE_SECONDS", default=int(PATCHBAY_WEBHOOK_TIMEOUT) + 50
)
PATCHBAY_WEBHOOK_DISABLE_AFTER_DAYS: float = env.float("PATCHBAY_WEBHOOK_DISABLE_AFTER_DAYS", default=5.0)
PATCHBAY_WEBHOOKS_ALLOW_PRIVATE: bool = env.bool("PATCHBAY_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Connect sessions' hosted pages (connect/): rate limits as "hits/seconds", per client IP (every page view and
# submit) and per session (form submits and OAuth starts). Counted in Redis when REDIS_URL is set.
PATCHBAY_CONNECT_RATE_IP: str = env("PATCHBAY_CONNECT_RATE_IP", default="300/600")
PATCHBAY_CONNECT_RATE_SESSION: str = env("PATCHBAY_CONNECT_RATE_SESSION", default="30/600")
# Sending a task: at most this long (connect + one retry) before the caller gets 503 and the sweeper takes over.
PATCHBAY_DISPATCH_TIMEOUT_SECONDS: float = env.float("PATCHBAY_DISPATCH_TIMEOUT_SECONDS", default=2.0)

# --- Celery ---------------------------------------------------------------------------------------------------
REDIS_URL: str = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
# The cache holds only rate-limit counters: shared by every process through Redis when there is one, else per process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "patchbay",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
# No broker configured: run tasks in-process so `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Without this Celery's Django fixup closes the DB connection before every task: a reconnect per execution.
# CONN_MAX_AGE and CONN_HEALTH_CHECKS still retire old or broken connections.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_RESULT_EXPIRES = 3600
# A worker killed mid-task: the pool requeues the message at once (acks_late + reject_on_worker_lost) and the
# execution service decides whether the run may happen again (reads) or must end "worker_lost" (writes).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A running execution older than this has lost its worker: the hard time limit would have ended it by now.
PATCHBAY_EXECUTION_LEASE_SECONDS: int = env.int("PATCHBAY_EXECUTION_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
# Redis hands an unacknowledged message to another worker after the visibility timeout: past the lease, never
# during a run that may still finish. Short socket timeouts so a dead broker answers in seconds, not minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=PATCHBAY_EXECUTION_LEASE_SECONDS + 60),
    "socket_timeout": PATCHBAY_DISPATCH_TIMEOUT_SECONDS,
    "socket_connect_timeout": PATCHBAY_DISPATCH_TIMEOUT_SECONDS,
}
# The result backend only speeds up a synchronous caller's wait (the database is the record): give up fast.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
}
CELERY_REDIS_SOCKET_TIMEOUT = 5.0
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = PATCHBAY_DISPATCH_TIMEOUT_SECONDS
CELERY_REDIS_RETRY_ON_TIMEOUT = True
# Workers keep reconnecting to a broker that went away, however long it takes (the default gives up after 100).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE: dict = {
    # Tokens due within the refresh margin, found through the token_expires_at index (see oauth/scheduling.py).
    "enqueue-due-refreshes": {
        "task": "connectors.enqueue_due_refreshes",
        "schedule": float(PATCHBAY_REFRESH_SWEEP_SECONDS),
    },
    "recheck-credentials": {"task": "connectors.recheck_credentials", "schedule": 3600.0},
    "prune-executions": {"task": "connectors.prune_executions", "schedule": 86400.0},
    # Nothing pending or running forever: re-send lost messages, recover runs whose worker died, end overdue ones.
    "sweep-executions": {"task": "connectors.sweep_executions", "schedule": float(PATCHBAY_SWEEP_SECONDS)},
    # Webhook messages whose send was lost (broker down, worker killed) or whose retry is due.
    "sweep-webhooks": {"task": "webhooks.sweep", "schedule": float(PATCHBAY_SWEEP_SECONDS)},
}

# "plain" (human-readable lines) or "json" (one JSON object per line: timestamp, level, logger, message).
PATCHBAY_LOG_FORMAT: str = env("PATCHBAY_LOG_FORMAT", default="plain").strip().lower()
if PATCHBAY_LOG_FORMAT not in ("plain", "json"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"PATCHBAY_LOG_FORMAT must be plain or json, not {PATCHBAY_LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,  # ISO 8601, UTC
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": PATCHBAY_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # The MCP SDK logs its per-request transport lifecycle at INFO: one MCP call would be three lines.
    "loggers": {"urllib3": {"level": "WARNING"}, "mcp": {"level": "WARNING"}},
}

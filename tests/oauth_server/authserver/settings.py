"""Settings of the test authorization server. Standalone: nothing from Patchbay's own settings or apps."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from authserver.control import access_token_lifetime, pkce_required

HERE = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("OAUTH_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="oauth-test-server-"))

DEBUG = False
SECRET_KEY = secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "authserver.urls"
WSGI_APPLICATION = None
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]

MIDDLEWARE = [
    # First, so injected failures and delays happen before any other work.
    "authserver.middleware.TestControlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "oauth-server.sqlite3"),
        "OPTIONS": {
            # Concurrent refreshes must serialise, not fail with "database is locked": take the write lock when the
            # transaction starts and wait for it.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
        },
    }
}

# The default PBKDF2 costs ~0.5 s per password or hashed client secret check; this is a throwaway test server.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

_refresh_lifetime = os.environ.get("OAUTH_TEST_REFRESH_TOKEN_LIFETIME")
_scopes = (os.environ.get("OAUTH_TEST_SCOPES") or "read write profile offline_access").split()

OAUTH2_PROVIDER = {
    "SCOPES": {scope: f"The {scope} scope" for scope in _scopes},
    "DEFAULT_SCOPES": ["__all__"],
    "OAUTH2_VALIDATOR_CLASS": "authserver.validators.TestServerValidator",
    # A callable so POST /test/config can change the lifetime of the next tokens without a restart.
    "EXTRA_SERVER_KWARGS": {"token_expires_in": access_token_lifetime},
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(_refresh_lifetime) if _refresh_lifetime else None,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # Rotation is decided per request by TestServerValidator.rotate_refresh_token (runtime switch).
    "ROTATE_REFRESH_TOKEN": True,
    # Replaying a rotated-away refresh token revokes the whole family, with no grace window.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": pkce_required,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "REQUEST_APPROVAL_PROMPT": os.environ.get("OAUTH_TEST_APPROVAL_PROMPT") or "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OAUTH_TEST_LOG_LEVEL") or "WARNING"},
}

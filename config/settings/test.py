"""The test suite. DATABASE_URL / REDIS_URL point it at PostgreSQL and Redis (CI); otherwise SQLite, in-process."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "patchbay-test-secret-key-not-for-production-0123456789"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Fixed keys so failures are reproducible; tests that rotate keys override this setting.
PATCHBAY_ENCRYPTION_KEYS = env.list(
    "PATCHBAY_TEST_ENCRYPTION_KEYS", default=["dGVzdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="]
)
# The suite runs tasks in-process unless a test starts a real worker itself.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = env("REDIS_URL", default="memory://")
CELERY_RESULT_BACKEND = env("REDIS_URL", default="cache+memory://")
PATCHBAY_UPSTREAM_TIMEOUT = 5.0
PATCHBAY_UPSTREAM_MAX_RETRY_SECONDS = 5.0
# Loopback stand-ins for vendors and the test OAuth server speak plain http.
PATCHBAY_ALLOW_HTTP_HOSTS = ["127.0.0.1", "localhost"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Webhook receivers in tests listen on loopback; retries come fast.
PATCHBAY_WEBHOOKS_ALLOW_PRIVATE = True
PATCHBAY_WEBHOOK_RETRY_SCHEDULE = [0.2, 0.2, 0.2]

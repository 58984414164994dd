"""Probes for load balancers and orchestrators: /healthz says the process is alive, /readyz that it can serve."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from .celery_app import app as celery_app
from .outages import OUTAGE_ERRORS


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: answers without touching the database or the broker, so an outage never gets us restarted."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close()  # the next probe (or request) starts from a fresh connection
        return "unavailable"
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"  # the embedded default runs tasks in the web process: nothing to reach
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
    except (*OUTAGE_ERRORS, OSError):
        return "unavailable"
    return "ok"


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the broker are reachable. 503 with Retry-After when either is not."""
    checks = {"database": _database(), "broker": _broker()}
    ready = "unavailable" not in checks.values()
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(settings.PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS)
    return response

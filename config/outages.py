"""Outages of the database or the broker answer 503 with Retry-After everywhere: API, dashboard, health checks."""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import ServiceUnavailable

OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    KombuOperationalError,
    RedisConnectionError,
    RedisTimeoutError,
)


def outage_error(exc: BaseException) -> ServiceUnavailable:
    what = "database" if isinstance(exc, OperationalError | InterfaceError) else "task queue"
    return ServiceUnavailable(
        f"Patchbay's {what} is unavailable right now. Nothing was lost; try again shortly.",
        retry_after=settings.PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS,
    )


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    error = outage_error(exc)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"message": error.message, "errors": []}, status=503)
    else:
        # A self-contained page: rendering the dashboard's base template would query the database again.
        response = HttpResponse(render_to_string("503.html", {"message": error.message}), status=503)
    response["Retry-After"] = str(error.retry_after)
    return response


def current_outage() -> BaseException | None:
    """The outage being handled right now, if the exception in flight is one (for handler500)."""
    exc = sys.exc_info()[1]
    return exc if isinstance(exc, OUTAGE_ERRORS) else None


class OutageMiddleware:
    """Views (dashboard, OAuth callback) that hit an outage answer 503 with Retry-After, never a 500 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OUTAGE_ERRORS):
            return outage_response(request, exception)
        return None

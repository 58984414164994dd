"""GET /metrics: Prometheus exposition, for operators. Off unless PATCHBAY_METRICS_TOKEN is set; then the scraper
sends `Authorization: Bearer <token>`."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors.metrics import scrape_registry


def _presented_token(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def metrics(request: HttpRequest) -> HttpResponse:
    token: str = getattr(settings, "PATCHBAY_METRICS_TOKEN", "") or ""
    if not token:
        # Metrics are disabled: the endpoint does not exist.
        return JsonResponse({"message": "Not found.", "errors": []}, status=404)
    if not hmac.compare_digest(_presented_token(request).encode(), token.encode()):
        response = JsonResponse({"message": "A valid metrics token is required.", "errors": []}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method != "GET":
        response = JsonResponse({"message": "Method not allowed; use GET.", "errors": []}, status=405)
        response["Allow"] = "GET"
        return response
    response = HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response

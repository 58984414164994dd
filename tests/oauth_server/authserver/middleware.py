"""Test hooks around the OAuth endpoints: request log, injected failures and delays, token response shaping."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus, urlencode

from authserver.control import control
from authserver.views import JWT_BEARER, jwt_bearer_token
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict

ENDPOINT_PATHS = {
    "/o/token/": "token",
    "/o/revoke_token/": "revoke",
    "/o/introspect/": "introspect",
    "/api/me": "me",
}
# Any path under it is a protected resource that finds the access token wherever a manifest's apply rule put it.
RESOURCE_PREFIX = "/resource/"
CLIENT_AUTH_ENDPOINTS = ("token", "revoke", "introspect")
PASSED_THROUGH_HEADERS = ("Cache-Control", "Pragma", "WWW-Authenticate")
# Token and revocation requests are handled one at a time. DOT, when two refreshes with the same token overlap,
# hands both the same new pair; strict providers answer the loser invalid_grant (and here revoke the family).
# Serialising gives that strict, deterministic outcome, and spares SQLite concurrent writers. Injected delays
# happen before the lock, so concurrent requests are still in flight together.
TOKEN_STATE_LOCK = threading.Lock()
SERIALISED_ENDPOINTS = ("token", "revoke")


class TestControlMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = ENDPOINT_PATHS.get(request.path)
        if endpoint is None and request.path.startswith(RESOURCE_PREFIX):
            endpoint = "resource"
        if endpoint is None:
            return self.get_response(request)

        details: dict[str, Any] = {"endpoint": endpoint, "method": request.method}
        if endpoint in CLIENT_AUTH_ENDPOINTS and request.method == "POST":
            details.update(_describe_client_request(request))
        entry = control.record(details)

        if not control.delay(endpoint):
            control.finish(entry, 503, abandoned_by_reset=True)
            return JsonResponse(
                {"error": "temporarily_unavailable", "error_description": "test server reset"}, status=503
            )

        failure = control.take_failure(endpoint)
        if failure is not None:
            response: HttpResponse = _failure_response(failure)
        elif endpoint == "token" and request.POST.get("grant_type") == JWT_BEARER:
            with TOKEN_STATE_LOCK:
                response = jwt_bearer_token(request)
        elif endpoint in SERIALISED_ENDPOINTS:
            with TOKEN_STATE_LOCK:
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if endpoint == "token" and failure is None:
            response = _shape_token_response(request, response)
        control.finish(
            entry,
            response.status_code,
            injected_failure=failure is not None,
            **getattr(request, "test_log_details", {}),
        )
        return response


def _describe_client_request(request: HttpRequest) -> dict[str, Any]:
    """Normalise a JSON body to form fields (DOT reads request.POST) and note how the client sent its credentials."""
    body_format = "form"
    if request.content_type == "application/json":
        body_format = "json"
        if control.get("accept_json_body"):
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                data = {}
            form = QueryDict(mutable=True)
            if isinstance(data, dict):
                for key, value in data.items():
                    form[key] = value if isinstance(value, str) else json.dumps(value)
            request.POST = form  # type: ignore[misc]

    client_id = request.POST.get("client_id")
    client_auth = "body" if request.POST.get("client_secret") else "none"
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        client_auth = "basic"
        try:
            client_id = unquote_plus(base64.b64decode(header[6:]).decode().split(":", 1)[0])
        except (binascii.Error, UnicodeDecodeError):
            client_id = None
    return {
        "grant_type": request.POST.get("grant_type"),
        "client_id": client_id,
        "client_auth": client_auth,
        "body_format": body_format,
    }


def _failure_response(failure: dict[str, Any]) -> HttpResponse:
    response: HttpResponse
    if failure.get("body") is not None:
        response = HttpResponse(failure["body"], status=failure["status"], content_type="text/html")
    else:
        response = JsonResponse(
            {"error": failure["error"], "error_description": failure["description"]}, status=failure["status"]
        )
    if failure["retry_after"] is not None:
        response["Retry-After"] = str(failure["retry_after"])
    return response


def _shape_token_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not response.get("Content-Type", "").startswith("application/json"):
        return response
    try:
        data = json.loads(response.content)
    except ValueError:
        return response

    if response.status_code == 200 and "access_token" in data:
        for field in control.get("drop_token_fields"):
            data.pop(field, None)
        base_url = request.build_absolute_uri("/").rstrip("/")
        for field, value in control.get("extra_token_fields").items():
            data[field] = value.replace("{base_url}", base_url) if isinstance(value, str) else value
        nest = control.get("nest_token_response")
        if nest:
            data = {nest: data}

    response_format = control.get("token_response_format")
    # "auto" answers like GitHub: form-encoded unless the client asks for JSON.
    as_form = response_format == "form" or (
        response_format == "auto" and "json" not in request.META.get("HTTP_ACCEPT", "")
    )
    if as_form:
        shaped = HttpResponse(
            urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}),
            status=response.status_code,
            content_type="application/x-www-form-urlencoded",
        )
    else:
        shaped = JsonResponse(data, status=response.status_code)
    for header in PASSED_THROUGH_HEADERS:
        if header in response:
            shaped[header] = response[header]
    return shaped

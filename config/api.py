"""The REST API (/api/v1): one NinjaAPI, one error body shape everywhere."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from config.outages import OUTAGE_ERRORS, outage_error
from core.errors import Conflict, DecryptionError, PatchbayError, ServiceUnavailable
from core.http import airbyte_shapes, error_body, for_airbyte, status_of

logger = logging.getLogger("patchbay.api")

api = NinjaAPI(
    title="Patchbay API",
    version="1.0.0",
    description=(
        "Store third-party credentials once and run operations against those APIs. "
        "Authenticate with `Authorization: Bearer <api key>`, or with an access token from "
        "`POST /api/v1/account/applications/token` (application credentials). Errors share one shape: "
        '`{"message": "...", "errors": [{"field", "message", "error_code", "userPresentableMessage"}]}`.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
    """Every error answer: Patchbay's body, with Airbyte's extra keys for Airbyte's SDK (core/http.py)."""
    return api.create_response(request, for_airbyte(body) if airbyte_shapes(request) else body, status=status)


PYDANTIC_CODES = {"missing": "required", "extra_forbidden": "unknown_field", "uuid_parsing": "invalid_value"}


def _field_from_loc(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    # ninja locations look like ("body", "payload", "credentials", "x") or ("query", "limit").
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 1 and parts[1] == "payload" else parts[1:]
    elif parts and parts[0] in ("query", "path", "header", "form"):
        parts = parts[1:]
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if part.isdigit() else (f"{out}.{part}" if out else part)
    return out or "body"


def _pydantic_error(err: dict[str, Any]) -> dict[str, str]:
    kind = str(err.get("type", ""))
    code = PYDANTIC_CODES.get(kind) or ("invalid_type" if kind.endswith("_type") else "invalid_value")
    message = "This field is required." if code == "required" else str(err.get("msg", "Invalid value."))
    if kind == "json_invalid":
        return {"field": "body", "message": "The request body is not valid JSON.", "error_code": "invalid_json"}
    return {"field": _field_from_loc(err.get("loc", ())), "message": message, "error_code": code}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [_pydantic_error(e) for e in exc.errors]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return error_response(request, error_body(f"Invalid request: {fields}.", errors), 422)


@api.exception_handler(PatchbayError)
def on_patchbay_error(request: HttpRequest, exc: PatchbayError) -> HttpResponse:
    extra: dict[str, Any] = {}
    if isinstance(exc, Conflict):
        extra["candidates"] = exc.candidates
    if isinstance(exc, ServiceUnavailable):
        extra.update(exc.extra)
    errors = [e.as_dict() for e in getattr(exc, "errors", [])]
    response = error_response(request, error_body(exc.message, errors, **extra), status_of(exc))
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


def on_outage(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database or the broker is unreachable: 503 with Retry-After, and the request can simply be repeated."""
    return on_patchbay_error(request, outage_error(exc))


for _outage in OUTAGE_ERRORS:
    api.add_exception_handler(_outage, on_outage)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, error_body("Missing or invalid API key."), status=401)


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("Not found."), status=404)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        error = {"field": "body", "message": "The request body is not valid JSON.", "error_code": "invalid_json"}
        return error_response(request, error_body("The request body is not valid JSON.", [error]), 422)
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


@api.exception_handler(DecryptionError)
def on_decryption_error(request: HttpRequest, exc: DecryptionError) -> HttpResponse:
    logger.error("%s", exc)  # an operator must act (a key was retired too early): say so in the log
    return on_patchbay_error(request, exc)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Never a stack trace to the caller; the log carries the type and a request id, never request bodies.
    logger.exception("Unhandled API error on %s %s", request.method, request.path)
    return api.create_response(
        request, error_body("Patchbay hit an internal error; it has been logged. Try again."), status=500
    )


from connect.api import router as connect_sessions_router  # noqa: E402
from connect.api import workspace_router  # noqa: E402
from connectors.api import definitions_router  # noqa: E402
from connectors.api import router as connectors_router  # noqa: E402
from webhooks.api import router as webhooks_router  # noqa: E402
from workspaces.api import account_router, api_keys_router, applications_router  # noqa: E402

api.add_router("/integrations/definitions", definitions_router)
api.add_router("/integrations/applications", applications_router)
api.add_router("/integrations/webhooks", webhooks_router)
api.add_router("/integrations/connect-sessions", connect_sessions_router)
api.add_router("/workspace", workspace_router)
api.add_router("/integrations", connectors_router)
api.add_router("/account/api-keys", api_keys_router)
api.add_router("/account", account_router)

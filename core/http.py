"""HTTP at the edge, shared by the REST API and the dashboard: the one table from error codes to statuses, and the
one error body. Services never see either."""

from __future__ import annotations

from typing import Any

from .errors import PatchbayError

# Error code -> the HTTP status Patchbay answers with.
ERROR_STATUS: dict[str, int] = {
    # The caller's request.
    "invalid_input": 422,
    "not_found": 404,
    "conflict": 409,
    "unauthenticated": 401,
    "forbidden": 403,
    # A connect session's hosted page: a link we never issued, or one that is over.
    "invalid_session": 404,
    "session_expired": 410,
    "session_used": 410,
    # Patchbay's own dependencies and machinery: retry later.
    "service_unavailable": 503,
    "decryption_failed": 503,
    "deadline_exceeded": 503,
    "worker_lost": 503,
    "token_refresh_failed": 503,
    "internal_error": 500,
    # The third party refused the connector's stored credentials: a failed dependency, not the caller's 401/403.
    "credentials_rejected": 424,
    "credentials_invalid": 424,
    "needs_reauth": 424,
    # The third party's answer.
    "rate_limited": 429,
    "bad_request": 400,
    "upstream_error": 502,
    "invalid_response": 502,
    "response_too_large": 502,
    "connection_error": 502,
    "timeout": 504,
    # Input that could not be turned into a call (nothing was sent).
    "invalid_params": 422,
    "invalid_cursor": 422,
    "invalid_config": 422,
    "credentials_missing": 422,
}


def status_for(code: str, default: int = 502) -> int:
    return ERROR_STATUS.get(code, default)


def status_of(error: PatchbayError) -> int:
    return status_for(error.code, 400)


# Airbyte's SDK sends this header on every request. Answers to it add the hosted product's extra keys (field errors'
# `userPresentableMessage`, the vendor's own pagination keys); everyone else keeps Patchbay's documented shapes.
AIRBYTE_SDK_HEADER = "X-ADP-Agent-SDK"


def airbyte_shapes(request: Any) -> bool:
    return bool(request.headers.get(AIRBYTE_SDK_HEADER))


def presentable(error: dict[str, Any]) -> dict[str, Any]:
    """A field error with `userPresentableMessage` ("field: message"), the key Airbyte's SDK shows its users, so a
    message such as "This field is required." says which field."""
    if "userPresentableMessage" in error or not error.get("message"):
        return error
    field = error.get("field")
    text = f"{field}: {error['message']}" if field and field != "body" else str(error["message"])
    return {**error, "userPresentableMessage": text}


def error_body(message: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"message": message, "errors": errors or [], **extra}


def for_airbyte(body: Any) -> Any:
    """An error body with every field error made presentable (for requests from Airbyte's SDK)."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return {**body, "errors": [presentable(e) if isinstance(e, dict) else e for e in body["errors"]]}
    return body

"""Reading an upstream answer: success, or which error it is (docs/catalog.md, "Errors").

An HTTP status maps to an error code through STATUS_CODES; a vendor's own error code (Slack's `error`, a GraphQL
`extensions.code`) maps through the manifest's `errors.codes` and wins over the status, except for a 429.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from connectors.catalog.manifest import ErrorSpec, RateLimit

from .http import REDIRECT_STATUSES, RawResponse
from .retry import retryable_answer, wait_hint
from .util import dig

STATUS_CODES: dict[int, str] = {
    401: "credentials_rejected",
    403: "credentials_rejected",  # unless the rate-limit quota is exhausted (see _code_for)
    404: "not_found",
    408: "upstream_error",
    410: "not_found",
    429: "rate_limited",
}
# Where vendors put a human-readable error message, tried in order after the manifest's own `message_field`.
MESSAGE_PATHS = (
    "message",
    "error.message",
    "error_description",
    "errorMessages.0",
    "errors.0.message",
    "errors.0.detail",
    "errors.0.title",
    "0.message",
    "error.title",
    "description",
    "detail",
    "title",
    "error",
)


@dataclass
class Outcome:
    body: Any = None
    error_code: str | None = None
    message: str | None = None
    hint: float | None = None  # seconds the vendor asked us to wait
    retryable: bool = False


@dataclass
class _BodyError:
    """What an answer's body says about failure, whatever its status."""

    vendor_code: Any = None
    message: str | None = None
    failed: bool = False  # an error reported in a 2xx body (Slack's ok: false, GraphQL errors)


def parse_json(content: bytes) -> Any:
    if not content.strip():
        return None
    return json.loads(content.decode("utf-8-sig"))


def vendor_message(body: Any, path: str | None) -> str | None:
    for candidate in ([path] if path else []) + list(MESSAGE_PATHS):
        value = dig(body, candidate)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"].strip()
    return None


def classify(raw: RawResponse, *, errors: ErrorSpec, rate_limit: RateLimit, idempotent: bool) -> Outcome:
    try:
        body, parsed = parse_json(raw.content), True
    except (ValueError, UnicodeDecodeError):
        body, parsed = None, False
    found = _body_error(body, errors)
    status = raw.status_code
    if 200 <= status < 300 and not found.failed:
        if not parsed:
            return Outcome(error_code="invalid_response", message="The upstream response is not valid JSON.")
        return Outcome(body=body)
    if status in REDIRECT_STATUSES:
        return Outcome(error_code="upstream_error", message="The upstream redirected to another host; not followed.")
    # Integer codes (Facebook's error.code 190, 17, 613) are looked up as their decimal text (codes: {"190": ...}).
    vendor_code = found.vendor_code
    if isinstance(vendor_code, int) and not isinstance(vendor_code, bool):
        vendor_code = str(vendor_code)
    mapped = errors.codes.get(vendor_code) if isinstance(vendor_code, str) else None
    code = _code_for(status, mapped, raw.headers, rate_limit)
    hint = wait_hint(raw.headers, rate_limit, rate_limited=code == "rate_limited")
    retryable = retryable_answer(code, status=status, hint=hint, idempotent=idempotent)
    return Outcome(body=body, error_code=code, message=found.message, hint=hint, retryable=retryable)


def _code_for(status: int, mapped: str | None, headers: Any, rate_limit: RateLimit) -> str:
    if status == 429:
        return "rate_limited"
    if mapped:
        return mapped
    if status == 403 and _quota_exhausted(headers, rate_limit):
        return "rate_limited"
    return STATUS_CODES.get(status) or ("upstream_error" if status >= 500 else "bad_request")


def _quota_exhausted(headers: Any, rate_limit: RateLimit) -> bool:
    """A GitHub-style 403: the remaining-requests header at 0, or a Retry-After."""
    remaining = rate_limit.remaining_header
    return bool((remaining and headers.get(remaining) == "0") or headers.get("Retry-After"))


def _body_error(body: Any, errors: ErrorSpec) -> _BodyError:
    found = _BodyError(message=vendor_message(body, errors.message_field) if body is not None else None)
    graphql_errors = body.get("errors") if errors.graphql and isinstance(body, dict) else None
    if isinstance(graphql_errors, list) and graphql_errors:
        first = graphql_errors[0] if isinstance(graphql_errors[0], dict) else {}
        found.vendor_code = dig(first, "extensions.code")
        if isinstance(first.get("message"), str):
            found.message = first["message"]
        found.failed = True
    if errors.ok_field and isinstance(body, dict) and body.get(errors.ok_field) is False:
        found.vendor_code = dig(body, errors.code_field or errors.message_field or "error")
        found.failed = True
    elif errors.code_field and body is not None and found.vendor_code is None:
        found.vendor_code = dig(body, errors.code_field)
        # TikTok: HTTP 200 with {"code": 40105, "message": ...}; only the listed codes (0) are success.
        if errors.success_codes and found.vendor_code is not None and not _is_success_code(found.vendor_code, errors):
            found.failed = True
    return found


def _is_success_code(value: Any, errors: ErrorSpec) -> bool:
    """Compared as text, so 0 in the manifest matches 0 or "0" in the body (never True/False)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    return str(value) in {str(code) for code in errors.success_codes}

"""execute_operation: one manifest action against the upstream API, normalised. No Django ORM here.

The pieces: request building (request.py), auth (auth.py), the HTTP helper (http.py), classification (classify.py),
retries (retry.py) and pagination (pagination.py). This module runs them in order and shapes the result.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import requests

from connectors.catalog.manifest import Action, Manifest
from connectors.catalog.params import canonical_params, validate_params
from core.errors import OperationInputError, UpstreamError

from . import http
from .auth import AppliedAuth, apply_credentials, select_scheme
from .classify import Outcome, classify
from .http import Limits
from .pagination import PageInfo, page_info
from .request import PreparedCall, prepare_call
from .retry import RetryBudget, retryable_exception
from .util import dig

logger = logging.getLogger("connectors.engine")
http.install_log_redaction()

DEFAULT_LIMITS = Limits()
MAX_MESSAGE_LENGTH = 300


@dataclass
class OperationResult:
    result: Any
    has_next_page: bool
    end_cursor: str | None
    status_code: int
    attempts: int
    duration_ms: int = 0
    rate_limit_remaining: int | None = None

    @property
    def connector_metadata(self) -> dict[str, Any]:
        return {"has_next_page": self.has_next_page, "end_cursor": self.end_cursor}


def execute_operation(
    *,
    manifest: Manifest,
    credentials: dict[str, Any],
    config: dict[str, Any] | None,
    entity: str,
    action: str,
    params: dict[str, Any] | None,
    auth_scheme: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    allow_http_hosts: Collection[str] = (),
    session: http.HttpSession | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    validate: bool = True,
) -> OperationResult:
    """Run one action. Raises UnknownOperation (connectors.catalog) or UpstreamError (code, message, ...).

    `limits` bound the call (timeout, attempts, retry budget, body size); `allow_http_hosts` are the hosts a
    placeholder may send the call to over plain http (PATCHBAY_ALLOW_HTTP_HOSTS). Callers read both from settings."""
    credentials = credentials or {}
    params = params or {}
    spec = manifest.action(entity, action)
    if validate:
        _check_params(manifest, entity, action, params)
    scheme = select_scheme(manifest, auth_scheme, credentials)
    auth = apply_credentials(
        scheme, credentials, config, config_defaults=manifest.config_fallbacks(credentials, config)
    )
    call = prepare_call(
        manifest=manifest,
        action=spec,
        scheme=scheme,
        auth=auth,
        config=config or {},
        credentials=credentials,
        params=canonical_params(spec, params),
        allow_http_hosts=allow_http_hosts,
    )
    exchange = new_exchange(
        manifest, call, auth, limits, session=session, sleep=sleep, binary=spec.response == "binary"
    )
    raw, outcome = exchange.run(manifest)
    return _result(manifest, spec, exchange, raw, outcome)


def new_exchange(
    manifest: Manifest,
    call: PreparedCall,
    auth: AppliedAuth,
    limits: Limits,
    *,
    session: http.HttpSession | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    binary: bool = False,
    passthrough: bool = False,
) -> _Exchange:
    """The attempts of one prepared call under `limits` (execute_operation's, and the proxy's)."""
    return _Exchange(
        call=call,
        auth=auth,
        vendor=manifest.name or manifest.slug or "The upstream API",
        limits=limits,
        budget=RetryBudget(limits.max_attempts, limits.max_retry_seconds, sleep),
        session=session or http.shared_session(),
        binary=binary,
        passthrough=passthrough,
    )


def _check_params(manifest: Manifest, entity: str, action: str, params: dict[str, Any]) -> None:
    field_errors = validate_params(manifest, entity, action, params)
    if field_errors:
        names = ", ".join(e["field"] for e in field_errors)
        raise OperationInputError("invalid_params", f"Invalid params: {names}.", field_errors)


@dataclass
class _Exchange:
    """One operation's attempts: send, classify, retry within the budget, or fail with a scrubbed message."""

    call: PreparedCall
    auth: AppliedAuth
    vendor: str
    limits: Limits
    budget: RetryBudget
    session: http.HttpSession
    status: int | None = None  # of the last answer, for the log line
    started: float = 0.0
    passthrough: bool = False  # the proxy: an error answer is returned (after any retries), not raised
    binary: bool = False  # `response: binary`: a successful answer is file content, not JSON

    def run(self, manifest: Manifest) -> tuple[http.RawResponse, Outcome]:
        self.started = time.monotonic()
        while True:
            self.budget.start_attempt()
            raw = self._send()
            if raw is None:
                continue  # a network error worth retrying; the budget has slept
            self.status = raw.status_code
            outcome = classify(
                raw, errors=manifest.errors, rate_limit=manifest.rate_limit, idempotent=self.call.idempotent
            )
            if outcome.error_code is None:
                return raw, outcome
            if self.binary and 200 <= raw.status_code < 300:
                return raw, Outcome()  # the file itself; errors still come as JSON and are classified above
            if not self._retry(raw, outcome):
                if self.passthrough:
                    return raw, outcome
                raise self._answer_error(raw, outcome)

    def _send(self) -> http.RawResponse | None:
        """One attempt. None when it failed on the network and another attempt is due; raises when none is."""
        call = self.call
        try:
            return http.send_once(
                self.session,
                method=call.method,
                url=call.url,
                headers=call.headers,
                body=call.body,
                timeout=self.limits.timeout,
                max_body_bytes=self.limits.max_body_bytes,
                auth_query=self.auth.query,
            )
        except UpstreamError as exc:  # response_too_large
            self.status = exc.status_code
            raise self.fail(exc.code, exc.message, status_code=exc.status_code) from None
        except requests.RequestException as exc:
            if self._retry_after_network_error(exc):
                return None
            raise self._network_error(exc) from None

    def _retry_after_network_error(self, exc: requests.RequestException) -> bool:
        retry = retryable_exception(exc, idempotent=self.call.idempotent)
        return retry and self.budget.attempts_left and self.budget.back_off()

    def _network_error(self, exc: requests.RequestException) -> UpstreamError:
        # Built by us, never from the exception: its text can hold the URL with a query-string credential.
        if isinstance(exc, requests.Timeout):
            target = f"{self.call.method} {self.call.log_target}"
            return self.fail("timeout", f"{self.vendor} did not answer {target} within {self.limits.timeout:g}s.")
        host = self.call.log_target.split("/", 1)[0]
        return self.fail("connection_error", f"Could not complete the connection to {host}.")

    def _retry(self, raw: http.RawResponse, outcome: Outcome) -> bool:
        """Sleep before the next attempt when one is due. A vendor's wait beyond the budget ends the call at once."""
        if not (outcome.retryable and self.budget.attempts_left):
            return False
        if outcome.hint is None:
            return self.budget.back_off()
        if not self.budget.wait(outcome.hint):
            if self.passthrough:
                return False  # the caller gets the vendor's answer, Retry-After included
            message = _error_text(self.vendor, self.call, raw.status_code, outcome)
            raise self.fail(outcome.error_code, message, status_code=raw.status_code, retry_after=outcome.hint)
        return True

    def _answer_error(self, raw: http.RawResponse, outcome: Outcome) -> UpstreamError:
        retry_after = outcome.hint if outcome.error_code == "rate_limited" else None
        message = _error_text(self.vendor, self.call, raw.status_code, outcome)
        return self.fail(
            outcome.error_code or "upstream_error", message, status_code=raw.status_code, retry_after=retry_after
        )

    def fail(self, code: str, message: str, **kwargs: Any) -> UpstreamError:
        text = http.scrub(message, self.auth.secrets)
        if len(text) > MAX_MESSAGE_LENGTH:
            text = text[: MAX_MESSAGE_LENGTH - 1] + "…"
        self.log(code)
        return UpstreamError(code, text, attempts=self.budget.attempts, **kwargs)

    def log(self, error_code: str | None) -> int:
        duration_ms = int((time.monotonic() - self.started) * 1000)
        call = self.call
        logger.log(
            logging.WARNING if error_code else logging.INFO,
            "upstream %s %s -> %s in %d attempt(s), %d ms%s",
            call.method,
            call.log_target,
            self.status if self.status is not None else "no response",
            self.budget.attempts,
            duration_ms,
            f" ({error_code})" if error_code else "",
            extra={
                "upstream_method": call.method,
                "upstream_target": call.log_target,
                "upstream_status": self.status,
                "upstream_attempts": self.budget.attempts,
                "upstream_duration_ms": duration_ms,
                "upstream_error_code": error_code,
            },
        )
        return duration_ms


def _error_text(vendor: str, call: PreparedCall, status: int, outcome: Outcome) -> str:
    text = f"{vendor} answered {status} to {call.method} {call.log_target}"
    if outcome.error_code == "invalid_response":
        return f"{text}: the response is not valid JSON."
    return f"{text}: {outcome.message}" if outcome.message else f"{text}."


def _result(
    manifest: Manifest, action: Action, exchange: _Exchange, raw: http.RawResponse, outcome: Outcome
) -> OperationResult:
    body = outcome.body
    if action.response == "binary":
        body = binary_result(raw)
    records = dig(body, action.records) if action.records else body
    if action.record and isinstance(records, list):
        records = [_unwrapped(item, action.record) for item in records]
    if action.result_headers and body in (None, "", b""):
        records = {
            name: raw.headers.get(header) if raw.headers else None for name, header in action.result_headers.items()
        }
    info = _page_info(action, exchange, raw, body, records) if action.is_paginated else PageInfo()
    remaining_header = manifest.rate_limit.remaining_header
    remaining = raw.headers.get(remaining_header) if remaining_header else None
    return OperationResult(
        result=records,
        has_next_page=info.has_next_page,
        end_cursor=info.end_cursor,
        status_code=raw.status_code,
        attempts=exchange.budget.attempts,
        duration_ms=exchange.log(None),
        rate_limit_remaining=int(remaining) if remaining and remaining.isdigit() else None,
    )


def _unwrapped(item: Any, path: str) -> Any:
    """The object a listed item wraps, or the item as sent when it has none (Snap's failed sub-request)."""
    inner = dig(item, path)
    return item if inner is None else inner


def binary_result(raw: http.RawResponse) -> dict[str, Any]:
    """File content as JSON can carry it: the vendor's Content-Type, the size in bytes, the bytes in base64."""
    return {
        "content_type": raw.headers.get("Content-Type") if raw.headers else None,
        "size": len(raw.content),
        "content_base64": base64.b64encode(raw.content).decode("ascii"),
    }


def _page_info(action: Action, exchange: _Exchange, raw: http.RawResponse, body: Any, records: Any) -> PageInfo:
    limit_default = (action.param_properties.get(action.pagination.limit_param) or {}).get("default")
    return page_info(
        action.pagination,
        body=body,
        headers=raw.headers,
        records=records,
        request_query=_request_values(action, exchange.call),
        default_limit=limit_default if isinstance(limit_default, int) else None,
        origin=exchange.call.origin,
        required_prefix=exchange.call.required_prefix,
        drop_query_names=set(exchange.auth.query),
        secrets=exchange.auth.secrets,
    )


def _request_values(action: Action, call: PreparedCall) -> dict[str, Any]:
    """What the request asked for: its query, plus its JSON body's top-level fields when the pagination reads
    offsets and page sizes from the body (`cursor_in: body`)."""
    if action.pagination.cursor_in != "body" or not call.body_values:
        return call.query
    return {**call.query, **call.body_values}

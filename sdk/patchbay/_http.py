"""The one place the SDK talks HTTP: configuration, timeouts, bounded retries and mapping error bodies to exceptions."""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from . import errors
from ._version import __version__

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 3
# Statuses worth retrying for a request that is safe to repeat: the gateway or the limiter, not the request, failed.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# A Retry-After longer than this is not waited for: the error reaches the caller, who can decide.
MAX_RETRY_AFTER = 30.0

UPSTREAM_CODES = frozenset(
    {
        "bad_request",
        "upstream_error",
        "invalid_response",
        "response_too_large",
        "connection_error",
        "timeout",
        "token_refresh_failed",
    }
)
CREDENTIAL_CODES = frozenset({"credentials_rejected", "needs_reauth"})
INPUT_CODES = frozenset({"invalid_params", "invalid_cursor", "invalid_config", "credentials_missing"})


@dataclass(frozen=True)
class ClientConfig:
    api_key: str | None
    base_url: str
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES


def resolve_config(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
) -> ClientConfig:
    """Explicit arguments win, then PATCHBAY_API_KEY / PATCHBAY_URL, then the local default URL."""
    key = api_key if api_key is not None else os.environ.get("PATCHBAY_API_KEY") or None
    url = (base_url or os.environ.get("PATCHBAY_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    if not url.startswith(("http://", "https://")):
        raise errors.ConfigurationError(
            f"Patchbay URL {url!r} must start with http:// or https:// (pass base_url= or set PATCHBAY_URL)."
        )
    return ClientConfig(
        api_key=key,
        base_url=url,
        timeout=DEFAULT_TIMEOUT if timeout is None else float(timeout),
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max(0, int(max_retries)),
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: 0.25–0.5s, 0.5–1s, 1–2s, … capped at BACKOFF_CAP."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))
    return delay * (0.5 + random.random() / 2)


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a `next` URL; the SDK re-requests its own base URL so proxies can't redirect it."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def decode_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"result": data}


def _field_errors(body: dict[str, Any]) -> list[errors.FieldError]:
    out = []
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            out.append(
                errors.FieldError(
                    field=str(item.get("field", "")),
                    message=str(item.get("message", "")),
                    error_code=str(item.get("error_code", "")),
                )
            )
    return out


def _execution_id(body: dict[str, Any]) -> str | None:
    meta = body.get("execution_metadata")
    if isinstance(meta, dict) and meta.get("execution_id"):
        return str(meta["execution_id"])
    return None


def is_execution_outcome(body: dict[str, Any]) -> bool:
    """A recorded execution's answer (deterministic), as opposed to a transient gateway failure."""
    return isinstance(body.get("execution_metadata"), dict)


def error_from_response(response: httpx.Response, *, what: str | None = None) -> errors.PatchbayError:
    """The exception for a non-2xx answer. Execution failures are classified by their error_code first."""
    status = response.status_code
    body = decode_body(response)
    server_message = str(body.get("message") or response.reason_phrase or f"HTTP {status}").strip()
    code = body.get("error_code")
    code = str(code) if code else None
    field_errors = _field_errors(body)
    execution_id = _execution_id(body)
    common: dict[str, Any] = {
        "status": status,
        "error_code": code,
        "errors": field_errors,
        "body": body,
        "execution_id": execution_id,
    }
    ref = f" (execution {execution_id})" if execution_id else ""
    upstream_status = body.get("upstream_status")
    upstream_status = int(upstream_status) if isinstance(upstream_status, int) else None

    if status == 429 or code == "rate_limited":
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is None and isinstance(body.get("retry_after"), int | float):
            retry_after = float(body["retry_after"])
        wait = f"Retry after {retry_after:g} seconds." if retry_after is not None else "Retry later, with backoff."
        return errors.RateLimitError(f"Rate limited: {server_message}{ref} {wait}", retry_after=retry_after, **common)
    if code in CREDENTIAL_CODES:
        return errors.CredentialsRejectedError(
            f"The service rejected this connector's credentials: {server_message}{ref} "
            "Update them (Workspace.update_connector or the dashboard), or re-authorise the OAuth connection.",
            upstream_status=upstream_status,
            **common,
        )
    if code in INPUT_CODES or status == 422:
        details = "; ".join(str(e) for e in field_errors)
        return errors.ConnectorValidationError(
            f"{server_message}{ref}"
            + (f" [{details}]" if details and details not in server_message else "")
            + " Fix the listed fields and send the request again.",
            **common,
        )
    if code == "not_found":
        return errors.NotFoundError(
            f"The service has no such record: {server_message}{ref} Check the ids you passed in params.", **common
        )
    if code in UPSTREAM_CODES or (code and status in (400, 502, 504)):
        transient = code in {"upstream_error", "timeout", "connection_error", "token_refresh_failed"}
        return errors.UpstreamError(
            f"The third-party API call failed ({code}): {server_message}{ref}"
            + (" It may succeed if retried later." if transient else ""),
            upstream_status=upstream_status,
            **common,
        )
    if status in (401, 403):
        return errors.AuthenticationError(
            f"{server_message} Check the API key: pass api_key= or set PATCHBAY_API_KEY to a key from the "
            "Patchbay dashboard (API keys).",
            **common,
        )
    if status == 404:
        subject = f"{what} not found" if what else "Not found"
        return errors.NotFoundError(
            f"{subject}: {server_message} It does not exist or this API key's workspace cannot see it.", **common
        )
    if status == 409:
        candidates = [
            errors.Candidate(id=str(c.get("id")), name=str(c.get("name")))
            for c in body.get("candidates") or []
            if isinstance(c, dict)
        ]
        return errors.ConnectorAmbiguityError(server_message, candidates=candidates, **common)
    if status >= 500:
        return errors.ServerError(
            f"Patchbay failed: {server_message}{ref} Try again; if it persists, check its logs.", **common
        )
    return errors.PatchbayError(server_message, **common)


class HttpClient:
    """An httpx.AsyncClient with Patchbay's auth, timeouts and retry policy. Created lazily, closed explicitly."""

    def __init__(self, config: ClientConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self.config.base_url + API_PREFIX,
                timeout=httpx.Timeout(self.config.timeout, connect=min(DEFAULT_CONNECT_TIMEOUT, self.config.timeout)),
                headers={"User-Agent": f"patchbay-python/{__version__}", "Accept": "application/json"},
                transport=self._transport,
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _auth_headers(self, auth: bool) -> dict[str, str]:
        if not auth:
            return {}
        if not self.config.api_key:
            raise errors.AuthenticationError(
                "No Patchbay API key: pass api_key= or set PATCHBAY_API_KEY (create a key in the dashboard)."
            )
        return {"Authorization": f"Bearer {self.config.api_key}"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send a request; returns the response whatever its status. Only GET/HEAD are retried."""
        headers = self._auth_headers(auth)
        idempotent = method.upper() in ("GET", "HEAD")
        attempts = self.config.max_retries + 1 if idempotent else 1
        query = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self.client.request(method, path, json=json, params=query, headers=headers, **extra)
            except httpx.TimeoutException as exc:
                if not last:
                    await asyncio.sleep(backoff_seconds(attempt))
                    continue
                hint = "" if idempotent else " The operation may still have run on the server."
                raise errors.PatchbayConnectionError(
                    f"Patchbay at {self.config.base_url} did not answer {method} {path} in time "
                    f"({type(exc).__name__}).{hint} Raise timeout= or try again."
                ) from exc
            except httpx.TransportError as exc:
                if not last:
                    await asyncio.sleep(backoff_seconds(attempt))
                    continue
                raise errors.PatchbayConnectionError(
                    f"Could not reach Patchbay at {self.config.base_url} ({type(exc).__name__}: {exc}). "
                    "Is the server running? Pass base_url= or set PATCHBAY_URL."
                ) from exc
            if last or response.status_code not in RETRY_STATUSES:
                return response
            if is_execution_outcome(decode_body(response)):
                return response  # a recorded outcome; asking again gives the same answer
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = backoff_seconds(attempt)
            if wait > MAX_RETRY_AFTER:
                return response
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        what: str | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Like request(), but raises the mapped PatchbayError for any non-2xx status."""
        response = await self.request(method, path, json=json, params=params, auth=auth, timeout=timeout)
        if response.status_code >= 400:
            raise error_from_response(response, what=what)
        return response

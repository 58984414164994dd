"""The one HTTP helper of the engine and the OAuth client: a pooled session, one attempt at a time with a timeout,
bounded reads, same-origin redirects only, `Retry-After` and rate-limit reset parsing, secret scrubbing.

Limits are passed in (`Limits`); nothing here reads settings.
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from core.errors import UpstreamError

USER_AGENT = "Patchbay/1.0 (+https://patchbay.dev)"
CHUNK_SIZE = 64 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one upstream operation. Callers build it (connectors.executions.services.upstream_limits reads the
    PATCHBAY_UPSTREAM_* settings); the defaults are those settings' defaults."""

    timeout: float = 20.0  # seconds per attempt (connect and each read)
    max_attempts: int = 4  # attempts in all, on network errors, 429 and 5xx
    max_retry_seconds: float = 30.0  # total time slept between attempts
    max_body_bytes: int = 10 * 1024 * 1024  # larger response bodies are refused


_session: requests.Session | None = None
_session_lock = threading.Lock()


class _NoAuth(requests.auth.AuthBase):
    """Stops requests from filling Authorization from ~/.netrc when trust_env is on (it is, for proxies)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


NO_AUTH = _NoAuth()


class _Session(requests.Session):
    """requests re-reads proxy and CA-bundle settings from the environment on every call (a walk over all of
    os.environ: ~7% of an execute's CPU). A process's environment does not change under it: read once per origin."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        if proxies or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (origin_of(url), stream, verify, cert)
        found = self._environment.get(key)
        if found is None:
            if len(self._environment) >= 1024:
                self._environment.clear()
            found = self._environment[key] = super().merge_environment_settings(url, {}, stream, verify, cert)
        return {**found, "proxies": dict(found["proxies"])}


def new_session(pool_size: int = 32) -> requests.Session:
    """One session for every host: urllib3 keeps a connection pool per host (the `pool_size` most recent hosts, each
    keeping up to `pool_size` connections): calls to one vendor reuse its connections without holding up another's."""
    session = _Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # One session serves every workspace: a cookie set for one connection must never ride along on another's calls.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = USER_AGENT
    return session


def shared_session() -> requests.Session:
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                _session = new_session()
    return _session


@dataclass
class RawResponse:
    status_code: int
    headers: Any  # requests' case-insensitive dict
    content: bytes
    url: str
    reason: str = ""

    def text(self) -> str:
        """The body as text: the charset the response names, else UTF-8 (undecodable bytes replaced)."""
        charset = requests.utils.get_encoding_from_headers(self.headers or {}) or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def send_once(
    session: requests.Session,
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    max_body_bytes: int,
    auth_query: dict[str, str] | None = None,
) -> RawResponse:
    """One attempt, following same-origin redirects of GETs.

    Raises requests exceptions, or UpstreamError "response_too_large"."""
    for _ in range(MAX_REDIRECTS + 1):
        response = session.request(
            method,
            url,
            headers=headers,
            data=body,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            auth=NO_AUTH,
        )
        try:
            location = response.headers.get("Location")
            if response.status_code in REDIRECT_STATUSES and location and method == "GET":
                target = urljoin(url, location)
                if origin_of(target) != origin_of(url):
                    # Following would hand our Authorization (or query credential) to a host the manifest never named.
                    return RawResponse(response.status_code, response.headers, b"", url, response.reason or "")
                present = {k for k, _ in parse_qsl(urlsplit(target).query, keep_blank_values=True)}
                missing = {k: v for k, v in (auth_query or {}).items() if k not in present}
                if missing:
                    target += ("&" if "?" in target else "?") + urlencode(missing)
                url = target
                continue
            content = _read_bounded(response, max_body_bytes)
            return RawResponse(response.status_code, response.headers, content, url, response.reason or "")
        finally:
            response.close()
    return RawResponse(response.status_code, response.headers, b"", url, response.reason or "")


def _read_bounded(response: requests.Response, max_body_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(max_body_bytes, response.status_code)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(CHUNK_SIZE):
            size += len(chunk)
            if size > max_body_bytes:
                raise _too_large(max_body_bytes, response.status_code)
            chunks.append(chunk)
    except requests.ConnectionError as exc:
        # requests reports a read timeout during the body as a ConnectionError; keep the two apart.
        if _caused_by(exc, ReadTimeoutError):
            raise requests.ReadTimeout() from None
        raise
    return b"".join(chunks)


def _caused_by(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        if isinstance(current, BaseException):
            stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None), *current.args])
    return False


def failed_before_sending(exc: BaseException) -> bool:
    """The request never reached the server, so retrying cannot duplicate a write."""
    return isinstance(exc, requests.ConnectTimeout) or _caused_by(exc, (NewConnectionError, ConnectTimeoutError))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_reset(value: str | None, fmt: str | None, *, now: float | None = None) -> float | None:
    """A rate-limit reset header as seconds from now."""
    if not value:
        return None
    now = time.time() if now is None else now
    value = value.strip()
    try:
        if fmt == "delta_seconds":
            return max(0.0, float(value))
        if fmt == "epoch_ms":
            return max(0.0, float(value) / 1000 - now)
        if fmt in ("http_date", "iso8601"):
            if fmt == "http_date":
                when = email.utils.parsedate_to_datetime(value)
            else:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return max(0.0, when.timestamp() - now)
        number = float(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    # epoch_seconds (default); a small number is really a delta, as some APIs send.
    return max(0.0, number - now) if number > 10**9 else max(0.0, number)


def secret_forms(values: Iterable[str | None]) -> list[str]:
    """The values and their URL-encoded forms (a vendor may echo what it was sent, encoded), longest first, so a
    secret that contains another is replaced whole."""
    plain = {value for value in values if value}
    encoded = {enc(value) for value in plain for enc in (lambda v: quote(v, safe=""), quote_plus)}
    return sorted(plain | encoded, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by [redacted]: for messages built from what a vendor answered."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactQueryFilter(logging.Filter):
    """urllib3 logs request lines with their query string; a query string may hold a credential."""

    _query = re.compile(r"\?[^\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._query.sub("?[redacted]", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = self._query.sub("?[redacted]", record.msg)
        return True


def install_log_redaction() -> None:
    target = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, RedactQueryFilter) for f in target.filters):
        target.addFilter(RedactQueryFilter())


def _too_large(limit: int, status: int) -> UpstreamError:
    return UpstreamError(
        "response_too_large", f"The upstream response is larger than the {limit}-byte limit.", status_code=status
    )

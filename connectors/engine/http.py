"""The one HTTP helper of the engine and the OAuth client: pooled connections (urllib3), one attempt at a time with a
timeout, bounded reads, same-origin redirects only, `Retry-After` and rate-limit reset parsing, secret scrubbing.

Limits are passed in (`Limits`); nothing here reads settings.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urljoin, urlsplit

import certifi
import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ReadTimeoutError

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


_session: HttpSession | None = None
_session_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class SentRequest:
    """What went out, as response hooks see it (`hook(response)` reads `response.request`)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


@dataclass(frozen=True, slots=True)
class HookResponse:
    status_code: int
    headers: Mapping[str, str]
    request: SentRequest


class HttpSession:
    """Pooled HTTP on urllib3 directly. requests' Session spent as much CPU preparing and wrapping a call (merging
    settings, cookie jars, protocol isinstance checks) as urllib3 spends sending it: over 40% of a token refresh.

    What the engine relied on from requests is kept: one connection pool per host (the `pool_size` most recent hosts,
    each up to `pool_size` connections, shared by every thread), proxies and CA bundle from the environment as
    requests reads them (HTTPS_PROXY / NO_PROXY, REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else certifi's bundle), read
    once per origin; no cookies and no ~/.netrc; gzip/deflate answers decoded; failures raised as requests'
    exception classes (send_once's callers classify those); `hooks["response"]` called for every answer."""

    def __init__(self, pool_size: int = 32) -> None:
        self.pool_size = pool_size
        self.headers: dict[str, str] = {
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip, deflate",
            "Accept": "*/*",
            "Connection": "keep-alive",
        }
        self.hooks: dict[str, list[Callable[..., Any]]] = {"response": []}
        self._ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        self._managers: dict[str | None, urllib3.PoolManager] = {}  # by proxy URL; None: direct
        self._routes: dict[str, str | None] = {}  # origin -> proxy URL
        self._lock = threading.Lock()

    def _manager(self, url: str) -> urllib3.PoolManager:
        origin = origin_of(url)
        try:
            proxy = self._routes[origin]
        except KeyError:
            proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
            if len(self._routes) >= 1024:
                self._routes.clear()
            self._routes[origin] = proxy
        manager = self._managers.get(proxy)
        if manager is None:
            with self._lock:
                manager = self._managers.get(proxy)
                if manager is None:
                    manager = self._managers[proxy] = self._new_manager(proxy)
        return manager

    def _new_manager(self, proxy: str | None) -> urllib3.PoolManager:
        options: dict[str, Any] = {"num_pools": self.pool_size, "maxsize": self.pool_size, "cert_reqs": "CERT_REQUIRED"}
        options["ca_cert_dir" if os.path.isdir(self._ca_certs) else "ca_certs"] = self._ca_certs
        if proxy is None:
            return urllib3.PoolManager(**options)
        if not proxy.lower().startswith(("http://", "https://")):
            raise requests.exceptions.InvalidSchema(f"unsupported proxy scheme in {origin_of(proxy)}")
        auth = urllib3.util.parse_url(proxy).auth
        proxy_headers = urllib3.make_headers(proxy_basic_auth=unquote(auth)) if auth else None
        return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers, **options)

    def open(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> urllib3.BaseHTTPResponse:
        """One request; the answer's body is left unread (`preload_content=False`)."""
        merged = dict(self.headers)
        lowered = {name.lower(): name for name in merged}
        for name, value in headers.items():
            merged.pop(lowered.get(name.lower(), name), None)
            if value is not None:  # None removes a default header, as with requests
                merged[name] = value
        if body is None and method not in ("GET", "HEAD", "OPTIONS") and "content-length" not in map(str.lower, merged):
            merged["Content-Length"] = "0"  # as requests sends it: some servers refuse a bodiless POST without it
        try:
            response = self._manager(url).urlopen(
                method,
                url,
                body=body,
                headers=merged,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=_NO_RETRIES,
                redirect=False,
                preload_content=False,
                decode_content=True,
            )
        except Exception as exc:  # noqa: BLE001 - mapped to requests' classes below, or re-raised as it was
            raise _as_requests_error(exc) from exc
        if self.hooks["response"]:
            sent = HookResponse(response.status, response.headers, SentRequest(method, url, merged, body))
            for hook in list(self.hooks["response"]):
                hook(sent)
        return response


# As requests' HTTPAdapter(max_retries=0): no retries (the engine retries with backoff), no following redirects.
_NO_RETRIES = urllib3.Retry(0, read=False, redirect=False)


def _as_requests_error(exc: BaseException) -> BaseException:
    """urllib3's failure as the requests exception HTTPAdapter raises for it (the callers classify those)."""
    reason = exc.reason if isinstance(exc, MaxRetryError) else exc
    if isinstance(reason, NewConnectionError):
        return requests.ConnectionError(str(type(reason).__name__))
    if isinstance(reason, ConnectTimeoutError):
        return requests.ConnectTimeout(str(type(reason).__name__))
    if isinstance(reason, ReadTimeoutError):
        return requests.ReadTimeout(str(type(reason).__name__))
    if isinstance(reason, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(str(type(reason).__name__))
    if isinstance(reason, urllib3.exceptions.ProxyError):
        return requests.exceptions.ProxyError(str(type(reason).__name__))
    if isinstance(reason, urllib3.exceptions.LocationParseError):
        return requests.exceptions.InvalidURL(str(type(reason).__name__))
    if isinstance(reason, requests.RequestException):
        return reason
    if isinstance(reason, urllib3.exceptions.HTTPError | OSError):
        return requests.ConnectionError(str(type(reason).__name__))
    if isinstance(reason, ValueError):  # a header value with a line break, a URL http.client will not send
        return requests.exceptions.InvalidHeader(str(type(reason).__name__))
    return exc


def new_session(pool_size: int = 32) -> HttpSession:
    """One session for every host: a connection pool per host (the `pool_size` most recent hosts, each keeping up
    to `pool_size` connections): calls to one vendor reuse its connections without holding up another's."""
    return HttpSession(pool_size)


def shared_session() -> HttpSession:
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                _session = new_session()
    return _session


@dataclass
class RawResponse:
    status_code: int
    headers: Any  # case-insensitive, repeated headers joined as requests joined them
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
    session: HttpSession,
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
        response = session.open(method, url, headers, body, timeout)
        answer_headers = CaseInsensitiveDict(response.headers)
        reason = response.reason or ""
        complete = False
        try:
            location = answer_headers.get("Location")
            if response.status in REDIRECT_STATUSES and location and method == "GET":
                target = urljoin(url, location)
                if origin_of(target) != origin_of(url):
                    # Following would hand our Authorization (or query credential) to a host the manifest never named.
                    return RawResponse(response.status, answer_headers, b"", url, reason)
                present = {k for k, _ in parse_qsl(urlsplit(target).query, keep_blank_values=True)}
                missing = {k: v for k, v in (auth_query or {}).items() if k not in present}
                if missing:
                    target += ("&" if "?" in target else "?") + urlencode(missing)
                url = target
                continue
            content = _read_bounded(response, answer_headers, max_body_bytes)
            complete = True
            return RawResponse(response.status, answer_headers, content, url, reason)
        finally:
            if complete:
                response.release_conn()  # read to the end: the connection goes back to the pool
            else:
                response.close()  # unread body (a redirect, an oversized answer): never reuse the connection
    return RawResponse(response.status, answer_headers, b"", url, reason)


def _read_bounded(response: urllib3.BaseHTTPResponse, headers: Mapping[str, str], max_body_bytes: int) -> bytes:
    declared = headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(max_body_bytes, response.status)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.stream(CHUNK_SIZE, decode_content=True):
            size += len(chunk)
            if size > max_body_bytes:
                raise _too_large(max_body_bytes, response.status)
            chunks.append(chunk)
    except ReadTimeoutError:
        raise requests.ReadTimeout("ReadTimeoutError") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        # As requests reports a body cut short or undecodable.
        raise requests.ConnectionError(type(exc).__name__) from exc
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

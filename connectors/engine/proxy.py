"""The authenticated proxy: one request the caller describes (method, path, query, headers, body) sent to the
connector's own base URL with its credentials applied, under the same retries, timeouts and body limit as an
operation. The vendor's answer comes back as it is (status, headers minus hop-by-hop and auth, body).

The path is relative to the base URL: an absolute URL, a scheme, `//host`, a backslash, a `.`/`..` segment (also
percent-encoded), a query or fragment in the path, or a header or query parameter that would replace the
connector's authentication is refused before anything is sent (OperationInputError, 422).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from connectors.catalog.manifest import Manifest
from core.errors import OperationInputError

from .auth import apply_credentials, header_safe, select_scheme
from .executor import DEFAULT_LIMITS, new_exchange
from .http import HttpSession, Limits
from .request import PreparedCall, base_url, config_headers, encode_pairs, with_idempotency_key

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
READ_METHODS = frozenset({"GET", "HEAD"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers a caller may not send: ours to set (authentication, framing, the host, cookies of other callers).
REFUSED_REQUEST_HEADERS = HOP_BY_HOP | {"authorization", "cookie", "host", "content-length", "x-api-key"}
# Headers never passed back: hop-by-hop, authentication challenges, cookies, and framing we re-do ourselves.
DROPPED_RESPONSE_HEADERS = HOP_BY_HOP | {
    "set-cookie",
    "www-authenticate",
    "authorization",
    "content-length",
    "content-encoding",  # the body arrives decoded (connectors.engine.http)
}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


@dataclass
class ProxyRequest:
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # a JSON value (sent as JSON), a string (sent as is), or None


@dataclass
class ProxyResponse:
    status_code: int
    headers: list[tuple[str, str]]
    content: bytes
    attempts: int
    duration_ms: int
    log_target: str

    @property
    def content_type(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "content-type"), None)


def _refuse(field_name: str, message: str, code: str = "invalid_value") -> OperationInputError:
    return OperationInputError(
        "invalid_params",
        f"Invalid proxy request: {message}",
        [{"field": field_name, "message": message, "error_code": code}],
    )


def check_path(path: Any) -> str:
    """The path, if it stays under the base URL; OperationInputError naming `path` if it could leave it."""
    if not isinstance(path, str) or not path.strip():
        raise _refuse("path", "path is required: a path relative to the connector's base URL, e.g. /v1/customers.")
    if any(ord(c) < 33 or ord(c) == 127 for c in path) or "\\" in path:
        raise _refuse("path", "path may not contain spaces, control characters or backslashes.")
    if _SCHEME.match(path) or path.startswith("//"):
        raise _refuse("path", "path must be relative to the connector's base URL, not an absolute URL.")
    if "?" in path or "#" in path:
        raise _refuse("path", "put query parameters in `query`, not in the path; fragments are not sent.")
    decoded = unquote(unquote(path))
    segments = decoded.split("/")
    if any(s in (".", "..") for s in segments) or "\\" in decoded or decoded.startswith("//"):
        raise _refuse("path", "path may not contain '.' or '..' segments (encoded or not).")
    return path if path.startswith("/") else "/" + path


def proxy_call(
    *,
    manifest: Manifest,
    credentials: dict[str, Any],
    config: dict[str, Any] | None,
    request: ProxyRequest,
    auth_scheme: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    allow_http_hosts: Collection[str] = (),
    session: HttpSession | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> ProxyResponse:
    """Send one proxied request. Raises OperationInputError before sending, UpstreamError when no answer came
    (timeout, connection error, too large); any HTTP answer is returned, after the usual retries."""
    method = (request.method or "").upper()
    if method not in METHODS:
        raise _refuse("method", f"method must be one of {', '.join(METHODS)}.")
    path = check_path(request.path)
    scheme = select_scheme(manifest, auth_scheme, credentials or {})
    auth = apply_credentials(
        scheme, credentials or {}, config, config_defaults=manifest.config_fallbacks(credentials or {}, config)
    )
    base = base_url(manifest, scheme.base_url or manifest.base_url, config or {}, credentials or {}, allow_http_hosts)
    headers = {"Accept": "application/json", **config_headers(manifest, config or {})}
    headers.update(_caller_headers(request.headers, set(auth.headers)))
    query = dict(request.query or {})
    for name in query:
        if name in auth.query:
            raise _refuse(
                f"query.{name}", f"query parameter {name!r} carries the connector's credentials.", "forbidden"
            )
    body, content_type = _body(request.body)
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    headers.update(auth.headers)
    idempotent = with_idempotency_key(manifest, headers, idempotent=method in IDEMPOTENT_METHODS)
    full_path = base.path.rstrip("/") + path
    pairs = encode_pairs(query, arrays=manifest.query_arrays) + list(auth.query.items())
    url = f"{base.scheme}://{base.netloc}{full_path}" + (f"?{urlencode(pairs)}" if pairs else "")
    call = PreparedCall(
        method=method,
        url=url,
        log_target=f"{base.netloc}{full_path}",
        headers=headers,
        body=body,
        query=query,
        idempotent=idempotent,
        origin=f"{base.scheme}://{base.netloc}".lower(),
        required_prefix=full_path,
    )
    exchange = new_exchange(manifest, call, auth, limits, session=session, sleep=sleep, passthrough=True)
    raw, _ = exchange.run(manifest)
    return ProxyResponse(
        status_code=raw.status_code,
        headers=[(k, v) for k, v in raw.headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS],
        content=raw.content,
        attempts=exchange.budget.attempts,
        duration_ms=exchange.log(None),
        log_target=call.log_target,
    )


def _caller_headers(headers: dict[str, Any] | None, auth_names: set[str]) -> dict[str, str]:
    refused = REFUSED_REQUEST_HEADERS | {n.lower() for n in auth_names}
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(str(name)):
            raise _refuse(f"headers.{str(name)[:100]}", "not a valid header name.")
        if name.lower() in refused:
            raise _refuse(
                f"headers.{name}", f"header {name!r} is set by Patchbay (authentication or framing).", "forbidden"
            )
        text = str(value)
        if not header_safe(text):
            raise _refuse(f"headers.{name}", "header values may not contain line breaks or control characters.")
        out[name] = text
    return out


def _body(body: Any) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"

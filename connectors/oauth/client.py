"""The provider-facing OAuth 2.0 client: authorization URLs, code exchange, refresh, revocation.

Pure functions over the engine's HTTP helper (``connectors.engine.http``: pooled session, timeout, bounded body,
secret scrubbing, ``Retry-After``); no database access. ``oauth`` is a scheme's typed ``OAuthSpec`` with any
``{config.x}`` placeholders already filled (``connectors.oauth.apps.oauth_endpoints``).

Errors are ``OAuthError``. ``permanent`` separates "this grant or client will never work again, ask the user to
re-authorise" (invalid_grant, invalid_client, unauthorized_client and other 4xx answers) from "try again later"
(5xx, 429, temporarily_unavailable, network errors, timeouts). No message ever contains a token, client secret,
authorization code or PKCE verifier.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import requests

from connectors.catalog.manifest import OAuthSpec
from connectors.engine import http
from connectors.engine.util import dig
from core.errors import PatchbayError, UpstreamError

DEFAULT_TIMEOUT = 10
USER_AGENT = "Patchbay-OAuth/1"
PERMANENT_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
# Codes some providers send with a 4xx (or GitHub with a 200) that still mean "try again later".
TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error", "slow_down", "rate_limited"})
MAX_DESCRIPTION_LENGTH = 300
# Token and revocation answers are a few hundred bytes; anything near this is not one.
MAX_RESPONSE_BYTES = 1024 * 1024


class OAuthError(PatchbayError):
    """A failed token or revocation request. ``error`` is the RFC 6749 code, or one of ours:
    ``timeout``, ``network_error``, ``invalid_response``, ``http_error``. The token lifecycle turns it into
    TokenUnavailable (needs_reauth when ``permanent``)."""

    code = "oauth_error"

    def __init__(
        self,
        error: str,
        description: str = "",
        status_code: int | None = None,
        permanent: bool = False,
        *,
        retry_after: float | None = None,
    ) -> None:
        self.error = error
        self.description = description
        self.status_code = status_code
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.error
        if self.description:
            text += f": {self.description}"
        if self.status_code is not None:
            text += f" (HTTP {self.status_code})"
        return text

    def __repr__(self) -> str:
        return (
            f"OAuthError(error={self.error!r}, description={self.description!r}, "
            f"status_code={self.status_code!r}, permanent={self.permanent!r})"
        )


@dataclass(frozen=True, repr=False)
class TokenResponse:
    access_token: str
    refresh_token: str | None = None
    expires_in: int | None = None
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 type name, not a credential
    scope: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expires_at(self, received_at: datetime | None = None) -> datetime | None:
        if self.expires_in is None:
            return None
        return (received_at or datetime.now(UTC)) + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:
        return (
            f"TokenResponse(access_token='***', refresh_token={'***' if self.refresh_token else None!r}, "
            f"expires_in={self.expires_in!r}, token_type={self.token_type!r}, scope={self.scope!r}, "
            f"extra_fields={sorted(self.extra)!r})"
        )

    __str__ = __repr__


# Connections ------------------------------------------------------------------------------------------------------

# Token hosts with a session of their own; beyond this many, the least recently added is dropped (its pool closes
# when the last request using it finishes).
MAX_TOKEN_SESSIONS = 256
_token_sessions: dict[str, http.HttpSession] = {}
_token_sessions_lock = threading.Lock()


def token_session(url: str) -> http.HttpSession:
    """A pooled session per token host (scheme://host:port), shared by every thread of the process.

    Keep-alive connections spare a TCP (and TLS) handshake per refresh, and one token host's burst of refreshes
    never waits for, or evicts, the pools of the upstream APIs in the shared session."""
    origin = http.origin_of(url)
    session = _token_sessions.get(origin)
    if session is not None:
        return session
    with _token_sessions_lock:
        session = _token_sessions.get(origin)
        if session is None:
            session = http.new_session(pool_size=16)
            # Response hooks (instrumentation, tests) set on the shared session see token requests as well.
            session.hooks = http.shared_session().hooks
            if len(_token_sessions) >= MAX_TOKEN_SESSIONS:
                _token_sessions.pop(next(iter(_token_sessions)))
            _token_sessions[origin] = session
    return session


# Authorization request ---------------------------------------------------------------------------------------------


def generate_pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set; RFC 7636 allows 43-128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def new_state() -> str:
    return secrets.token_urlsafe(32)


def build_authorization_url(
    oauth: OAuthSpec,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: list[str] | None,
    code_challenge: str | None,
) -> str:
    """The URL to send the user to. ``scopes=None`` means the manifest's scopes; ``[]`` sends no scope.

    PKCE is on unless the manifest says ``pkce: false`` (RFC 9700 recommends it for every client).
    """
    pkce = oauth.pkce
    if pkce and not code_challenge:
        raise ValueError("this provider uses PKCE: pass code_challenge (see generate_pkce_pair)")
    params: dict[str, str] = dict(oauth.authorize_params)
    requested = list(oauth.scopes) if scopes is None else scopes
    if isinstance(requested, str):
        requested = requested.replace(",", " ").split()
    if requested:
        params[oauth.scope_param or "scope"] = (oauth.scope_separator or " ").join(requested)
    # Set last so authorize_params in a manifest can never replace the parameters the flow depends on.
    params.update(response_type="code", client_id=client_id, redirect_uri=redirect_uri, state=state)
    if pkce:
        params.update(code_challenge=code_challenge, code_challenge_method="S256")

    parts = urlsplit(oauth.authorization_url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    # %20 rather than "+" for spaces: several providers read "+" in scope literally.
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


# Token endpoint ----------------------------------------------------------------------------------------------------


def exchange_code(
    oauth: OAuthSpec,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    session: http.HttpSession | None = None,
) -> TokenResponse:
    params = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        params["code_verifier"] = code_verifier
    data = _client_request(
        oauth,
        oauth.token_url,
        params,
        client_id=client_id,
        client_secret=client_secret,
        secrets_sent=(code, code_verifier),
        timeout=timeout,
        session=session,
    )
    return _token_response(oauth, data)


def refresh_access_token(
    oauth: OAuthSpec,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    timeout: float = DEFAULT_TIMEOUT,
    session: http.HttpSession | None = None,
) -> TokenResponse:
    """Refresh. The result's ``refresh_token`` is None when the provider sent none: keep the old one then."""
    data = _client_request(
        oauth,
        oauth.token_url,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        client_id=client_id,
        client_secret=client_secret,
        secrets_sent=(refresh_token,),
        timeout=timeout,
        session=session,
    )
    return _token_response(oauth, data)


def fetch_account(
    oauth: OAuthSpec,
    access_token: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    session: http.HttpSession | None = None,
) -> dict[str, str]:
    """What the token answer leaves out, from the provider's account call (`account_url`, `account_fields`):
    credential field -> value. {} when the scheme declares no such call. A value the answer lacks is a permanent
    invalid_response that names the field (the user granted no account of the kind the connector needs)."""
    if not oauth.account_url or not oauth.account_fields:
        return {}
    headers = {
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "Authorization": oauth.account_authorization.replace("{access_token}", access_token),
    }
    raw = _send("GET", oauth.account_url, headers, None, timeout=timeout, session=session)
    data = _parse_body(raw)
    if raw.status_code >= 400:
        raise _error_from_response(raw, data, http.secret_forms([access_token]))
    host = urlsplit(oauth.account_url).netloc
    values: dict[str, str] = {}
    for name, path in oauth.account_fields.items():
        value = dig(data, path) if data is not None else None
        if value is None or value == "" or isinstance(value, dict | list | bool):
            raise OAuthError("invalid_response", f"{host} did not give the account's {name} ({path})", 200, True)
        values[name] = str(value)
    return values


def revoke_token(
    oauth: OAuthSpec,
    *,
    client_id: str,
    client_secret: str,
    token: str,
    token_type_hint: str = "refresh_token",  # noqa: S107 - an RFC 7009 hint name, not a credential
    timeout: float = DEFAULT_TIMEOUT,
    session: http.HttpSession | None = None,
) -> bool:
    """RFC 7009 revocation. False, without a request, when the provider has no revoke_url; True once revoked."""
    revoke_url = oauth.revoke_url
    if not revoke_url:
        return False
    params = {"token": token}
    if token_type_hint:
        params["token_type_hint"] = token_type_hint
    _client_request(
        oauth,
        revoke_url,
        params,
        client_id=client_id,
        client_secret=client_secret,
        secrets_sent=(token,),
        timeout=timeout,
        session=session,
        expect_body=False,
    )
    return True


def _client_request(
    oauth: OAuthSpec,
    url: str,
    params: dict[str, str],
    *,
    client_id: str,
    client_secret: str,
    secrets_sent: tuple[str | None, ...],
    timeout: float,
    session: http.HttpSession | None,
    expect_body: bool = True,
) -> dict[str, Any]:
    headers, payload = _client_payload(oauth, params, client_id=client_id, client_secret=client_secret)
    host = urlsplit(url).netloc
    raw = _send("POST", url, headers, payload, timeout=timeout, session=session)
    data = _parse_body(raw)
    status = raw.status_code
    if status >= 400 or (data is not None and "error" in data and "access_token" not in data):
        raise _error_from_response(raw, data, http.secret_forms([client_secret, *secrets_sent]))
    if not expect_body:
        return data or {}
    if data is None:
        raise OAuthError("invalid_response", f"unreadable token response from {host}", status, False)
    return data


def _send(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    *,
    timeout: float,
    session: http.HttpSession | None,
) -> http.RawResponse:
    """One request to the provider's OAuth host; network failures become transient OAuthErrors."""
    host = urlsplit(url).netloc
    try:
        return http.send_once(
            session or token_session(url),
            method=method,
            url=url,
            headers=headers,
            body=body,
            timeout=timeout,
            max_body_bytes=MAX_RESPONSE_BYTES,
        )
    except UpstreamError as exc:  # the only one the helper raises: response_too_large
        raise OAuthError("invalid_response", f"oversized answer from {host}", exc.status_code, False) from None
    except requests.Timeout as exc:
        raise OAuthError("timeout", f"no answer from {host} within {timeout} s", None, False) from exc
    except requests.RequestException as exc:
        raise OAuthError("network_error", f"{type(exc).__name__} talking to {host}", None, False) from exc


def _client_payload(
    oauth: OAuthSpec, params: dict[str, str], *, client_id: str, client_secret: str
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a token or revocation request, with the client authenticated as the provider wants."""
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    body = dict(params)
    if not client_id:
        pass  # grants that authenticate otherwise (RFC 7523: the signed assertion is the credential)
    elif oauth.client_auth == "basic":
        # RFC 6749 2.3.1: form-urlencode id and secret before Base64, so ":" or non-ASCII survive.
        credentials = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    else:
        body.update(client_id=client_id, client_secret=client_secret)
    if oauth.token_body == "json":  # noqa: S105 - an encoding name, not a credential
        headers["Content-Type"] = "application/json"
        return headers, json.dumps(body).encode()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers, urlencode(body).encode()


def _parse_body(raw: http.RawResponse) -> dict[str, Any] | None:
    """JSON, or form-encoded (GitHub without Accept: JSON, some older providers); None when neither."""
    text = raw.text().strip()
    if not text:
        return None
    content_type = (raw.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json") or text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    if content_type in ("application/x-www-form-urlencoded", "text/plain") or ("=" in text and "<" not in text):
        pairs = parse_qsl(text, keep_blank_values=True)
        return dict(pairs) if pairs else None
    return None


def _error_from_response(raw: http.RawResponse, data: dict[str, Any] | None, secret_values: list[str]) -> OAuthError:
    status = raw.status_code
    error = str(data["error"]) if data and isinstance(data.get("error"), str) else None
    description = ""
    if data:
        raw_description = data.get("error_description") or data.get("message") or ""
        description = _scrubbed(str(raw_description), secret_values)
    if error is None:
        error = "http_error"
        description = description or raw.reason or ""

    if status >= 500 or status == 429 or error in TRANSIENT_ERRORS:
        permanent = False
    elif error in PERMANENT_ERRORS:
        permanent = True
    else:
        # Any other 4xx (invalid_request, invalid_scope, unsupported_grant_type, ...) repeats on retry.
        permanent = 400 <= status < 500 or status == 200
    retry_after = http.parse_retry_after(raw.headers.get("Retry-After"))
    return OAuthError(_scrubbed(error, secret_values), description, status, permanent, retry_after=retry_after)


def _scrubbed(text: str, secret_values: list[str]) -> str:
    """Providers sometimes echo what they were sent; never let that reach a message or a log."""
    return http.scrub(text, secret_values)[:MAX_DESCRIPTION_LENGTH]


def _token_response(oauth: OAuthSpec, data: dict[str, Any]) -> TokenResponse:
    for key in oauth.token_path.split(".") if oauth.token_path else ():  # nested answers ({"data": {...}})
        data = data.get(key) if isinstance(data.get(key), dict) else {}
    access_token = data.get("access_token")
    if not access_token or not isinstance(access_token, str):
        raise OAuthError("invalid_response", "token response without an access_token", 200, False)
    expires_in = _as_int(data.get("expires_in"))
    if expires_in is None:
        expires_in = _as_int(oauth.default_expires_in)
    if not oauth.token_expires or expires_in == 0:  # long-lived tokens (Mailchimp answers expires_in: 0)
        expires_in = None
    scope = data.get("scope")
    if isinstance(scope, list):
        scope = " ".join(str(s) for s in scope)
    return TokenResponse(
        access_token=access_token,
        refresh_token=data.get("refresh_token") or None,
        expires_in=expires_in,
        token_type=str(data.get("token_type") or "Bearer"),
        scope=scope if scope is None else str(scope),
        extra={name: data[name] for name in oauth.token_response_fields if name in data},
    )


def _as_int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None

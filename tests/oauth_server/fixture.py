"""A real OAuth 2.0 authorization server for tests: django-oauth-toolkit in a subprocess on 127.0.0.1.

README
======

What it is
    A tiny standalone Django project (``tests/oauth_server/authserver``) served by ``serve.py`` with a threaded
    ``wsgiref`` server, its own settings and its own SQLite file in a temp dir. It never imports Patchbay. Startup
    (migrate + seed + listen on a random free port) takes about a second.

    * authorization code grant, PKCE S256 (optional per client; ``plain`` is refused), refresh_token grant,
      client credentials grant (clients made with ``grant_type="client-credentials"``), RFC 7523 JWT-bearer grant
      (``add_service_account``: the signature is verified with the account's public key, the audience must be the
      token URL), RFC 7009 revocation (``/o/revoke_token/``), introspection (``/o/introspect/``), confidential clients
      authenticating with HTTP Basic or in the body (a client can be restricted to one of them).
    * refresh tokens rotate; replaying a rotated-away refresh token revokes the whole token family
      (DOT ``REFRESH_TOKEN_REUSE_PROTECTION = True``, ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS = 0``), so the newest
      refresh token then fails with ``invalid_grant`` too. Token and revocation requests are handled one at a time,
      so two overlapping refreshes with one token give one 200 and one invalid_grant that kills the family (the strict
      provider behaviour Patchbay's refresh lock must avoid). ``slow()`` delays before that lock, so requests overlap.
    * ``GET /api/me`` is a protected resource: 200 JSON with a valid Bearer token, 401 otherwise.
    * ``/resource/<any path>`` (any method) is a protected resource for catalog manifests: it finds a live access
      token in any header word or query value, answers ``resource_body`` (config) or 401, and logs where the token
      was (``token_in``: ``header:Authorization``, ``query:access_token``...) and the path.
    * consent needs a logged-in user: Django's login page, then DOT's approval form. ``consent()`` drives both with
      ``requests`` and returns the redirect to the client's redirect_uri without following it.
    * test switches over HTTP (``/test/...``): request log and counters, injected failures, delays, runtime config.

Using it in tests
    ``oauth_server`` (session scope) is shared by the whole run; a test that flips switches or config should use
    ``clean_oauth_server`` (same object, ``reset()`` before and after). ``oauth_server_factory(**options)`` starts a
    private server with different startup options and stops it after the test.

    def test_refresh(clean_oauth_server):
        server = clean_oauth_server
        oauth = server.oauth_config(client_auth="basic")          # a typed ``OAuthSpec``
        ...
        location = server.consent(authorize_url)                    # "http://testserver/oauth/callback?code=...&state=..."
        server.fail_next(1)                                         # next token request gets 503
        server.slow(200)                                            # token requests take 200 ms more
        assert server.token_requests("refresh_token") == 1

Outside pytest (benchmarks)
    with OAuthTestServer.start(access_token_lifetime=3600) as server:
        print(server.base_url, server.client_id, server.client_secret)
    or ``OAUTH_TEST_PORT=8765 .venv/bin/python tests/oauth_server/serve.py`` (prints ``OAUTH_TEST_SERVER_READY <url>``).

Environment variables read by serve.py (the keyword options of ``OAuthTestServer.start`` set them; defaults given)
    OAUTH_TEST_HOST                    127.0.0.1
    OAUTH_TEST_PORT                    0 (a free port, reported in the ready file and on stdout)
    OAUTH_TEST_DATA_DIR                a new temp dir (SQLite file)
    OAUTH_TEST_READY_FILE              where to write {"base_url", "pid", "client_id", ...} once serving
    OAUTH_TEST_PARENT_PID              exit when that process dies (the fixture sets it: no orphan servers)
    OAUTH_TEST_USERNAME / _PASSWORD    alice / alice-password
    OAUTH_TEST_CLIENT_ID / _SECRET     patchbay-test-client / random per start (serve.py alone: patchbay-test-secret)
    OAUTH_TEST_CLIENT_AUTH             any | basic | body (the seeded client refuses the other method)
    OAUTH_TEST_REDIRECT_URIS           space separated; the fixture seeds http://testserver/oauth/callback and
                                       http://127.0.0.1:8000/oauth/callback
    OAUTH_TEST_SKIP_AUTHORIZATION      0 (1: the seeded client skips the consent form, still needs a login)
    OAUTH_TEST_AUTO_APPROVE            0 (1: log the seeded user in and approve, no login or form at all)
    OAUTH_TEST_APPROVAL_PROMPT         force | auto (DOT REQUEST_APPROVAL_PROMPT)
    OAUTH_TEST_ACCESS_TOKEN_LIFETIME   600 s: above Patchbay's 300 s refresh margin, so fresh tokens are not
                                       refreshed at once; configure(access_token_lifetime=1) to force expiry
    OAUTH_TEST_REFRESH_TOKEN_LIFETIME  none
    OAUTH_TEST_ROTATE_REFRESH_TOKEN    1
    OAUTH_TEST_EXTRA_TOKEN_FIELDS      {} - JSON added to successful token responses; "{base_url}" in a value becomes
                                       the server's URL, e.g. {"instance_url": "{base_url}"} (Salesforce)
    OAUTH_TEST_DROP_TOKEN_FIELDS       e.g. "expires_in refresh_token"
    OAUTH_TEST_TOKEN_RESPONSE_FORMAT   json | form | auto (form unless Accept asks for JSON, like GitHub)
    OAUTH_TEST_PKCE_REQUIRED           0 (per client: create_client(pkce_required=True))
    OAUTH_TEST_SCOPES                  "read write profile offline_access"
    OAUTH_TEST_ACCEPT_JSON_BODY        1 (token/revoke requests may have JSON bodies: manifests with token_body json)
    OAUTH_TEST_NEST_TOKEN_RESPONSE     "" (e.g. "data": successful token answers become {"data": {...}})
    OAUTH_TEST_RESOURCE_BODY           {} - JSON answered by /resource/... to a valid token
    OAUTH_TEST_LOG_LEVEL / _ACCESS_LOG WARNING / off
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from connectors.catalog import OAuthSpec, build_oauth_spec

SERVE_PY = Path(__file__).resolve().parent / "serve.py"
STARTUP_TIMEOUT = 10.0
CONTROL_TIMEOUT = 10.0

DEFAULT_USERNAME = "alice"
DEFAULT_PASSWORD = "alice-password"
DEFAULT_CLIENT_ID = "patchbay-test-client"
# Patchbay's callback is PATCHBAY_PUBLIC_URL + /oauth/callback: the Django test client's host and the dev default.
DEFAULT_REDIRECT_URIS = ("http://testserver/oauth/callback", "http://127.0.0.1:8000/oauth/callback")


class OAuthServerError(RuntimeError):
    """The test server failed to start or a consent flow did not end at the client's redirect_uri."""


# Consent -------------------------------------------------------------------------------------------------------------


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = {"attrs": attributes, "inputs": []}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current["inputs"].append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _forms(html: str) -> list[dict[str, Any]]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def consent(
    session: requests.Session | None,
    authorize_url: str,
    *,
    username: str,
    password: str,
    allow: bool = True,
    timeout: float = 10,
) -> str:
    """Act as the user's browser: log in if asked, approve (or cancel) the consent form.

    Returns the absolute Location the server redirects to on the client's redirect_uri (``?code=...&state=...`` or
    ``?error=access_denied&state=...``) without requesting it. Raises OAuthServerError when the flow stops on a page
    instead (bad client_id or redirect_uri, wrong password).
    """
    session = session or requests.Session()
    server_origin = _origin(authorize_url)
    redirect_uri = parse_qs(urlsplit(authorize_url).query).get("redirect_uri", [None])[0]

    def leaves_server(location: str) -> bool:
        if redirect_uri and location.startswith(redirect_uri):
            return True
        return _origin(location) != server_origin

    method, url, data = "GET", authorize_url, None
    logged_in = False
    for _ in range(10):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=timeout)
        if response.is_redirect:
            location = urljoin(url, response.headers["Location"])
            if leaves_server(location):
                return location
            method, url, data = "GET", location, None
            continue
        if response.status_code != 200:
            raise OAuthServerError(f"consent stopped at HTTP {response.status_code} on {url}: {response.text[:300]}")
        forms = _forms(response.text)
        login_form = next((f for f in forms if any(i.get("name") == "password" for i in f["inputs"])), None)
        consent_form = next((f for f in forms if f["attrs"].get("id") == "authorizationForm"), None)
        if login_form is not None:
            if logged_in:
                raise OAuthServerError(f"login as {username!r} failed")
            data = {i["name"]: i.get("value", "") for i in login_form["inputs"] if i.get("name")}
            data.update(username=username, password=password)
            method, url, logged_in = "POST", urljoin(response.url, login_form["attrs"].get("action", "")), True
        elif consent_form is not None:
            data = {
                i["name"]: i.get("value", "")
                for i in consent_form["inputs"]
                if i.get("name") and i.get("type") != "submit"
            }
            if allow:
                data["allow"] = "Authorize"
            method, url = "POST", urljoin(response.url, consent_form["attrs"].get("action", ""))
        else:
            raise OAuthServerError(f"consent stopped on a page without a form at {url}: {response.text[:500]}")
    raise OAuthServerError("consent did not reach the client's redirect_uri within 10 steps")


# The server handle ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthClientCredentials:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    client_auth: str = "any"


_OPTION_ENV = {
    "host": "OAUTH_TEST_HOST",
    "port": "OAUTH_TEST_PORT",
    "username": "OAUTH_TEST_USERNAME",
    "password": "OAUTH_TEST_PASSWORD",
    "client_id": "OAUTH_TEST_CLIENT_ID",
    "client_secret": "OAUTH_TEST_CLIENT_SECRET",
    "client_auth": "OAUTH_TEST_CLIENT_AUTH",
    "redirect_uris": "OAUTH_TEST_REDIRECT_URIS",
    "skip_authorization": "OAUTH_TEST_SKIP_AUTHORIZATION",
    "access_token_lifetime": "OAUTH_TEST_ACCESS_TOKEN_LIFETIME",
    "refresh_token_lifetime": "OAUTH_TEST_REFRESH_TOKEN_LIFETIME",
    "rotate_refresh_token": "OAUTH_TEST_ROTATE_REFRESH_TOKEN",
    "extra_token_fields": "OAUTH_TEST_EXTRA_TOKEN_FIELDS",
    "drop_token_fields": "OAUTH_TEST_DROP_TOKEN_FIELDS",
    "token_response_format": "OAUTH_TEST_TOKEN_RESPONSE_FORMAT",
    "auto_approve": "OAUTH_TEST_AUTO_APPROVE",
    "approval_prompt": "OAUTH_TEST_APPROVAL_PROMPT",
    "pkce_required": "OAUTH_TEST_PKCE_REQUIRED",
    "scopes": "OAUTH_TEST_SCOPES",
    "accept_json_body": "OAUTH_TEST_ACCEPT_JSON_BODY",
    "nest_token_response": "OAUTH_TEST_NEST_TOKEN_RESPONSE",
    "resource_body": "OAUTH_TEST_RESOURCE_BODY",
    "log_level": "OAUTH_TEST_LOG_LEVEL",
}


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


class OAuthTestServer:
    """Handle on one running test authorization server. Create with ``OAuthTestServer.start(...)``."""

    def __init__(
        self,
        *,
        process: subprocess.Popen[bytes],
        data_dir: Path,
        base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        username: str,
        password: str,
        client_auth: str = "any",
    ) -> None:
        self._process = process
        self._data_dir = data_dir
        self.base_url = base_url
        self.authorization_url = f"{base_url}/o/authorize/"
        self.token_url = f"{base_url}/o/token/"
        self.revoke_url = f"{base_url}/o/revoke_token/"
        self.introspect_url = f"{base_url}/o/introspect/"
        self.me_url = f"{base_url}/api/me"
        self.resource_url = f"{base_url}/resource"
        self.login_url = f"{base_url}/accounts/login/"
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_auth = client_auth
        self.redirect_uris = list(redirect_uris)
        self.redirect_uri = self.redirect_uris[0]
        self.username = username
        self.password = password
        self.scopes = ["read", "write"]

    def __repr__(self) -> str:
        return f"OAuthTestServer({self.base_url}, pid={self._process.pid})"

    # Lifecycle -------------------------------------------------------------------------------------------------------

    @classmethod
    def start(cls, *, timeout: float = STARTUP_TIMEOUT, **options: Any) -> OAuthTestServer:
        """Start a server process; keyword options are the env settings listed in this module's docstring."""
        unknown = set(options) - set(_OPTION_ENV)
        if unknown:
            raise TypeError(f"unknown server options: {sorted(unknown)}")
        data_dir = Path(tempfile.mkdtemp(prefix="oauth-test-server-"))
        ready_file = data_dir / "ready.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAUTH_TEST_")}
        # The server must not pick up Patchbay's settings or import path.
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("PYTHONPATH", None)
        env.update(
            OAUTH_TEST_DATA_DIR=str(data_dir),
            OAUTH_TEST_READY_FILE=str(ready_file),
            OAUTH_TEST_PARENT_PID=str(os.getpid()),
            OAUTH_TEST_USERNAME=DEFAULT_USERNAME,
            OAUTH_TEST_PASSWORD=DEFAULT_PASSWORD,
            OAUTH_TEST_REDIRECT_URIS=" ".join(DEFAULT_REDIRECT_URIS),
            OAUTH_TEST_CLIENT_ID=DEFAULT_CLIENT_ID,
            # Random per server, so a test searching logs or reprs for the secret cannot match a constant by chance.
            OAUTH_TEST_CLIENT_SECRET=secrets.token_urlsafe(32),
        )
        env.update({_OPTION_ENV[name]: _env_value(value) for name, value in options.items() if value is not None})
        log_path = data_dir / "server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(SERVE_PY)], env=env, cwd=str(data_dir), stdout=log, stderr=subprocess.STDOUT
            )

        deadline = time.monotonic() + timeout
        while not ready_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.kill()
                    process.wait(5)
                output = log_path.read_text(errors="replace")[-3000:]
                shutil.rmtree(data_dir, ignore_errors=True)
                raise OAuthServerError(f"test OAuth server did not start (exit {process.returncode}):\n{output}")
            time.sleep(0.02)
        ready = json.loads(ready_file.read_text())
        server = cls(
            process=process,
            data_dir=data_dir,
            base_url=ready["base_url"],
            client_id=ready["client_id"],
            client_secret=env["OAUTH_TEST_CLIENT_SECRET"],
            redirect_uris=ready["redirect_uris"],
            username=env["OAUTH_TEST_USERNAME"],
            password=env["OAUTH_TEST_PASSWORD"],
            client_auth=env.get("OAUTH_TEST_CLIENT_AUTH", "any"),
        )
        if "scopes" in options:
            server.scopes = _env_value(options["scopes"]).split()
        server._get("/test/health")
        return server

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        shutil.rmtree(self._data_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    @property
    def log_text(self) -> str:
        """The server's stdout/stderr so far, for debugging a failing test."""
        path = self._data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> OAuthTestServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # HTTP to the control endpoints ------------------------------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> Any:
        response = requests.get(f"{self.base_url}{path}", params=params, timeout=CONTROL_TIMEOUT)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.base_url}{path}", json=body or {}, timeout=CONTROL_TIMEOUT)
        if response.status_code >= 400:
            raise OAuthServerError(f"POST {path} failed: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    # Counters ------------------------------------------------------------------------------------------------------

    def token_requests(self, grant_type: str | None = None) -> int:
        """Token endpoint requests since the last reset (injected failures included), optionally of one grant type."""
        data = self._get("/test/token-requests")
        return data["total"] if grant_type is None else data["by_grant_type"].get(grant_type, 0)

    def token_request_counts(self) -> dict[str, int]:
        return self._get("/test/token-requests")["by_grant_type"]

    def request_log(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """One dict per request to token/revoke/introspect/me/resource: endpoint, method, grant_type, client_id,
        client_auth (basic|body|none), body_format (form|json), status, injected_failure, at (epoch seconds);
        resource requests have path, token_in and the token's client_id instead of the grant fields."""
        params = {"endpoint": endpoint} if endpoint else {}
        return self._get("/test/requests", **params)["requests"]

    def revoke_requests(self) -> int:
        return len(self.request_log("revoke"))

    def reset_counters(self) -> None:
        self._post("/test/token-requests")

    # Switches and config ---------------------------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int = 503,
        *,
        endpoint: str = "token",
        retry_after: int | None = None,
        error: str | None = None,
        description: str | None = None,
        body: str | None = None,
    ) -> None:
        """The next n requests to endpoint (token|revoke|introspect|me) get this status with an RFC 6749 error body
        (error defaults to temporarily_unavailable), or with ``body`` as text/html. n=0 clears the switch.
        The requests are logged and counted but never reach DOT. status=200 with an error mimics GitHub."""
        self._post(
            "/test/fail",
            {
                "n": n,
                "status": status,
                "endpoint": endpoint,
                "retry_after": retry_after,
                "error": error,
                "description": description,
                "body": body,
            },
        )

    def slow(self, ms: int, *, endpoint: str = "token") -> None:
        """Hold every request to endpoint for ms milliseconds before handling it; 0 switches it off."""
        self._post("/test/slow", {"ms": ms, "endpoint": endpoint})

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change runtime config: access_token_lifetime, rotate_refresh_token, extra_token_fields, drop_token_fields,
        token_response_format, auto_approve, auto_approve_username, pkce_required, accept_json_body,
        nest_token_response, resource_body."""
        return self._post("/test/config", changes)

    def config(self) -> dict[str, Any]:
        return self._get("/test/config")

    def reset(self) -> None:
        """Counters, switches and runtime config back to their startup state (clients and tokens stay)."""
        self._post("/test/reset")

    # Clients, tokens -------------------------------------------------------------------------------------------------

    def create_client(
        self,
        redirect_uris: list[str] | tuple[str, ...] | str,
        *,
        client_auth: str = "any",
        pkce_required: bool | None = None,
        skip_authorization: bool = False,
        client_type: str = "confidential",
        grant_type: str = "authorization-code",
    ) -> OAuthClientCredentials:
        """Register another client. client_auth "basic" or "body" makes the server refuse the other method;
        grant_type "client-credentials" makes it a client that gets tokens for itself (RFC 6749 4.4)."""
        uris = [redirect_uris] if isinstance(redirect_uris, str) else list(redirect_uris)
        data = self._post(
            "/test/clients",
            {
                "redirect_uris": uris,
                "client_auth": client_auth,
                "pkce_required": pkce_required,
                "skip_authorization": skip_authorization,
                "client_type": client_type,
                "grant_type": grant_type,
            },
        )
        return OAuthClientCredentials(data["client_id"], data["client_secret"], tuple(uris), client_auth)

    def add_service_account(self, issuer: str, public_key_pem: str) -> None:
        """Accept RFC 7523 JWT-bearer assertions from ``issuer`` signed with the matching private key; the audience
        must be ``token_url``. Assertion claims and the header's kid appear in request_log("token")."""
        self._post("/test/service-accounts", {"issuer": issuer, "public_key": public_key_pem})

    def add_redirect_uri(self, redirect_uri: str) -> None:
        """Register one more redirect URI on the seeded client."""
        if redirect_uri in self.redirect_uris:
            return
        self.redirect_uris.append(redirect_uri)
        self._post(
            "/test/clients",
            {
                "redirect_uris": self.redirect_uris,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "client_auth": self.client_auth,
            },
        )

    def expire_access_tokens(self, client_id: str | None = None) -> int:
        """Every live access token expires now (refresh tokens keep working): the next API call gets 401."""
        return self._post("/test/expire-access-tokens", {"client_id": client_id} if client_id else {})["expired"]

    def revoke_all_tokens(self, client_id: str | None = None) -> int:
        """As if the user removed the app at the provider: every access and refresh token stops working."""
        return self._post("/test/revoke-all", {"client_id": client_id} if client_id else {})["revoked"]

    def me(self, access_token: str) -> requests.Response:
        """GET the protected resource with this Bearer token (200 JSON, or 401)."""
        return requests.get(self.me_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=CONTROL_TIMEOUT)

    def consent(
        self,
        authorize_url: str,
        *,
        allow: bool = True,
        username: str | None = None,
        password: str | None = None,
        session: requests.Session | None = None,
    ) -> str:
        """Log in as the seeded user (unless told otherwise) and approve or cancel; see module-level consent()."""
        return consent(
            session,
            authorize_url,
            username=username or self.username,
            password=password or self.password,
            allow=allow,
        )

    def oauth_config(self, **overrides: Any) -> OAuthSpec:
        """A scheme's typed ``oauth`` block (see manifest.schema.json $defs.oauth) pointing at this server."""
        config: dict[str, Any] = {
            "authorization_url": self.authorization_url,
            "token_url": self.token_url,
            "revoke_url": self.revoke_url,
            "scopes": list(self.scopes),
            "scope_separator": " ",
            "pkce": True,
            "client_auth": "basic",
            "token_body": "form",
            "rotates_refresh_token": True,
        }
        config.update(overrides)
        return build_oauth_spec(config)


# Pytest fixtures -----------------------------------------------------------------------------------------------------

_shared_lock = threading.Lock()
_shared: OAuthTestServer | None = None
_shared_users = 0


def _acquire_shared() -> OAuthTestServer:
    global _shared, _shared_users
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = OAuthTestServer.start()
        _shared_users += 1
        return _shared


def _release_shared() -> None:
    global _shared, _shared_users
    with _shared_lock:
        _shared_users -= 1
        if _shared_users <= 0 and _shared is not None:
            _shared.stop()
            _shared = None


@pytest.fixture(scope="session")
def oauth_server() -> Iterator[OAuthTestServer]:
    """One server for the whole session (one per xdist worker). Tests that change switches: use clean_oauth_server."""
    server = _acquire_shared()
    try:
        yield server
    finally:
        _release_shared()


@pytest.fixture
def clean_oauth_server(oauth_server: OAuthTestServer) -> Iterator[OAuthTestServer]:
    """The shared server with counters, switches and config reset before and after the test."""
    oauth_server.reset()
    yield oauth_server
    oauth_server.reset()


@pytest.fixture
def oauth_server_factory() -> Iterator[Callable[..., OAuthTestServer]]:
    """Start private servers with other startup options, e.g. factory(extra_token_fields={...}); stopped after."""
    started: list[OAuthTestServer] = []

    def factory(**options: Any) -> OAuthTestServer:
        server = OAuthTestServer.start(**options)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()

"""In-memory test controls of the authorization server: request log, failure and delay switches, runtime config.

The server is one process with one thread per request, so module state behind a lock is shared by every request.
Nothing here imports Django models: settings.py imports this module.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from typing import Any

CONFIG_KEYS = {
    "access_token_lifetime": int,
    "rotate_refresh_token": bool,
    "extra_token_fields": dict,
    "drop_token_fields": list,
    "token_response_format": str,
    "auto_approve": bool,
    "auto_approve_username": str,
    "pkce_required": bool,
    "accept_json_body": bool,
    "nest_token_response": str,
    "resource_body": dict,
}
TOKEN_RESPONSE_FORMATS = ("json", "form", "auto")
ENDPOINTS = ("token", "revoke", "introspect", "me", "resource")


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").replace(",", " ").split() if item.strip()]


def startup_config() -> dict[str, Any]:
    return {
        "access_token_lifetime": int(os.environ.get("OAUTH_TEST_ACCESS_TOKEN_LIFETIME") or 600),
        "rotate_refresh_token": _env_bool("OAUTH_TEST_ROTATE_REFRESH_TOKEN", True),
        "extra_token_fields": json.loads(os.environ.get("OAUTH_TEST_EXTRA_TOKEN_FIELDS") or "{}"),
        "drop_token_fields": _env_list("OAUTH_TEST_DROP_TOKEN_FIELDS"),
        "token_response_format": os.environ.get("OAUTH_TEST_TOKEN_RESPONSE_FORMAT") or "json",
        "auto_approve": _env_bool("OAUTH_TEST_AUTO_APPROVE", False),
        "auto_approve_username": os.environ.get("OAUTH_TEST_USERNAME") or "alice",
        "pkce_required": _env_bool("OAUTH_TEST_PKCE_REQUIRED", False),
        "accept_json_body": _env_bool("OAUTH_TEST_ACCEPT_JSON_BODY", True),
        # "data": successful token answers are wrapped as {"data": {...}} (a nested token style); "" for none.
        "nest_token_response": os.environ.get("OAUTH_TEST_NEST_TOKEN_RESPONSE") or "",
        # What /resource/<anything> answers with a valid token (a vendor's success shape: Slack's {"ok": true}).
        "resource_body": json.loads(os.environ.get("OAUTH_TEST_RESOURCE_BODY") or "{}"),
    }


class Control:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._defaults = startup_config()
        self._config = copy.deepcopy(self._defaults)
        self._log: list[dict[str, Any]] = []
        self._failures: dict[str, dict[str, Any]] = {}
        self._delays_ms: dict[str, int] = {}
        # Set by reset(): wakes requests still sleeping in an injected delay from an earlier test, which then give up
        # instead of consuming this test's failure switches or token state.
        self._reset_event = threading.Event()
        # client_id -> {"client_auth": "any" | "basic" | "body", "pkce_required": bool | None}
        self._clients: dict[str, dict[str, Any]] = {}
        # issuer -> PEM public key of a service account (RFC 7523 assertions)
        self._service_accounts: dict[str, str] = {}

    # Runtime config ---------------------------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        with self._lock:
            return copy.deepcopy(self._config[key])

    def config(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._config)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        for key, value in changes.items():
            expected = CONFIG_KEYS.get(key)
            if expected is None:
                raise ValueError(f"unknown config key {key!r}; known: {sorted(CONFIG_KEYS)}")
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ValueError(f"{key} must be {expected.__name__}")
            if key == "token_response_format" and value not in TOKEN_RESPONSE_FORMATS:
                raise ValueError(f"token_response_format must be one of {TOKEN_RESPONSE_FORMATS}")
        with self._lock:
            self._config.update(copy.deepcopy(changes))
            return copy.deepcopy(self._config)

    def reset(self) -> None:
        """Back to the startup state, except registered clients (they live in the database too)."""
        with self._lock:
            self._config = copy.deepcopy(self._defaults)
            self._log.clear()
            self._failures.clear()
            self._delays_ms.clear()
            self._reset_event.set()
            self._reset_event = threading.Event()

    # Clients ----------------------------------------------------------------------------------------------------

    def register_client(self, client_id: str, *, client_auth: str = "any", pkce_required: bool | None = None) -> None:
        if client_auth not in ("any", "basic", "body"):
            raise ValueError("client_auth must be any, basic or body")
        with self._lock:
            self._clients[client_id] = {"client_auth": client_auth, "pkce_required": pkce_required}

    def register_service_account(self, issuer: str, public_key: str) -> None:
        with self._lock:
            self._service_accounts[issuer] = public_key

    def service_account_key(self, issuer: str) -> str | None:
        with self._lock:
            return self._service_accounts.get(issuer)

    def client_auth(self, client_id: str) -> str:
        with self._lock:
            return self._clients.get(client_id, {}).get("client_auth", "any")

    def pkce_required(self, client_id: str) -> bool:
        with self._lock:
            required = self._clients.get(client_id, {}).get("pkce_required")
            return self._config["pkce_required"] if required is None else required

    # Request log ------------------------------------------------------------------------------------------------

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"at": time.time(), "status": None, "injected_failure": False, **entry}
        with self._lock:
            self._log.append(entry)
        return entry

    def finish(self, entry: dict[str, Any], status: int, **details: Any) -> None:
        with self._lock:
            entry.update(status=status, **details)

    def log(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._log if endpoint is None or e["endpoint"] == endpoint]

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # Switches ---------------------------------------------------------------------------------------------------

    def fail_next(self, endpoint: str, n: int, failure: dict[str, Any]) -> None:
        """failure: status, retry_after, error, description, body (a raw non-JSON body instead of an RFC 6749 one)."""
        with self._lock:
            if n <= 0:
                self._failures.pop(endpoint, None)
            else:
                self._failures[endpoint] = {"remaining": n, **failure}

    def take_failure(self, endpoint: str) -> dict[str, Any] | None:
        """Consume one injected failure; atomic, so N concurrent requests see exactly min(N, remaining) failures."""
        with self._lock:
            failure = self._failures.get(endpoint)
            if not failure:
                return None
            failure["remaining"] -= 1
            if failure["remaining"] <= 0:
                del self._failures[endpoint]
            return dict(failure)

    def set_delay(self, endpoint: str, ms: int) -> None:
        with self._lock:
            if ms <= 0:
                self._delays_ms.pop(endpoint, None)
            else:
                self._delays_ms[endpoint] = ms

    def delay(self, endpoint: str) -> bool:
        """Sleep for the endpoint's injected delay. False if reset() ran meanwhile: the request is a leftover of an
        earlier test (its client gave up long ago) and must not touch the state the next test set up."""
        with self._lock:
            ms = self._delays_ms.get(endpoint, 0)
            reset = self._reset_event
        return not (ms and reset.wait(ms / 1000))

    def switches(self) -> dict[str, Any]:
        with self._lock:
            return {"fail": copy.deepcopy(self._failures), "slow_ms": dict(self._delays_ms)}


control = Control()


def access_token_lifetime(request: Any = None) -> int:
    """oauthlib calls this per token response (EXTRA_SERVER_KWARGS token_expires_in), so changes apply at once."""
    return control.get("access_token_lifetime")


def pkce_required(client_id: str) -> bool:
    return control.pkce_required(client_id)

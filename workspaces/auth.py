"""Bearer authentication for the REST API: a workspace API key or an application credential's access token."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import re
import threading
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from ninja.security import HttpBearer

from core.errors import AuthenticationFailed, NotFound, PermissionDenied
from core.redis_clients import redis_client

from .models import ApiKey, ApplicationCredential, Workspace
from .services import (
    APPLICATION_TOKEN_PREFIX,
    Actor,
    api_key_authenticate,
    application_token_authenticate,
    touch_last_used,
)

# The name Airbyte's SDK sends when the caller names no workspace.
DEFAULT_WORKSPACE_NAME = "default"


def bearer_principal(request: HttpRequest) -> ApiKey | ApplicationCredential:
    """Who `Authorization: Bearer pb_…` (an API key) or `Bearer pbt_…` (a token from POST /api/v1/account/
    applications/token) is: the REST API and /mcp both ask here. Every failure raises AuthenticationFailed with a
    message saying what is wrong."""
    header = request.headers.get("Authorization", "")
    if not header:
        api_key_authenticate(None)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Malformed Authorization header: expected 'Authorization: Bearer <key>'.")
    return token_principal(token.strip())


def token_principal(token: str) -> ApiKey | ApplicationCredential:
    if token.startswith(APPLICATION_TOKEN_PREFIX):
        return application_token_authenticate(token)
    return key_cache.authenticate(token)


# --- A short-lived per-process cache of API-key lookups ----------------------------------------------------------
#
# Reading the key (and its workspace) was a third of what Patchbay added to an execute. A process keeps what it read
# for KEY_CACHE_SECONDS, but only while it is subscribed to KEY_CHANNEL on Redis: any change to a key or a workspace,
# in any process (a revocation, new limits, a rename, a deletion), is published there after commit and empties
# every process's cache, so a revoked key is refused at once (within the pub/sub delivery time, milliseconds)
# everywhere. Without Redis, or while the subscription is down, nothing is cached: every request reads the row.

KEY_CHANNEL = "patchbay:api-keys:changed"
KEY_CACHE_SECONDS = 30.0
KEY_CACHE_SIZE = 10_000

logger = logging.getLogger("patchbay.auth")


class KeyCache:
    """Key lookups by the key's digest. `generation` moves on every change broadcast; an entry read under an older
    generation is never used (so a change published while a lookup was in flight still wins)."""

    def __init__(self, redis_url: str | None = None, channel: str = KEY_CHANNEL, ttl: float = KEY_CACHE_SECONDS):
        self.redis_url = redis_url
        self.channel = channel
        self.ttl = ttl
        self.generation = 0
        self.subscribed = False
        self._entries: dict[bytes, tuple[float, int, ApiKey]] = {}
        self._lock = threading.Lock()
        self._listener_pid: int | None = None
        self._stop = threading.Event()

    # Lookups ------------------------------------------------------------------------------------------------------

    def authenticate(self, raw: str) -> ApiKey:
        url = self.redis_url if self.redis_url is not None else settings.REDIS_URL
        if not url:
            return api_key_authenticate(raw)
        self._ensure_listener(url)
        digest = hashlib.sha256(raw.encode()).digest()
        entry = self._entries.get(digest)
        if entry is not None and self.subscribed and entry[1] == self.generation and entry[0] > time.monotonic():
            key = entry[2]
            touch_last_used(key)  # on the shared object, so the per-minute write stays per minute
            return _copy_key(key)
        generation = self.generation
        key = api_key_authenticate(raw)  # raises for unknown or revoked keys: those are never cached
        if self.subscribed:
            with self._lock:
                if len(self._entries) >= KEY_CACHE_SIZE:
                    self._entries.clear()
                self._entries[digest] = (time.monotonic() + self.ttl, generation, key)
        return _copy_key(key)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    # Broadcast ----------------------------------------------------------------------------------------------------

    def publish(self) -> None:
        """Tell every process (this one at once) that keys or workspaces changed. Never raises."""
        self.invalidate()
        url = self.redis_url if self.redis_url is not None else settings.REDIS_URL
        if not url:
            return
        try:
            redis_client(url).publish(self.channel, b"1")
        except Exception as exc:  # noqa: BLE001 - a failed publish must not fail the revocation that committed
            # Subscribers that missed it are the ones cut off from Redis: they stop caching until they resubscribe.
            logger.warning("could not broadcast an API key change: %s", type(exc).__name__)

    def _ensure_listener(self, url: str) -> None:
        pid = os.getpid()
        if self._listener_pid == pid:
            return
        with self._lock:
            if self._listener_pid == pid:
                return
            # A forked child inherits the parent's entries but not its listener thread: start over.
            self._entries.clear()
            self.subscribed = False
            self._listener_pid = pid
            threading.Thread(target=self._listen, args=(url,), name="patchbay-key-cache", daemon=True).start()

    def _listen(self, url: str) -> None:
        import redis

        backoff = 0.5
        while not self._stop.is_set():
            pubsub = None
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=2)
                pubsub = client.pubsub(ignore_subscribe_messages=False)
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        pubsub.check_health()
                        continue
                    if message["type"] == "subscribe":
                        self.invalidate()  # whatever was missed while not subscribed
                        self.subscribed = True
                        backoff = 0.5
                    elif message["type"] == "message":
                        self.invalidate()
            except Exception as exc:  # noqa: BLE001 - keep listening whatever Redis does; cache nothing meanwhile
                logger.debug("API key cache listener: %s", type(exc).__name__)
            self.subscribed = False
            self.invalidate()
            if pubsub is not None:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def close(self) -> None:
        self._stop.set()


def _copy_key(key: ApiKey) -> ApiKey:
    """Each request gets its own key and workspace objects: nothing a request sets on them leaks to another."""
    mine = copy.copy(key)
    mine._state = copy.copy(key._state)
    mine._state.fields_cache = {"workspace": copy.copy(key.workspace)}
    return mine


key_cache = KeyCache()


def broadcast_key_change(**kwargs: Any) -> None:
    """Signal receiver (ApiKey and Workspace saves and deletes): after commit, every process forgets its lookups."""
    key_cache.invalidate()  # this process at once, even before the commit
    transaction.on_commit(key_cache.publish)


class ApiKeyAuth(HttpBearer):
    """The REST API's authentication: `bearer_principal`, then the key's surface and read-only limits."""

    def __call__(self, request: HttpRequest) -> ApiKey | ApplicationCredential:
        return self._admit(request, bearer_principal(request))

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | ApplicationCredential:
        return self._admit(request, token_principal(token))

    def _admit(self, request: HttpRequest, principal: ApiKey | ApplicationCredential) -> ApiKey | ApplicationCredential:
        check_request_limits(principal, request)
        request.workspace = principal.workspace  # type: ignore[attr-defined]
        return principal


# Calls that run an operation: a read-only key may make them; the operation itself is checked where it runs.
OPERATION_PATH = re.compile(r"^/api/v1/integrations/connectors/[^/]+/(execute|proxy|check)/?$")
TOOLS_PATH = re.compile(r"^/api/v1/integrations/tools/?$")


def check_request_limits(principal: ApiKey | ApplicationCredential, request: HttpRequest) -> None:
    """A limited key's surface and read-only limits, for one REST request (connectors/limits.py has the rest)."""
    from connectors.limits import Surface, check_surface, limits_of

    check_surface(principal, Surface.TOOLS if TOOLS_PATH.match(request.path) else Surface.API)
    if (
        limits_of(principal).read_only
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and not OPERATION_PATH.match(request.path)
    ):
        raise PermissionDenied("This API key is read-only: it may not create, change or delete anything.")


def actor_for(request: HttpRequest) -> Actor:
    """Who is acting on an authenticated API request, for the audit log and execution records."""
    principal = getattr(request, "auth", None)
    ip = request.META.get("REMOTE_ADDR")
    if isinstance(principal, ApplicationCredential):
        return Actor(application=principal, ip=ip)
    return Actor(api_key=principal, ip=ip)


def require_api_key(request: HttpRequest) -> ApiKey:
    """Managing credentials takes an API key without limits: a short-lived token must not mint credentials that
    outlive it, and a limited key must not mint ones without its limits."""
    principal = getattr(request, "auth", None)
    if not isinstance(principal, ApiKey):
        raise PermissionDenied("Manage credentials with an API key, not an application access token.")
    if principal.is_limited:
        raise PermissionDenied("This API key has limits; manage credentials with a key that has none.")
    return principal


def check_workspace_name(workspace: Workspace, workspace_name: str | None) -> None:
    """`workspace_name` (Airbyte's parameter) must name the caller's own workspace: "default", its name or its slug
    (case-insensitively). Any other name is 404, never silently ignored: a key reaches one workspace only."""
    if workspace_name is None:
        return
    wanted = workspace_name.strip().casefold()
    if wanted in (DEFAULT_WORKSPACE_NAME, workspace.name.casefold(), workspace.slug.casefold()):
        return
    raise NotFound(
        f"No workspace named {workspace_name[:100]!r} is reachable with these credentials: they belong to "
        f"{workspace.name!r} (use workspace_name={DEFAULT_WORKSPACE_NAME!r} or omit it)."
    )

"""Bearer authentication for the REST API: a workspace API key or an application credential's access token."""

from __future__ import annotations

import re

from django.http import HttpRequest
from ninja.security import HttpBearer

from core.errors import AuthenticationFailed, NotFound, PermissionDenied

from .models import ApiKey, ApplicationCredential, Workspace
from .services import (
    APPLICATION_TOKEN_PREFIX,
    Actor,
    api_key_authenticate,
    application_token_authenticate,
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
    return api_key_authenticate(token)


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

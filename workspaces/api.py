"""REST handlers for application credentials and their token exchange (the OAuth client-credentials shape that
Airbyte's SDK speaks). Thin: parse, call a service, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, Field

from core.errors import NotFound

from .access import scoped
from .auth import ApiKeyAuth, actor_for, require_api_key
from .models import ApiKey, ApplicationCredential
from .services import (
    api_key_create,
    application_credential_create,
    application_credential_get,
    application_credential_revoke,
    application_token_issue,
)

account_router = Router(tags=["account"])
applications_router = Router(auth=ApiKeyAuth(), tags=["application credentials"])
api_keys_router = Router(auth=ApiKeyAuth(), tags=["api keys"])


class ErrorItemOut(Schema):
    field: str
    message: str
    error_code: str
    userPresentableMessage: str | None = None  # noqa: N815 - the name Airbyte's SDK reads


class ApiErrorOut(Schema):
    message: str
    errors: list[ErrorItemOut] = []


class TokenIn(Schema):
    client_id: str = Field(..., max_length=200)
    client_secret: str = Field(..., max_length=500)


class TokenOut(Schema):
    access_token: str
    expires_in: int = Field(..., description="Seconds until the token stops working.")
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret


class ApplicationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=200, description="What the credentials are for, e.g. 'support agent'.")
    connectors: list[str] = Field(default_factory=list, max_length=50, description="Ids or types; empty: all.")
    read_only: bool = False
    agent_only: bool = False


class ApplicationOut(Schema):
    client_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    limits: dict[str, Any] = Field(default_factory=dict, description="connectors, read_only, agent_only.")


class ApplicationCreatedOut(ApplicationOut):
    client_secret: str = Field(..., description="Shown once: Patchbay stores only its hash.")


def limits_out(holder: ApiKey | ApplicationCredential) -> dict[str, Any]:
    return {
        "connectors": list(holder.connector_limits),
        "read_only": holder.read_only,
        "agent_only": holder.agent_only,
    }


def application_out(credential: ApplicationCredential) -> dict[str, Any]:
    return {
        "client_id": credential.client_id,
        "name": credential.name,
        "created_at": credential.created_at,
        "last_used_at": credential.last_used_at,
        "revoked_at": credential.revoked_at,
        "limits": limits_out(credential),
    }


@account_router.post(
    "/applications/token",
    response={200: TokenOut, 401: ApiErrorOut, 422: ApiErrorOut},
    summary="Exchange application credentials for an access token",
)
def application_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    """Public. `{client_id, client_secret}` → a bearer token accepted wherever an API key is, for `expires_in`
    seconds, and never after its credentials are revoked."""
    token = application_token_issue(client_id=payload.client_id, client_secret=payload.client_secret)
    return {"access_token": token.access_token, "expires_in": token.expires_in, "token_type": token.token_type}


@applications_router.post(
    "", response={201: ApplicationCreatedOut, 401: ApiErrorOut, 403: ApiErrorOut, 422: ApiErrorOut}
)
def create_application(request: HttpRequest, payload: ApplicationIn) -> Status:
    """Create a client id and secret for this workspace. The secret is in this answer only."""
    require_api_key(request)
    credential, secret = application_credential_create(
        workspace=request.workspace,  # type: ignore[attr-defined]
        name=payload.name,
        actor=actor_for(request),
        connectors=payload.connectors,
        read_only=payload.read_only,
        agent_only=payload.agent_only,
    )
    return Status(201, {**application_out(credential), "client_secret": secret})


@applications_router.get("", response={200: list[ApplicationOut], 401: ApiErrorOut, 403: ApiErrorOut})
def list_applications(request: HttpRequest) -> list[dict[str, Any]]:
    """This workspace's application credentials, newest first, revoked ones included (secrets never)."""
    require_api_key(request)
    credentials = scoped(ApplicationCredential.objects.all(), request.workspace)  # type: ignore[attr-defined]
    return [application_out(c) for c in credentials.order_by("-created_at", "-id")[:1000]]


@applications_router.delete("/{client_id}", response={204: None, 401: ApiErrorOut, 403: ApiErrorOut, 404: ApiErrorOut})
def revoke_application(request: HttpRequest, client_id: str) -> HttpResponse:
    """Revoke: the tokens already issued for it stop working on their next request."""
    require_api_key(request)
    credential = application_credential_get(workspace=request.workspace, client_id=client_id)  # type: ignore[attr-defined]
    application_credential_revoke(credential=credential, actor=actor_for(request))
    return HttpResponse(status=204)


# --- API keys and their limits ------------------------------------------------------------------------------------


class KeyLimitsOut(Schema):
    connectors: list[str] = Field(..., description="Connector ids or types the key may use; empty: all.")
    read_only: bool = Field(..., description="Only read operations and GET/HEAD proxy calls.")
    agent_only: bool = Field(..., description="Only /mcp and GET /api/v1/integrations/tools.")


class ApiKeyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=200, description="What the key is for, e.g. 'support agent'.")
    connectors: list[str] = Field(default_factory=list, max_length=50, description="Ids or types; empty: all.")
    read_only: bool = False
    agent_only: bool = False


class ApiKeyOut(Schema):
    prefix: str = Field(..., description="The visible part: keys look like pb_<prefix>_<secret>.")
    name: str
    limits: KeyLimitsOut
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(..., description="Shown once: Patchbay stores only its hash.")


def api_key_out(key: ApiKey) -> dict[str, Any]:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "limits": limits_out(key),
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@api_keys_router.get("/current", response={200: ApiKeyOut, 401: ApiErrorOut, 403: ApiErrorOut})
def current_api_key(request: HttpRequest) -> dict[str, Any]:
    """The key this request authenticated with, and its limits."""
    principal = getattr(request, "auth", None)
    if not isinstance(principal, ApiKey):
        raise NotFound("This request authenticated with an application token, not an API key.")
    return api_key_out(principal)


@api_keys_router.post("", response={201: ApiKeyCreatedOut, 401: ApiErrorOut, 403: ApiErrorOut, 422: ApiErrorOut})
def create_api_key(request: HttpRequest, payload: ApiKeyIn) -> Status:
    """Create a key for this workspace, limited as asked (least privilege for an agent). Takes a key without
    limits. The key is in this answer only."""
    creator = require_api_key(request)
    key, raw = api_key_create(
        workspace=request.workspace,  # type: ignore[attr-defined]
        name=payload.name,
        created_by=creator.created_by,
        actor=actor_for(request),
        connectors=payload.connectors,
        read_only=payload.read_only,
        agent_only=payload.agent_only,
    )
    return Status(201, {**api_key_out(key), "key": raw})


@api_keys_router.get("", response={200: list[ApiKeyOut], 401: ApiErrorOut, 403: ApiErrorOut})
def list_api_keys(request: HttpRequest) -> list[dict[str, Any]]:
    """This workspace's API keys with their limits, newest first (secrets never)."""
    require_api_key(request)
    keys = scoped(ApiKey.objects.all(), request.workspace)  # type: ignore[attr-defined]
    return [api_key_out(k) for k in keys.order_by("-created_at", "-id")[:1000]]

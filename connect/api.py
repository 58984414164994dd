"""REST handlers for connect sessions and the workspace's redirect origins. Thin: parse, call a service, shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, Field

from connectors.schemas import ErrorOut
from workspaces.access import get_scoped
from workspaces.auth import ApiKeyAuth, actor_for, require_api_key

from .models import ConnectSession
from .services import (
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
    allowed_origins,
    connect_session_create,
    connect_url,
    workspace_set_redirect_origins,
)

router = Router(auth=ApiKeyAuth(), tags=["connect sessions"])
workspace_router = Router(auth=ApiKeyAuth(), tags=["workspace"])

ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class EndUserIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, max_length=200, description="Your id for the end user, e.g. 'u_123'.")
    email: str = Field("", max_length=254)
    display_name: str = Field("", max_length=200)


class ConnectSessionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    end_user: EndUserIn
    allowed_connector_types: list[str] = Field(
        default_factory=list, max_length=100, description="Type slugs the end user may pick; empty: every type."
    )
    redirect_url: str = Field(
        "", max_length=2000, description="Where the browser goes after: ?connector_id=... or ?error=..."
    )
    expires_in: int | None = Field(
        None, ge=MIN_TTL_SECONDS, le=MAX_TTL_SECONDS, description="Seconds; 1800 (30 minutes) when omitted."
    )
    connector_id: UUID | None = Field(None, description="Re-connect this connector (new credentials, same id).")


class ConnectSessionOut(Schema):
    id: str
    status: str = Field(..., description="pending, completed or expired.")
    end_user: dict[str, str]
    allowed_connector_types: list[str]
    redirect_url: str
    connector_id: str | None = Field(None, description="The connector it created or re-connected, once completed.")
    reconnect_connector_id: str | None = None
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None = None


class ConnectSessionCreatedOut(ConnectSessionOut):
    token: str = Field(..., description="pbcs_…: the end user's one-time credential. Shown once.")
    connect_url: str = Field(..., description="Open it for the end user: a page, a popup or an iframe.")


def session_out(session: ConnectSession) -> dict[str, Any]:
    return {
        "id": str(session.pk),
        "status": session.status,
        "end_user": {
            "id": session.end_user_id,
            "email": session.end_user_email,
            "display_name": session.end_user_display_name,
        },
        "allowed_connector_types": session.allowed_connector_types,
        "redirect_url": session.redirect_url,
        "connector_id": str(session.result_connector_id) if session.result_connector_id else None,
        "reconnect_connector_id": str(session.connector_id) if session.connector_id else None,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "completed_at": session.completed_at,
    }


@router.post("", response={201: ConnectSessionCreatedOut, **ERRORS}, summary="Create a connect session")
def create_connect_session(request: HttpRequest, payload: ConnectSessionIn) -> Status:
    session, token = connect_session_create(
        workspace=request.workspace,  # type: ignore[attr-defined]
        end_user_id=payload.end_user.id,
        end_user_email=payload.end_user.email,
        end_user_display_name=payload.end_user.display_name,
        allowed_connector_types=payload.allowed_connector_types,
        redirect_url=payload.redirect_url,
        expires_in=payload.expires_in,
        connector_id=str(payload.connector_id) if payload.connector_id else None,
        principal=request.auth,
        actor=actor_for(request),
    )
    return Status(201, {**session_out(session), "token": token, "connect_url": connect_url(token)})


@router.get("/{session_id}", response={200: ConnectSessionOut, **ERRORS}, summary="Get a connect session")
def get_connect_session(request: HttpRequest, session_id: str) -> dict[str, Any]:
    session = get_scoped(ConnectSession.objects.all(), request.workspace, what="Connect session", pk=session_id)  # type: ignore[attr-defined]
    return session_out(session)


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    allowed_redirect_origins: list[str]
    effective_redirect_origins: list[str] = Field(
        ..., description="What applies now: the list, or PATCHBAY_PUBLIC_URL's origin while it is empty."
    )


class WorkspacePatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    allowed_redirect_origins: list[str] | None = Field(None, max_length=50, examples=[["https://app.example.com"]])


def workspace_out(workspace: Any) -> dict[str, Any]:
    return {
        "id": workspace.pk,
        "name": workspace.name,
        "slug": workspace.slug,
        "allowed_redirect_origins": list(workspace.allowed_redirect_origins or []),
        "effective_redirect_origins": allowed_origins(workspace),
    }


@workspace_router.get("", response={200: WorkspaceOut, **ERRORS}, summary="The key's workspace")
def get_workspace(request: HttpRequest) -> dict[str, Any]:
    return workspace_out(request.workspace)  # type: ignore[attr-defined]


@workspace_router.patch("", response={200: WorkspaceOut, **ERRORS}, summary="Update the workspace's settings")
def patch_workspace(request: HttpRequest, payload: WorkspacePatchIn) -> dict[str, Any]:
    require_api_key(request)  # where end users may be sent: a setting for an unlimited key only
    workspace = request.workspace  # type: ignore[attr-defined]
    if payload.allowed_redirect_origins is not None:
        workspace = workspace_set_redirect_origins(
            workspace=workspace, origins=payload.allowed_redirect_origins, actor=actor_for(request)
        )
    return workspace_out(workspace)

"""REST handlers for webhook endpoints and their delivery log. Thin: parse, call a selector or service, shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, Field

from connectors.schemas import ErrorOut
from workspaces.auth import ApiKeyAuth, actor_for, require_api_key

from . import selectors, services
from .models import EVENT_TYPES, WebhookAttempt, WebhookEndpoint, WebhookMessage

router = Router(auth=ApiKeyAuth(), tags=["webhooks"])


class EndpointIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=2000, examples=["https://app.example.com/hooks/patchbay"])
    events: list[str] = Field(default_factory=list, description=f"Of {', '.join(EVENT_TYPES)}; empty: all but opt-in.")
    description: str = Field("", max_length=200)


class EndpointPatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = None
    enabled: bool | None = None
    description: str | None = Field(None, max_length=200)


class EndpointOut(Schema):
    id: str
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    created_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(..., description="whsec_…: verify signatures with it. Shown once.")


class AttemptOut(Schema):
    attempted_at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class MessageOut(Schema):
    id: str
    webhook_id: str = Field(..., description="The webhook-id header receivers de-duplicate on.")
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }


def attempt_out(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempted_at": attempt.attempted_at,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def message_out(message: WebhookMessage) -> dict[str, Any]:
    return {
        "id": str(message.pk),
        "webhook_id": message.msg_id,
        "event_type": message.event_type,
        "status": message.status,
        "attempts": message.attempts,
        "last_status_code": message.last_status_code,
        "next_attempt_at": message.next_attempt_at,
        "delivered_at": message.delivered_at,
        "created_at": message.created_at,
        "payload": message.payload,
        "attempt_log": [
            {
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in message.attempt_log.all()
        ],
    }


def _endpoint(request: HttpRequest, endpoint_id: str) -> WebhookEndpoint:
    require_api_key(request)
    return selectors.endpoint_get(workspace=request.workspace, endpoint_id=endpoint_id)  # type: ignore[attr-defined]


@router.post("", response={201: EndpointCreatedOut, **ERRORS}, summary="Create a webhook endpoint")
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status:
    """Events are signed in the Standard Webhooks format with the secret in this answer (shown once)."""
    require_api_key(request)
    endpoint, secret = services.webhook_endpoint_create(
        workspace=request.workspace,  # type: ignore[attr-defined]
        url=payload.url,
        events=payload.events,
        description=payload.description,
        actor=actor_for(request),
    )
    return Status(201, {**endpoint_out(endpoint), "secret": secret})


@router.get("", response={200: list[EndpointOut], **ERRORS}, summary="List webhook endpoints")
def list_endpoints(request: HttpRequest) -> list[dict[str, Any]]:
    require_api_key(request)
    return [endpoint_out(e) for e in selectors.endpoint_list(workspace=request.workspace)]  # type: ignore[attr-defined]


@router.get("/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Get a webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: str) -> dict[str, Any]:
    return endpoint_out(_endpoint(request, endpoint_id))


@router.patch("/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Update a webhook endpoint")
def update_endpoint(request: HttpRequest, endpoint_id: str, payload: EndpointPatchIn) -> dict[str, Any]:
    endpoint = services.webhook_endpoint_update(
        endpoint=_endpoint(request, endpoint_id),
        actor=actor_for(request),
        url=payload.url,
        events=payload.events,
        enabled=payload.enabled,
        description=payload.description,
    )
    return endpoint_out(endpoint)


@router.delete("/{endpoint_id}", response={204: None, **ERRORS}, summary="Delete a webhook endpoint")
def delete_endpoint(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    services.webhook_endpoint_delete(endpoint=_endpoint(request, endpoint_id), actor=actor_for(request))
    return HttpResponse(status=204)


@router.get("/{endpoint_id}/deliveries", response={200: list[MessageOut], **ERRORS}, summary="Delivery log")
def list_deliveries(request: HttpRequest, endpoint_id: str) -> list[dict[str, Any]]:
    """The newest 50 messages with every attempt's status code or error."""
    return [message_out(m) for m in selectors.message_list(endpoint=_endpoint(request, endpoint_id))]


@router.post(
    "/{endpoint_id}/deliveries/{message_id}/redeliver", response={200: MessageOut, **ERRORS}, summary="Redeliver"
)
def redeliver(request: HttpRequest, endpoint_id: str, message_id: str) -> dict[str, Any]:
    endpoint = _endpoint(request, endpoint_id)
    message = selectors.message_get(workspace=request.workspace, endpoint=endpoint, message_id=message_id)  # type: ignore[attr-defined]
    return message_out(services.redeliver(message=message, actor=actor_for(request)))

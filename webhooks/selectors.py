"""Reads, scoped to the caller's workspace through the one access helper."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from workspaces.access import get_scoped, scoped
from workspaces.models import Workspace

from .models import WebhookAttempt, WebhookEndpoint, WebhookMessage


def endpoint_list(*, workspace: Workspace) -> QuerySet[WebhookEndpoint]:
    return scoped(WebhookEndpoint.objects.all(), workspace).order_by("-created_at")


def endpoint_get(*, workspace: Workspace, endpoint_id: Any) -> WebhookEndpoint:
    return get_scoped(WebhookEndpoint.objects.select_related("workspace"), workspace, what="Webhook", pk=endpoint_id)


def message_list(*, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookMessage]:
    """The endpoint's newest messages with their attempts (newest first): the delivery log."""
    attempts = Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-attempted_at", "-id"))
    return list(endpoint.messages.order_by("-created_at").prefetch_related(attempts)[:limit])


def message_get(*, workspace: Workspace, endpoint: WebhookEndpoint, message_id: Any) -> WebhookMessage:
    return get_scoped(
        WebhookMessage.objects.select_related("endpoint", "endpoint__workspace").filter(endpoint=endpoint),
        workspace,
        what="Delivery",
        pk=message_id,
    )

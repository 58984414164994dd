"""Webhook endpoints, the messages owed to them (an outbox written in the transaction of the change), and every
delivery attempt."""

from __future__ import annotations

import uuid

from django.db import models

from workspaces.models import Workspace

# Standard Webhooks event types Patchbay sends. `execution.failed` is opt-in: an endpoint gets it only by naming it.
EVENT_TYPES = (
    "connector.created",
    "connector.updated",
    "connector.deleted",
    "connector.needs_reauth",
    "connector.credentials_rejected",
    "connector.refresh_failed",
    "connect_session.completed",
    "execution.failed",
)
OPT_IN_EVENTS = frozenset({"execution.failed"})


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    secret_encrypted = models.TextField(help_text="The signing secret (whsec_…), encrypted at rest.")
    events = models.JSONField(default=list, blank=True, help_text="Event types; empty: every event but opt-in ones.")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure of the current streak.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "enabled"], name="webhook_ws_enabled_idx"),
            models.Index(fields=["workspace", "-created_at"], name="webhook_ws_created_idx"),
        ]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        if self.events:
            return event_type in self.events
        return event_type not in OPT_IN_EVENTS


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookMessage(models.Model):
    """One event owed to one endpoint. Created in the transaction of the change that caused it, so a rolled-back
    change sends nothing and a committed one is never lost: workers (and the sweeper) deliver pending rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64)
    payload = models.JSONField(help_text="The Standard Webhooks body: type, timestamp, data (ids and facts only).")
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_msg_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_msg_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"

    @property
    def msg_id(self) -> str:
        return f"msg_{self.pk.hex}"


class WebhookAttempt(models.Model):
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["message", "-attempted_at", "-id"], name="webhook_attempt_msg_idx")]

    def __str__(self) -> str:
        return f"{self.status_code or self.error}"

"""Connect sessions: a short-lived, single-use link that lets a product's end user connect their own account."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from connectors.models import Connector
from workspaces.models import ApiKey, Workspace


class ConnectSession(models.Model):
    """Made by `POST /api/v1/integrations/connect-sessions`; the token itself is shown once and stored as a hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="connect_sessions")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    end_user_id = models.CharField(max_length=200)
    end_user_email = models.CharField(max_length=254, blank=True)
    end_user_display_name = models.CharField(max_length=200, blank=True)
    allowed_connector_types = models.JSONField(
        default=list, blank=True, help_text="Connector type slugs the end user may pick; empty: every type."
    )
    redirect_url = models.CharField(max_length=2000, blank=True)
    # Re-connecting: the session names the connector whose credentials the end user replaces.
    connector = models.ForeignKey(Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    result_connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.SET_NULL, related_name="connect_sessions"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at", "-id"], name="connect_session_ws_idx")]

    def __str__(self) -> str:
        return f"Connect session for {self.end_user_id} ({self.status})"

    @property
    def status(self) -> str:
        if self.completed_at is not None:
            return "completed"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

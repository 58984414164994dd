from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from workspaces.models import ApiKey, Workspace


class ConnectorDefinition(models.Model):
    """A connector type, loaded from a catalog manifest (see docs/catalog.md)."""

    id = models.UUIDField(primary_key=True, editable=False, help_text="definition_id / sourceDefinitionId")
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    icon = models.CharField(max_length=200, blank=True)
    # JSON text, not a JSONField: PostgreSQL's jsonb reorders keys, and a manifest's order (entities, actions,
    # fields) is what forms, the playground and the API show. Read it through connectors.catalog.manifest_for.
    manifest_json = models.TextField()
    version = models.CharField(max_length=40)
    source_path = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def manifest(self) -> dict[str, Any]:
        """The stored manifest as parsed JSON, for the loader and catalog sync. Everything else reads the typed,
        cached manifest: `connectors.catalog.manifest_for(definition)`."""
        return json.loads(self.manifest_json or "{}")

    @manifest.setter
    def manifest(self, value: dict[str, Any]) -> None:
        self.manifest_json = json.dumps(value)


class ConnectorStatus(models.TextChoices):
    """A connector's health. Changed only by connectors.status.connector_set_status, which audits transitions."""

    UNKNOWN = "unknown", "Unknown"  # nothing has proven the credentials yet: no check, no execution
    HEALTHY = "healthy", "Healthy"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"


class Connector(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: connector_ws_created_idx starts with the workspace and serves every lookup by it.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="connectors", db_index=False)
    definition = models.ForeignKey(ConnectorDefinition, on_delete=models.PROTECT, related_name="connectors")
    name = models.CharField(max_length=200)
    auth_scheme = models.CharField(max_length=64)
    # One MultiFernet token holding the whole credentials JSON. Never read this directly: use connectors.crypto.
    credentials_encrypted = models.TextField(editable=False)
    replication_config = models.JSONField(default=dict, blank=True)
    # Whose account this is, in the product built on Patchbay (set by connect sessions, or on create); not secret.
    end_user_id = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=20, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN)
    status_detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # OAuth token lifecycle (non-secret facts about the encrypted tokens).
    token_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    token_scopes = models.CharField(max_length=1000, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_failures = models.PositiveIntegerField(default=0)
    refresh_cooldown_until = models.DateTimeField(null=True, blank=True)
    # Set when beat queues a refresh, cleared when a token is stored: each due token is queued once.
    refresh_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Every list (API cursor pages, dashboard table) reads a workspace's connectors newest first.
            models.Index(fields=["workspace", "-created_at", "-id"], name="connector_ws_created_idx"),
            # The same, of one type (API `connector_type` / `definition_id`, the dashboard's type filter).
            models.Index(
                fields=["workspace", "definition", "-created_at", "-id"], name="connector_ws_type_created_idx"
            ),
            # One end user's connectors (API `?end_user_id=`, the SDK's `connect(type, end_user_id=...)`).
            models.Index(fields=["workspace", "end_user_id", "-created_at", "-id"], name="connector_ws_end_user_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    ERROR = "error", "Error"


class Execution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="executions")
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="executions")
    entity = models.CharField(max_length=100)
    action = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True, help_text="Parameters with secret fields removed.")
    # The full parameters, encrypted, for the worker (tasks take ids only); wiped when the run ends.
    params_encrypted = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING)
    result = models.JSONField(null=True, blank=True)
    connector_metadata = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    error_fields = models.JSONField(default=list, blank=True, help_text="Field errors when params could not be used.")
    upstream_status = models.PositiveIntegerField(null=True, blank=True)
    retry_after = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The caller's short reason for running it (Airbyte's `intent`), shown beside the execution; never a secret.
    intent = models.CharField(max_length=512, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Delivery bookkeeping (docs/reliability.md): when a message was last sent to
    # the queue, when a worker claimed the run and which one, how often, and when an unstarted run gives up.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that claimed the run.")
    run_count = models.PositiveSmallIntegerField(default=0)
    deadline_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Lists page by (created_at, id) newest first. The columns after `id` never change the order: they let
            # the dashboard's counts and latency sample read the index alone (no heap) over a time range.
            models.Index(
                fields=["workspace", "-created_at", "-id", "status", "duration_ms", "connector"],
                name="execution_ws_created_idx",
            ),
            models.Index(
                fields=["workspace", "status", "-created_at", "-id", "duration_ms", "connector"],
                name="execution_ws_status_idx",
            ),
            models.Index(
                fields=["connector", "-created_at", "-id", "status", "duration_ms", "workspace"],
                name="execution_connector_idx",
            ),
            # The sweeper's query: only unfinished rows, so the index stays tiny at millions of executions.
            models.Index(
                fields=["status", "created_at"],
                name="execution_unfinished_idx",
                condition=Q(status__in=["pending", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.action} ({self.status})"


class OAuthApp(models.Model):
    """A workspace's own OAuth client for one connector type (else the deployment default from env applies)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="oauth_apps")
    definition = models.ForeignKey(ConnectorDefinition, on_delete=models.CASCADE, related_name="oauth_apps")
    client_id = models.CharField(max_length=500)
    client_secret_encrypted = models.TextField(editable=False)
    scopes = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "OAuth app"  # not Django's "o auth app"
        verbose_name_plural = "OAuth apps"
        constraints = [models.UniqueConstraint(fields=["workspace", "definition"], name="unique_oauth_app")]

    def __str__(self) -> str:
        return f"{self.definition} OAuth app ({self.client_id})"


class OAuthState(models.Model):
    """One pending authorization: random, single-use, short-lived, bound to a workspace and its initiator."""

    state_hash = models.CharField(max_length=64, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(ConnectorDefinition, on_delete=models.CASCADE, related_name="+")
    auth_scheme = models.CharField(max_length=64)
    connector = models.ForeignKey(Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    replication_config = models.JSONField(default=dict, blank=True)
    redirect_url = models.CharField(max_length=2000)
    code_verifier_encrypted = models.TextField(blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Started from a hosted connect page: the connector is the end user's and completes that session.
    connect_session = models.ForeignKey(
        "connect.ConnectSession", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OAuth state"
        verbose_name_plural = "OAuth states"

    def __str__(self) -> str:
        return f"OAuth state for {self.definition_id} ({'used' if self.used_at else 'pending'})"

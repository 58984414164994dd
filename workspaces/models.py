from __future__ import annotations

from django.conf import settings
from django.db import models


class Workspace(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    # Origins (scheme://host[:port]) connect sessions may send end users back to; empty: PATCHBAY_PUBLIC_URL's.
    allowed_redirect_origins = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


# Each role can do everything the roles after it can.
ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def allows(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class KeyLimitsMixin(models.Model):
    """Least privilege for whoever holds the key or credential (connectors/limits.py enforces all three): empty or
    False means no limit."""

    connector_limits = models.JSONField(
        default=list,
        blank=True,
        help_text="Connector ids or connector types (slugs) this key may use; empty: every connector.",
    )
    read_only = models.BooleanField(default=False, help_text="Only read operations, and GET/HEAD proxy calls.")
    agent_only = models.BooleanField(
        default=False, help_text="Only the agent surface: /mcp and /api/v1/integrations/tools."
    )

    class Meta:
        abstract = True

    @property
    def is_limited(self) -> bool:
        return bool(self.connector_limits or self.read_only or self.agent_only)


class ApiKey(KeyLimitsMixin):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True, help_text="Visible part of the key, for recognising it.")
    hashed_secret = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at", "-id"], name="apikey_ws_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} (pb_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApplicationCredential(KeyLimitsMixin):
    """A client-id/secret pair that is exchanged for short-lived bearer tokens (POST /api/v1/account/applications/
    token): the OAuth client-credentials shape Airbyte's SDK speaks. The secret is stored hashed and shown once."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="application_credentials")
    name = models.CharField(max_length=200)
    client_id = models.CharField(max_length=64, unique=True)
    hashed_secret = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at", "-id"], name="appcred_ws_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    # Every event is written once and read rarely: each index is paid on every insert (a token refresh writes one),
    # so the table keeps only those its reads use. The workspace's own is the prefix of both list indexes; an
    # actor's rows are found (to clear them when the actor is deleted) through partial indexes that skip the many
    # events with no such actor.
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events", db_index=False
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_application = models.ForeignKey(
        ApplicationCredential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="Non-secret details only.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The audit log pages newest first, whole or by action; the action index also lists the distinct actions.
            models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_created_idx"),
            models.Index(fields=["workspace", "action", "-created_at", "-id"], name="audit_ws_action_created_idx"),
            # The admin's filter by action across workspaces (equality only: no pattern-matching twin).
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(
                fields=["actor_user"], name="audit_actor_user_idx", condition=models.Q(actor_user__isnull=False)
            ),
            models.Index(
                fields=["actor_api_key"], name="audit_actor_key_idx", condition=models.Q(actor_api_key__isnull=False)
            ),
            models.Index(
                fields=["actor_application"],
                name="audit_actor_app_idx",
                condition=models.Q(actor_application__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"

    @property
    def actor_display(self) -> str:
        if self.actor_user_id:
            return str(self.actor_user)
        if self.actor_api_key_id:
            return f"API key {self.actor_api_key}"
        if self.actor_application_id:
            return f"Application {self.actor_application}"
        return "system"

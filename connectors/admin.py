from __future__ import annotations

from django.contrib import admin

from workspaces.admin import AuditorReadOnlyAdmin

from . import selectors
from .models import Connector, ConnectorDefinition, Execution, OAuthApp, OAuthState


@admin.register(ConnectorDefinition)
class ConnectorDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "id", "version", "source_path", "updated_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "slug", "name", "icon", "manifest_json", "version", "source_path", "updated_at"]


@admin.register(Connector)
class ConnectorAdmin(AuditorReadOnlyAdmin):
    list_display = ["name", "definition", "workspace", "auth_scheme", "status", "created_at", "last_used_at"]
    list_filter = ["workspace", "definition", "status"]
    search_fields = ["name", "id"]
    # Credentials are never displayed: the scheme and which fields are set, nothing more.
    exclude = ["credentials_encrypted"]
    readonly_fields = [
        "id",
        "workspace",
        "definition",
        "auth_scheme",
        "credentials_set",
        "status",
        "status_detail",
        "created_at",
        "updated_at",
        "last_used_at",
        "last_checked_at",
        "token_expires_at",
        "token_scopes",
        "token_refreshed_at",
        "refresh_failures",
        "refresh_cooldown_until",
    ]

    @admin.display(description="Credential fields set")
    def credentials_set(self, obj: Connector) -> str:
        return ", ".join(selectors.connector_credential_fields(obj)) or "(none)"


@admin.register(Execution)
class ExecutionAdmin(AuditorReadOnlyAdmin):
    list_display = [
        "created_at",
        "connector",
        "entity",
        "action",
        "status",
        "upstream_status",
        "attempts",
        "duration_ms",
    ]
    list_filter = ["workspace", "status", "entity"]
    date_hierarchy = "created_at"

    exclude = ["params_encrypted"]


@admin.register(OAuthApp)
class OAuthAppAdmin(AuditorReadOnlyAdmin):
    list_display = ["definition", "workspace", "client_id", "scopes", "updated_at"]
    list_filter = ["workspace", "definition"]
    exclude = ["client_secret_encrypted"]


@admin.register(OAuthState)
class OAuthStateAdmin(AuditorReadOnlyAdmin):
    list_display = ["workspace", "definition", "created_at", "expires_at", "used_at"]
    exclude = ["code_verifier_encrypted", "state_hash"]

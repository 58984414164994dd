from __future__ import annotations

from django.contrib import admin

from .models import ApiKey, ApplicationCredential, AuditEvent, Membership, Workspace


class AuditorReadOnlyAdmin(admin.ModelAdmin):
    """Django admin is for auditors: they see everything (secrets excepted) and change nothing. Writes go through
    the dashboard and the API, where services validate them and write the audit log; no bulk delete here."""

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]


@admin.register(ApiKey)
class ApiKeyAdmin(AuditorReadOnlyAdmin):
    list_display = ["name", "workspace", "masked", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["workspace"]
    # The hash is not a secret in itself, but there is nothing to learn from it: keep it out of the page.
    exclude = ["hashed_secret"]
    readonly_fields = ["workspace", "prefix", "created_by", "created_at", "last_used_at"]

    @admin.display(description="Key")
    def masked(self, obj: ApiKey) -> str:
        return f"pb_{obj.prefix}_…"


@admin.register(ApplicationCredential)
class ApplicationCredentialAdmin(AuditorReadOnlyAdmin):
    list_display = ["name", "workspace", "client_id", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["workspace"]
    exclude = ["hashed_secret"]
    readonly_fields = ["workspace", "client_id", "created_by", "created_at", "last_used_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(AuditorReadOnlyAdmin):
    list_display = ["created_at", "workspace", "action", "actor_display", "target_repr", "ip"]
    list_filter = ["workspace", "action", "actor_user", "actor_api_key", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["target_repr", "target_id", "action"]
    date_hierarchy = "created_at"

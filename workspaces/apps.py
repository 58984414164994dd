from __future__ import annotations

from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .auth import broadcast_key_change
        from .models import ApiKey, Workspace

        # Processes cache API-key lookups (workspaces/auth.py): any change to a key or a workspace empties them all.
        for model in (ApiKey, Workspace):
            post_save.connect(broadcast_key_change, sender=model, dispatch_uid=f"key-cache-{model.__name__}")
            post_delete.connect(broadcast_key_change, sender=model, dispatch_uid=f"key-cache-{model.__name__}")

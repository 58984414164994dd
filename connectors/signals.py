from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .catalog.sync import sync_catalog


@receiver(post_migrate)
def sync_catalog_after_migrate(sender, app_config=None, **kwargs) -> None:  # noqa: ANN001
    """`migrate` loads the catalog, so a fresh database is usable at once (idempotent)."""
    if app_config is None or app_config.name != "connectors":
        return
    sync_catalog(verbosity=kwargs.get("verbosity", 1))

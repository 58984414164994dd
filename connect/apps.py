from __future__ import annotations

from django.apps import AppConfig


class ConnectConfig(AppConfig):
    name = "connect"
    verbose_name = "Connect sessions"
    default_auto_field = "django.db.models.BigAutoField"

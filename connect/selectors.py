"""Reads for connect sessions."""

from __future__ import annotations

from django.db.models import QuerySet

from workspaces.access import scoped
from workspaces.models import Workspace

from .models import ConnectSession


def session_list(*, workspace: Workspace, limit: int = 20) -> QuerySet[ConnectSession]:
    """The workspace's newest sessions, for the dashboard (never their tokens: only hashes are stored)."""
    qs = scoped(ConnectSession.objects.select_related("result_connector__definition"), workspace)
    return qs.order_by("-created_at", "-id")[:limit]

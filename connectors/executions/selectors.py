"""Reads of executions. Everything goes through workspaces.access, scoped to the caller's workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from workspaces.access import get_scoped, scoped
from workspaces.models import Workspace

from ..models import Execution


def execution_list(
    *,
    workspace: Workspace,
    connector_id: Any = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Execution]:
    qs = scoped(Execution.objects.select_related("connector", "connector__definition"), workspace)
    if connector_id:
        qs = qs.filter(connector_id=connector_id)
    if status:
        qs = qs.filter(status=status)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-id")


def execution_get(*, workspace: Workspace, execution_id: Any) -> Execution:
    return get_scoped(
        Execution.objects.select_related("connector", "connector__definition"),
        workspace,
        what="Execution",
        pk=execution_id,
    )

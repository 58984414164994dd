"""Dashboard-only reads: the connectors table and execution statistics for the charts. Always workspace-scoped."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from connectors.models import Connector, ConnectorDefinition, Execution, ExecutionStatus
from connectors.selectors import connector_list
from workspaces.access import scoped
from workspaces.models import AuditEvent, Workspace


def connector_table(
    *, workspace: Workspace, q: str = "", connector_type: str = "", status: str = ""
) -> QuerySet[Connector]:
    qs = connector_list(workspace=workspace, connector_type=connector_type or None)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(definition__name__icontains=q))
    if status:
        qs = qs.filter(status=status)
    return qs


def definitions_in_use(*, workspace: Workspace) -> QuerySet[ConnectorDefinition]:
    ids = scoped(Connector.objects.all(), workspace).values("definition_id")
    return ConnectorDefinition.objects.filter(pk__in=ids).order_by("name")


def audit_list(
    *,
    workspace: Workspace,
    action: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    qs = scoped(AuditEvent.objects.select_related("actor_user", "actor_api_key"), workspace)
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(Q(actor_user__username__icontains=actor) | Q(actor_api_key__name__icontains=actor))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-id")


def audit_actions(*, workspace: Workspace) -> list[str]:
    return list(scoped(AuditEvent.objects.all(), workspace).values_list("action", flat=True).distinct().order_by())


@dataclass
class HourBucket:
    start: datetime
    total: int = 0
    errors: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0


@dataclass
class ConnectorLatency:
    connector_id: Any
    name: str
    count: int
    p50: float | None
    p95: float | None


@dataclass
class ExecutionStats:
    since: datetime
    hours: list[HourBucket]
    latency: list[ConnectorLatency] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(h.total for h in self.hours)

    @property
    def errors(self) -> int:
        return sum(h.errors for h in self.hours)

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0


def percentile(sorted_values: list[int], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def execution_stats(*, workspace: Workspace, now: datetime | None = None, hours: int = 24) -> ExecutionStats:
    """Executions per hour, error rate per hour and p50/p95 latency per connector over the last `hours` hours."""
    now = now or timezone.now()
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    since = current_hour - timedelta(hours=hours - 1)
    buckets = [HourBucket(start=since + timedelta(hours=i)) for i in range(hours)]
    durations: dict[Any, list[int]] = {}
    names: dict[Any, str] = {}
    rows = (
        scoped(Execution.objects.all(), workspace)
        .filter(created_at__gte=since)
        .values_list("created_at", "status", "duration_ms", "connector_id", "connector__name")
    )
    for created_at, status, duration_ms, connector_id, connector_name in rows.iterator(chunk_size=2000):
        index = int((created_at - since).total_seconds() // 3600)
        if 0 <= index < hours:
            buckets[index].total += 1
            if status == ExecutionStatus.ERROR:
                buckets[index].errors += 1
        names[connector_id] = connector_name
        if duration_ms is not None and status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
            durations.setdefault(connector_id, []).append(duration_ms)
    latency = []
    for connector_id, name in names.items():
        values = sorted(durations.get(connector_id, []))
        latency.append(
            ConnectorLatency(
                connector_id=connector_id,
                name=name,
                count=len(values),
                p50=percentile(values, 50),
                p95=percentile(values, 95),
            )
        )
    latency.sort(key=lambda row: (-(row.p95 or 0), row.name))
    return ExecutionStats(since=since, hours=buckets, latency=latency)

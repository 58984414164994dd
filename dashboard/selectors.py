"""Dashboard-only reads: the connectors table, the executions table and its statistics, the audit log.

Always workspace-scoped, and bounded: each function runs a fixed number of queries, and each query reads an index
range (one page, one time window, at most a sample of rows), never "every row of the workspace". The indexes they
rely on are declared next to the models (connectors/models.py, workspaces/models.py); docs/benchmarks.md has the
figures at 10,000 connectors and 1,000,000 executions.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour, TruncMinute
from django.utils import timezone

from connectors.models import Connector, ConnectorDefinition, Execution, ExecutionStatus
from connectors.selectors import connector_list
from workspaces.access import scoped
from workspaces.models import AuditEvent, Workspace

logger = logging.getLogger(__name__)

# Connector rows carry their definition's manifest text (~10 KB); no table or picker needs it.
_DEFINITION_HEAVY = ("definition__manifest_json",)

# --- Connectors --------------------------------------------------------------------------------------------------


def connector_table(
    *, workspace: Workspace, q: str = "", connector_type: str = "", status: str = ""
) -> QuerySet[Connector]:
    qs = connector_list(workspace=workspace, connector_type=connector_type or None).defer(
        "credentials_encrypted", *_DEFINITION_HEAVY
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(definition__name__icontains=q) | Q(end_user_id=q))
    if status:
        qs = qs.filter(status=status)
    return qs


def definitions_in_use(*, workspace: Workspace) -> QuerySet[ConnectorDefinition]:
    ids = scoped(Connector.objects.all(), workspace).values("definition_id")
    return ConnectorDefinition.objects.filter(pk__in=ids).defer("manifest_json").order_by("name")


SUGGESTIONS = 20


def connector_suggestions(*, workspace: Workspace, text: str, limit: int = SUGGESTIONS) -> list[Connector]:
    """At most `limit` connectors whose name or type contains `text`: the executions filter's datalist."""
    qs = scoped(Connector.objects.select_related("definition"), workspace).only(
        "id", "name", "workspace_id", "definition_id", "definition__name", "definition__slug"
    )
    text = text.strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(definition__name__icontains=text))
    return list(qs.order_by("name", "id")[:limit])


@dataclass
class ConnectorFilter:
    """What the executions page's connector box resolved to. `ids` is empty when nothing matched."""

    text: str = ""
    ids: list[Any] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.text)

    @property
    def unmatched(self) -> bool:
        return bool(self.text) and not self.ids


def connector_filter(*, workspace: Workspace, value: str) -> ConnectorFilter:
    """A connector id (links from a connector's page) or a name as typed or picked from the suggestions.

    A name selects every connector of that exact name (case-insensitive), at most SUGGESTIONS of them: one query,
    whatever the number of connectors."""
    value = value.strip()[:200]
    if not value:
        return ConnectorFilter()
    qs = scoped(Connector.objects.all(), workspace)
    try:
        pk = uuid.UUID(value)
    except ValueError:
        ids = list(qs.filter(name__iexact=value).order_by().values_list("pk", flat=True)[:SUGGESTIONS])
        return ConnectorFilter(text=value, ids=ids)
    found = qs.filter(pk=pk).values_list("pk", "name").first()
    return ConnectorFilter(text=found[1], ids=[found[0]]) if found else ConnectorFilter(text=value)


# --- Executions --------------------------------------------------------------------------------------------------

_TABLE_FIELDS = (
    "id",
    "workspace_id",
    "connector_id",
    "entity",
    "action",
    "status",
    "error_code",
    "upstream_status",
    "attempts",
    "duration_ms",
    "created_at",
    "connector__id",
    "connector__name",
    "connector__definition_id",
    "connector__definition__id",
    "connector__definition__name",
    "connector__definition__slug",
)


def _executions(
    *, workspace: Workspace, connector_ids: Sequence[Any] | None, status: str, since: datetime | None
) -> QuerySet[Execution]:
    qs = scoped(Execution.objects.all(), workspace)
    if connector_ids is not None:
        qs = qs.filter(connector_id__in=list(connector_ids))
    if status:
        qs = qs.filter(status=status)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs


def execution_table(
    *,
    workspace: Workspace,
    connector_ids: Sequence[Any] | None = None,
    status: str = "",
    since: datetime | None = None,
) -> QuerySet[Execution]:
    """Executions newest first, with only the columns the table shows (params and results can be large)."""
    qs = _executions(workspace=workspace, connector_ids=connector_ids, status=status, since=since)
    return qs.select_related("connector", "connector__definition").only(*_TABLE_FIELDS).order_by("-created_at", "-id")


@dataclass(frozen=True)
class Range:
    """A time-range choice of the executions page and how its charts are bucketed."""

    key: str
    label: str
    buckets: int
    step: timedelta
    unit: str  # "minute" | "hour": the SQL truncation, folded into `step`-long buckets in Python
    per: str  # "per 5 minutes", "per hour", ...
    tick_every: int
    tick_format: str


RANGES: dict[str, Range] = {
    r.key: r
    for r in (
        Range("1h", "Last hour", 12, timedelta(minutes=5), "minute", "per 5 minutes", 2, "%H:%M"),
        Range("24h", "Last 24 hours", 24, timedelta(hours=1), "hour", "per hour", 3, "%H:00"),
        Range("7d", "Last 7 days", 28, timedelta(hours=6), "hour", "per 6 hours", 4, "%a %H:00"),
        Range("30d", "Last 30 days", 30, timedelta(days=1), "hour", "per day", 5, "%d %b"),
    )
}
DEFAULT_RANGE = "24h"


def window_start(time_range: Range, now: datetime) -> datetime:
    """The first bucket's start, in the active time zone, so that buckets fall on local hours and midnights."""
    local = timezone.localtime(now)
    if time_range.step >= timedelta(days=1):
        current = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif time_range.step >= timedelta(hours=1):
        hours = int(time_range.step.total_seconds() // 3600)
        current = local.replace(hour=local.hour - local.hour % hours, minute=0, second=0, microsecond=0)
    else:
        minutes = int(time_range.step.total_seconds() // 60)
        current = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    # Aware arithmetic on a zoneinfo datetime is wall-clock arithmetic: days stay midnights across DST changes.
    return current - time_range.step * (time_range.buckets - 1)


@dataclass
class Bucket:
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
    range: Range
    since: datetime
    buckets: list[Bucket]
    latency: list[ConnectorLatency] = field(default_factory=list)
    p50: float | None = None
    p95: float | None = None
    latency_runs: int = 0  # finished runs the percentiles were computed over
    latency_sampled: bool = False  # True when the window held more than LATENCY_SAMPLE finished runs

    @property
    def hours(self) -> list[Bucket]:  # the 24-hour view's buckets are hours
        return self.buckets

    @property
    def total(self) -> int:
        return sum(b.total for b in self.buckets)

    @property
    def errors(self) -> int:
        return sum(b.errors for b in self.buckets)

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0


# Percentiles read at most this many of the newest finished runs in the window (index order, no sort of the rest).
LATENCY_SAMPLE = 20_000
LATENCY_CONNECTORS = 8
# Hourly windows keep the counts of their settled hours in the cache for at most this long (see _unit_counts).
CACHE_MAX_AGE = timedelta(hours=1)


def execution_stats(
    *,
    workspace: Workspace,
    range_key: str = DEFAULT_RANGE,
    connector_ids: Sequence[Any] | None = None,
    status: str = "",
    now: datetime | None = None,
) -> ExecutionStats:
    """Executions and errors per bucket, and p50/p95 latency overall and for the busiest connectors, over one of
    RANGES, for the same filters as the table. Three queries, whatever the data: counts grouped by hour (or minute)
    in SQL, percentiles over a bounded sample, and the names of the connectors on the latency chart."""
    now = now or timezone.now()
    time_range = RANGES.get(range_key) or RANGES[DEFAULT_RANGE]
    since = window_start(time_range, now)
    starts = [since + time_range.step * i for i in range(time_range.buckets)]
    buckets = [Bucket(start=s) for s in starts]
    if connector_ids is not None and not connector_ids:
        return ExecutionStats(range=time_range, since=since, buckets=buckets)  # a connector filter matched nothing
    qs = _executions(workspace=workspace, connector_ids=connector_ids, status=status, since=None)
    key = (tuple(sorted(map(str, connector_ids))) if connector_ids is not None else None, status)
    counts = _unit_counts(qs, workspace=workspace, time_range=time_range, since=since, now=now, key=key)
    for unit_start, (total, errors) in counts.items():
        index = _bucket_index(starts, unit_start)
        if index is not None:
            buckets[index].total += total
            buckets[index].errors += errors
    stats = ExecutionStats(range=time_range, since=since, buckets=buckets)
    _latency(stats, qs.filter(created_at__gte=since))
    return stats


def _bucket_index(starts: list[datetime], moment: datetime) -> int | None:
    if moment < starts[0]:
        return None
    lo, hi = 0, len(starts) - 1
    while lo < hi:  # the last start <= moment
        mid = (lo + hi + 1) // 2
        if starts[mid] <= moment:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _count_by_unit(qs: QuerySet[Execution], unit: str, since: datetime) -> dict[datetime, tuple[int, int]]:
    trunc = TruncMinute if unit == "minute" else TruncHour  # in the active time zone
    rows = (
        qs.filter(created_at__gte=since)
        .order_by()
        .annotate(unit=trunc("created_at"))
        .values("unit")
        .annotate(total=Count("id"), errors=Count("id", filter=Q(status=ExecutionStatus.ERROR)))
        .values_list("unit", "total", "errors")
    )
    return {start: (total, errors) for start, total, errors in rows}


def _settled_before(now: datetime) -> datetime:
    """Hours that ended before this no longer change: every run created in them has finished (or hit its deadline)."""
    margin = timedelta(seconds=getattr(settings, "PATCHBAY_EXECUTION_DEADLINE_SECONDS", 900)) + timedelta(minutes=5)
    return timezone.localtime(now - margin).replace(minute=0, second=0, microsecond=0)


def _unit_counts(
    qs: QuerySet[Execution], *, workspace: Workspace, time_range: Range, since: datetime, now: datetime, key: tuple
) -> dict[datetime, tuple[int, int]]:
    """Counts per hour (per minute for the last hour), from SQL. Exactly one query.

    A 30-day window at a million runs is an index-only scan of a million entries (hundreds of milliseconds), so hourly
    windows keep their settled hours in the cache (per workspace, filters and time zone, rebuilt from scratch at least
    every CACHE_MAX_AGE) and the query only reads the hours since: the newest one or two. Hours are hours whatever the
    range: the 24-hour, 7-day and 30-day views share one entry. Counts of settled hours can lag deletions (retention,
    a deleted connector) by up to CACHE_MAX_AGE; runs never move between hours."""
    if time_range.unit != "hour":
        return _count_by_unit(qs, time_range.unit, since)
    tz = timezone.get_current_timezone_name()
    identity = (workspace.pk, workspace.created_at.isoformat() if workspace.created_at else "", tz, key)
    digest = hashlib.sha256(repr(identity).encode()).hexdigest()[:32]
    cache_key = f"dashboard:execution-hours:v1:{digest}"
    try:
        entry = cache.get(cache_key)
    except Exception:  # the cache only saves work: without it, count everything
        logger.warning("Execution counts: the cache is unavailable; counting the whole window", exc_info=True)
        entry = None
    usable = (
        isinstance(entry, dict)
        and all(isinstance(entry.get(k), datetime) for k in ("from", "to", "built"))
        and isinstance(entry.get("hours"), dict)
        and entry["from"] <= since
        and now - entry["built"] < CACHE_MAX_AGE
    )
    query_from = entry["to"] if usable else since
    fresh = _count_by_unit(qs, "hour", query_from)
    hours: dict[datetime, tuple[int, int]] = dict(entry["hours"]) if usable else {}
    settled = _settled_before(now)
    hours.update(fresh)
    keep_from = now - timedelta(days=31)
    kept = {h: c for h, c in hours.items() if keep_from <= h < settled}
    value = {
        "from": entry["from"] if usable else since,
        "to": max(settled, query_from),
        "built": entry["built"] if usable else now,
        "hours": kept,
    }
    try:
        cache.set(cache_key, value, timeout=int(CACHE_MAX_AGE.total_seconds()))
    except Exception:
        logger.warning("Execution counts: could not store settled hours in the cache", exc_info=True)
    return {h: c for h, c in hours.items() if h >= since}


def _percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks: PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p
    lo = math.floor(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo))


def _latency(stats: ExecutionStats, qs: QuerySet[Execution]) -> None:
    finished = qs.filter(
        status__in=[ExecutionStatus.SUCCESS, ExecutionStatus.ERROR], duration_ms__isnull=False
    ).order_by("-created_at", "-id")
    compute = _latency_rows_postgres if connection.vendor == "postgresql" else _latency_rows_python
    rows = compute(finished)
    overall = next((r for r in rows if r[0] is None), None)
    if overall is None or not overall[1]:
        return
    stats.latency_runs, stats.p50, stats.p95 = overall[1], overall[2], overall[3]
    stats.latency_sampled = overall[1] >= LATENCY_SAMPLE
    per_connector = [r for r in rows if r[0] is not None]
    names = dict(Connector.objects.filter(pk__in=[r[0] for r in per_connector]).values_list("pk", "name"))
    stats.latency = sorted(
        (
            ConnectorLatency(connector_id=cid, name=names.get(cid, "Deleted connector"), count=n, p50=p50, p95=p95)
            for cid, n, p50, p95 in per_connector
        ),
        key=lambda row: (-row.count, row.name),
    )


def _latency_rows_postgres(finished: QuerySet[Execution]) -> list[tuple[Any, int, float | None, float | None]]:
    """One statement: the newest LATENCY_SAMPLE finished runs (an index range), percentile_cont over all of them and
    over each of the LATENCY_CONNECTORS busiest connectors among them. Rows: (connector id or None, n, p50, p95)."""
    sample_sql, params = finished.values("connector_id", "duration_ms")[:LATENCY_SAMPLE].query.sql_with_params()
    pct = (
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)"
    )
    sql = f"""
        WITH sample AS ({sample_sql}),
        busiest AS (
            SELECT connector_id FROM sample GROUP BY connector_id ORDER BY count(*) DESC, connector_id LIMIT %s
        )
        SELECT NULL, count(*), {pct} FROM sample
        UNION ALL
        SELECT connector_id, count(*), {pct} FROM sample WHERE connector_id IN (SELECT connector_id FROM busiest)
        GROUP BY connector_id
    """  # noqa: S608 - the sample's SQL comes from the ORM, every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, LATENCY_CONNECTORS])
        return [(cid, n, p50, p95) for cid, n, p50, p95 in cursor.fetchall()]


def _latency_rows_python(finished: QuerySet[Execution]) -> list[tuple[Any, int, float | None, float | None]]:
    """The same on databases without percentile_cont (SQLite): the bounded sample, computed here."""
    durations: dict[Any, list[int]] = {}
    everything: list[int] = []
    for connector_id, duration_ms in finished.values_list("connector_id", "duration_ms")[:LATENCY_SAMPLE]:
        durations.setdefault(connector_id, []).append(duration_ms)
        everything.append(duration_ms)
    everything.sort()
    rows: list[tuple[Any, int, float | None, float | None]] = [
        (None, len(everything), _percentile(everything, 0.5), _percentile(everything, 0.95))
    ]
    busiest = sorted(durations.items(), key=lambda item: (-len(item[1]), str(item[0])))[:LATENCY_CONNECTORS]
    for connector_id, values in busiest:
        values.sort()
        rows.append((connector_id, len(values), _percentile(values, 0.5), _percentile(values, 0.95)))
    return rows


# --- Audit log ---------------------------------------------------------------------------------------------------


def audit_list(
    *,
    workspace: Workspace,
    action: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Newest first. A full action name ("connector.create") matches exactly, a group ("connector") its actions."""
    qs = scoped(AuditEvent.objects.select_related("actor_user", "actor_api_key"), workspace)
    if action:
        qs = qs.filter(action=action) if "." in action else qs.filter(action__startswith=f"{action}.")
    if actor:
        if actor.strip().lower() == "system":
            qs = qs.filter(actor_user__isnull=True, actor_api_key__isnull=True)
        else:
            qs = qs.filter(Q(actor_user__username__icontains=actor) | Q(actor_api_key__name__icontains=actor))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-id")


def audit_actions(*, workspace: Workspace) -> list[str]:
    """The distinct actions in the workspace's audit log, read as a skip scan of the (workspace, action, ...) index
    on PostgreSQL: one index probe per distinct action, not one row per event."""
    if connection.vendor != "postgresql":
        return list(
            scoped(AuditEvent.objects.all(), workspace).order_by("action").values_list("action", flat=True).distinct()
        )
    table = AuditEvent._meta.db_table
    sql = f"""
        WITH RECURSIVE actions(action) AS (
            (SELECT action FROM {table} WHERE workspace_id = %s ORDER BY action LIMIT 1)
            UNION ALL
            SELECT (SELECT a.action FROM {table} a WHERE a.workspace_id = %s AND a.action > actions.action
                    ORDER BY a.action LIMIT 1)
            FROM actions WHERE actions.action IS NOT NULL
        )
        SELECT action FROM actions WHERE action IS NOT NULL
    """  # noqa: S608 - the table name is the model's, the values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk, workspace.pk])
        return [row[0] for row in cursor.fetchall()]

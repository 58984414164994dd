"""Prometheus metrics for operators, served at /metrics (config/metrics_view.py).

Two kinds of metric live here:

* Event metrics, counted where the event happens: executions by connector type and outcome, their duration, and
  OAuth token refreshes by outcome. Call `record_execution` and `record_refresh`; they never raise.
* State gauges, computed at scrape time by `PatchbayStateCollector`: the Celery queue depth read from the Redis
  broker, and the executions still pending or running (in flight, and stale past the execution deadline). They
  describe the whole deployment, not one process, so whichever process answers the scrape computes them.

Gunicorn workers and Celery worker processes are separate processes. When `PROMETHEUS_MULTIPROC_DIR` is set (in
the environment of every process, before it starts), prometheus_client keeps the event metrics in files there and a
scrape adds up every process's files (`MultiProcessCollector`); otherwise the process's default registry is served.
The state gauges are computed, never stored, so they need no `multiprocess_mode` and no gunicorn `child_exit` hook.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Iterator
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from connectors.models import Execution, ExecutionStatus

logger = logging.getLogger(__name__)

# API calls: a cached answer in a few milliseconds, a slow paginated export near the task time limit.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
DEFAULT_EXECUTION_DEADLINE_SECONDS = 900
BROKER_TIMEOUT_SECONDS = 1.0
# Label values are bounded (catalog slugs, error codes); this only guards against a runaway value.
_MAX_LABEL_LENGTH = 100
# kombu's Redis transport keeps messages sent with a priority in sibling lists "<queue>\x06\x16<step>".
_KOMBU_PRIORITY_SEP = "\x06\x16"
_KOMBU_PRIORITY_STEPS = (3, 6, 9)

EXECUTIONS = Counter(
    "patchbay_executions_total",
    "Finished executions, by connector type (definition slug) and outcome (success or the error code).",
    ["connector_type", "outcome"],
)
EXECUTION_DURATION = Histogram(
    "patchbay_execution_duration_seconds",
    "Duration of finished executions, by connector type.",
    ["connector_type"],
    buckets=DURATION_BUCKETS,
)
TOKEN_REFRESHES = Counter(
    "patchbay_token_refreshes_total",
    "OAuth access-token refresh attempts, by outcome (ok, invalid_grant, failed, host_refused, ...).",
    ["outcome"],
)


def _label(value: object) -> str:
    text = str(value).strip() if value is not None else ""
    return text[:_MAX_LABEL_LENGTH] or "unknown"


def record_execution(*, connector_type: str, outcome: str, duration_seconds: float | None) -> None:
    """Count one finished execution. `outcome` is "success" or the execution's error code; `duration_seconds` is
    None when the run never timed anything (then only the counter moves). Never raises."""
    try:
        connector_label = _label(connector_type)
        EXECUTIONS.labels(connector_type=connector_label, outcome=_label(outcome)).inc()
        if duration_seconds is not None:
            duration = float(duration_seconds)
            if math.isfinite(duration) and duration >= 0:
                EXECUTION_DURATION.labels(connector_type=connector_label).observe(duration)
    except Exception:  # noqa: BLE001 - metrics must never break an execution
        logger.debug("could not record execution metrics", exc_info=True)


def record_refresh(*, outcome: str) -> None:
    """Count one token refresh attempt ("ok", "invalid_grant", "failed", "host_refused", ...). Never raises."""
    try:
        TOKEN_REFRESHES.labels(outcome=_label(outcome)).inc()
    except Exception:  # noqa: BLE001 - metrics must never break a refresh
        logger.debug("could not record token refresh metrics", exc_info=True)


# --- Scrape-time state ------------------------------------------------------------------------------------------


def _gauge(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _queue_names() -> list[str]:
    """The Celery queues to measure: the default queue plus any queue named in CELERY_TASK_ROUTES."""
    names = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery"]
    routes = getattr(settings, "CELERY_TASK_ROUTES", None)
    if isinstance(routes, dict):
        for route in routes.values():
            queue = route.get("queue") if isinstance(route, dict) else None
            if isinstance(queue, str) and queue and queue not in names:
                names.append(queue)
    return names


def _redis_queue_depths(url: str, queues: list[str]) -> dict[str, int]:
    """LLEN of each queue (with kombu's priority sub-lists) on the Redis broker. Raises when it is unreachable."""
    client = redis.Redis.from_url(
        url, socket_timeout=BROKER_TIMEOUT_SECONDS, socket_connect_timeout=BROKER_TIMEOUT_SECONDS
    )
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(queue)
            for step in _KOMBU_PRIORITY_STEPS:
                pipe.llen(f"{queue}{_KOMBU_PRIORITY_SEP}{step}")
        lengths = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(_KOMBU_PRIORITY_STEPS)
    return {queue: int(sum(lengths[i * per_queue : (i + 1) * per_queue])) for i, queue in enumerate(queues)}


class _Families:
    """The state gauges of one scrape, in exposition order."""

    def __init__(self) -> None:
        self.broker_up = _gauge("patchbay_broker_up", "1 when the Celery broker answered (or tasks run in-process).")
        self.queue_depth = _gauge(
            "patchbay_queue_depth", "Messages waiting in a Celery queue on the broker.", labels=["queue"]
        )
        self.database_up = _gauge("patchbay_database_up", "1 when the database answered the metrics queries.")
        self.stale_executions = _gauge(
            "patchbay_stale_executions",
            "Executions still pending or running past the execution deadline (PATCHBAY_EXECUTION_DEADLINE_SECONDS).",
        )
        self.in_flight = _gauge(
            "patchbay_executions_in_flight", "Executions pending or running, by status.", labels=["status"]
        )

    def __iter__(self) -> Iterator[Metric]:
        yield from (self.broker_up, self.queue_depth, self.database_up, self.stale_executions, self.in_flight)


class PatchbayStateCollector:
    """Gauges computed at scrape time from the broker and the database. A dependency that is down is reported
    (`patchbay_broker_up 0`, `patchbay_database_up 0`), never turned into a failed scrape."""

    def describe(self) -> Iterable[Metric]:
        # Registration asks for the names; answering here keeps it from querying the broker and the database.
        return list(_Families())

    def collect(self) -> Iterable[Metric]:
        families = _Families()
        self._collect_broker(families)
        self._collect_database(families)
        return list(families)

    @staticmethod
    def _collect_broker(families: _Families) -> None:
        queues = _queue_names()
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            # Tasks run in-process: nothing is ever queued, and there is no broker to be down.
            families.broker_up.add_metric([], 1)
            for queue in queues:
                families.queue_depth.add_metric([queue], 0)
            return
        url = str(getattr(settings, "CELERY_BROKER_URL", "") or "").split(";")[0].strip()
        if not url.startswith(("redis://", "rediss://")):
            logger.debug("queue depth is only measured on a Redis broker")
            return
        try:
            depths = _redis_queue_depths(url, queues)
        except Exception:  # noqa: BLE001 - an unreachable broker is a reading, not a failed scrape
            logger.debug("broker unreachable while collecting metrics", exc_info=True)
            families.broker_up.add_metric([], 0)
            return
        families.broker_up.add_metric([], 1)
        for queue, depth in depths.items():
            families.queue_depth.add_metric([queue], depth)

    @staticmethod
    def _collect_database(families: _Families) -> None:

        open_statuses = [ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value]
        deadline = getattr(settings, "PATCHBAY_EXECUTION_DEADLINE_SECONDS", DEFAULT_EXECUTION_DEADLINE_SECONDS)
        try:
            cutoff = timezone.now() - timedelta(seconds=float(deadline))
            stale = Execution.objects.filter(status__in=open_statuses, created_at__lt=cutoff).count()
            by_status = dict(
                Execution.objects.filter(status__in=open_statuses)
                .order_by()
                .values_list("status")
                .annotate(n=Count("id"))
            )
        except Exception:  # noqa: BLE001 - a database outage is a reading, not a failed scrape
            logger.debug("database unavailable while collecting metrics", exc_info=True)
            families.database_up.add_metric([], 0)
            return
        families.database_up.add_metric([], 1)
        families.stale_executions.add_metric([], stale)
        for status in open_statuses:
            families.in_flight.add_metric([status], by_status.get(status, 0))


class _DefaultRegistry:
    """The process's default registry (our event metrics, plus process and platform metrics), forwarded."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: every process's event metrics in multiprocess mode (a fresh registry per scrape,
    as prometheus_client's docs prescribe), else this process's default registry; plus the state gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_enabled():
        MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistry())
    registry.register(PatchbayStateCollector())
    return registry

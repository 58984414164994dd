"""Nothing pending or running forever: what happens to an execution whose message or worker was lost
(docs/reliability.md). Every transition is a conditional UPDATE on the state it was read in."""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .. import metrics
from ..catalog import manifest_for
from ..catalog.manifest import UnknownOperation
from ..models import Execution, ExecutionStatus
from . import completion
from .dispatch import send_to_queue

logger = logging.getLogger("patchbay.execution")

# A read whose worker died this many times is not tried again: it is probably what kills the worker.
MAX_RUNS = 3

DEADLINE_MESSAGE = (
    "No worker could start this execution before its deadline (the task queue or the workers were unavailable). "
    "It did not run; send it again."
)
WORKER_LOST_WRITE_MESSAGE = (
    "The worker running this execution stopped before it finished. It writes, and the request may have reached "
    "{name}: check there before sending it again."
)
WORKER_LOST_READ_MESSAGE = "The worker running this execution stopped {runs} times; Patchbay stopped retrying it."


def _runner_gone(execution: Execution, now: datetime) -> bool:
    """The worker that claimed this run is certainly gone: past the lease (the hard time limit has ended any run
    by then), or a process on this host that no longer exists."""
    lease = timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS)
    if execution.started_at is None or execution.started_at <= now - lease:
        return True
    host, _, pid = execution.runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _is_read(execution: Execution) -> bool:
    try:
        return manifest_for(execution.connector.definition).action(execution.entity, execution.action).is_read_only
    except UnknownOperation:
        return False  # the catalog changed under it: treat it as a write, never run twice


def recover_execution(execution: Execution, *, now: datetime) -> str:
    """Decide the fate of an unfinished execution: "rerun" (a read back to pending), "failed", "pending" or
    "running" (left alone), "finished". Every transition is conditional on the state it was read in."""
    if execution.status == ExecutionStatus.PENDING:
        if _overdue(execution, now):
            _fail(execution, "deadline_exceeded", DEADLINE_MESSAGE, expect=ExecutionStatus.PENDING)
            return "failed"
        return "pending"
    if execution.status != ExecutionStatus.RUNNING:
        return "finished"
    if not _runner_gone(execution, now):
        return "running"
    if _is_read(execution) and execution.run_count < MAX_RUNS and not _overdue(execution, now):
        reset = Execution.objects.filter(
            pk=execution.pk, status=ExecutionStatus.RUNNING, started_at=execution.started_at
        ).update(status=ExecutionStatus.PENDING, started_at=None, runner="", dispatched_at=None)
        logger.warning("execution %s lost its worker; it only reads, so it runs again", execution.pk)
        return "rerun" if reset else "finished"
    message = (
        WORKER_LOST_READ_MESSAGE.format(runs=execution.run_count)
        if _is_read(execution)
        else WORKER_LOST_WRITE_MESSAGE.format(name=execution.connector.definition.name)
    )
    _fail(execution, "worker_lost", message, expect=ExecutionStatus.RUNNING)
    return "failed"


def _overdue(execution: Execution, now: datetime) -> bool:
    deadline = execution.deadline_at or execution.created_at + timedelta(
        seconds=settings.PATCHBAY_EXECUTION_DEADLINE_SECONDS
    )
    return deadline <= now


def _fail(execution: Execution, code: str, message: str, *, expect: str) -> bool:
    now = timezone.now()
    fields = {
        "status": ExecutionStatus.ERROR,
        "error_code": code,
        "error_message": message,
        "finished_at": now,
        "params_encrypted": "",
        "connector_metadata": {},
        # Only an outage is worth retrying as it is; a write that may have happened is not.
        "retry_after": settings.PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS if code == "deadline_exceeded" else None,
    }
    done = Execution.objects.filter(pk=execution.pk, status=expect).update(**fields)
    if done:
        for name, value in fields.items():
            setattr(execution, name, value)
        metrics.record_execution(
            connector_type=execution.connector.definition.slug, outcome=code, duration_seconds=None
        )
        logger.warning("execution %s ended %s", execution.pk, code)
        completion.signal_finished(execution.pk)
    return bool(done)


def sweep_executions(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Beat's safety net: nothing stays pending or running forever.

    1. pending past its deadline -> error "deadline_exceeded";
    2. running past its lease -> reads back to pending (step 3 sends them), writes -> error "worker_lost";
    3. pending whose message is missing or old (the broker lost it) -> sent again.
    Every query reads only unfinished rows, through a partial index."""
    now = now or timezone.now()
    report: Counter[str] = Counter()
    unfinished = Execution.objects.select_related("connector__definition").order_by("created_at")
    deadline_cutoff = now - timedelta(seconds=settings.PATCHBAY_EXECUTION_DEADLINE_SECONDS)
    overdue = Q(deadline_at__lte=now) | Q(deadline_at__isnull=True, created_at__lte=deadline_cutoff)
    for execution in unfinished.filter(overdue, status=ExecutionStatus.PENDING)[:limit]:
        report[recover_execution(execution, now=now)] += 1
    lease_cutoff = now - timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS)
    for execution in unfinished.filter(status=ExecutionStatus.RUNNING, started_at__lte=lease_cutoff)[:limit]:
        report[recover_execution(execution, now=now)] += 1
    resend_cutoff = now - timedelta(seconds=settings.PATCHBAY_REDISPATCH_AFTER_SECONDS)
    lost = unfinished.filter(status=ExecutionStatus.PENDING).exclude(overdue)
    for execution in lost.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=resend_cutoff))[:limit]:
        claimed = Execution.objects.filter(
            pk=execution.pk, status=ExecutionStatus.PENDING, dispatched_at=execution.dispatched_at
        ).update(dispatched_at=now)
        if not claimed:
            continue
        if send_to_queue(execution.pk) is None:
            Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(dispatched_at=None)
            report["dispatch_failed"] += 1
            break  # the broker is down: the next sweep tries again
        report["redispatched"] += 1
    if report:
        logger.info("execution sweep: %s", dict(report))
    return dict(report)

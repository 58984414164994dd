"""Sending executions to the task queue: after commit, bounded in time, and never an error for the caller to
see as a 500 — a broker that cannot take the message leaves the execution to the sweeper (recovery.py)."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from ..models import Execution, ExecutionStatus
from .tasks import run_execution_task

logger = logging.getLogger("patchbay.execution")

# One quick retry, then give up: the sweeper re-sends, and the caller is told at once rather than after minutes.
DISPATCH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5}
# RuntimeError: what Celery's Redis result backend raises when it cannot subscribe to a result (Redis is down); it
# comes before the message is published, so nothing was sent. Executions store no result, but keep the guard.
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, RedisError, OSError, RuntimeError)


def send_to_queue(execution_id: Any) -> Any:
    """Queue one execution by id. Returns the AsyncResult (no result is stored: the record is the result), or None
    when the broker could not take it."""
    try:
        return run_execution_task.apply_async(args=[str(execution_id)], retry=True, retry_policy=DISPATCH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        logger.warning("could not queue execution %s: %s", execution_id, type(exc).__name__)
        return None


def dispatch_after_commit(execution: Execution) -> None:
    def send() -> None:
        # True: a synchronous caller waits for the worker's signal (completion.py) instead of polling the record.
        # False: the caller is told at once (503) that the sweeper will send it. Unset until the commit.
        execution._dispatched = send_to_queue(execution.pk) is not None  # type: ignore[attr-defined]
        if not execution._dispatched:  # type: ignore[attr-defined]
            Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(dispatched_at=None)

    transaction.on_commit(send)


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"

"""Thin Celery tasks for OAuth tokens: refresh ahead of expiry, queued by beat through an indexed range query.

Beat sends one message per batch of due connectors, not one per connector: at thousands of refreshes a sweep, the
per-message cost (broker round trips, task bookkeeping) was a third of a worker's time per refresh."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from celery import shared_task

from core.errors import TokenUnavailable

from ..models import Connector

# Connectors per refresh message. Small enough that a sweep spreads over every worker thread, large enough that
# the message overhead is shared; a batch that runs long hands its rest on (BATCH_SECONDS).
REFRESH_BATCH_SIZE = 25
# A batch stops starting refreshes after this long and queues the remainder as a new message, so a slow or hanging
# token endpoint (each call bounded by PATCHBAY_UPSTREAM_TIMEOUT) never runs a batch into the task's time limit.
BATCH_SECONDS = 45


def _refresh_one(connector_id: str) -> str:
    from .tokens import refresh_token

    try:
        refresh_token(connector_id=connector_id)
    except Connector.DoesNotExist:
        return "gone"
    except TokenUnavailable as exc:
        return exc.code
    return "ok"


@shared_task(
    name="connectors.refresh_token",
    acks_late=True,
    ignore_result=True,
    max_retries=3,
    default_retry_delay=30,
    soft_time_limit=60,
    time_limit=90,
)
def refresh_token_task(connector_id: str) -> str:
    """Refresh one connector ahead of expiry. Harmless when duplicated: the lock + re-read makes extra runs no-ops."""
    return _refresh_one(connector_id)


@shared_task(
    name="connectors.refresh_tokens",
    acks_late=True,
    ignore_result=True,
    max_retries=3,
    default_retry_delay=30,
    soft_time_limit=100,
    time_limit=130,
)
def refresh_tokens_task(connector_ids: list[str]) -> dict[str, int]:
    """Refresh a batch of connectors, one after another, each under its own row lock (see tokens.refresh_token)."""
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    for index, connector_id in enumerate(connector_ids):
        if time.monotonic() - started > BATCH_SECONDS:
            refresh_tokens_task.delay(list(connector_ids[index:]))
            outcomes["handed_on"] += len(connector_ids) - index
            break
        outcomes[_refresh_one(connector_id)] += 1
    return dict(outcomes)


def batches(ids: Sequence[str], size: int = REFRESH_BATCH_SIZE) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@shared_task(name="connectors.enqueue_due_refreshes", max_retries=0, soft_time_limit=120, time_limit=150)
def enqueue_due_refreshes_task() -> int:
    """Queue refreshes for every token expiring soon (an indexed range query on token_expires_at, not a scan), in
    batches of REFRESH_BATCH_SIZE connectors per message."""
    from .scheduling import claim_due_refreshes

    ids = [str(connector_id) for connector_id in claim_due_refreshes()]
    for batch in batches(ids):
        refresh_tokens_task.delay(batch)
    return len(ids)

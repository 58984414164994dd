"""A queued execution's "finished" signal to the caller waiting on it, through the broker's Redis.

The worker commits the outcome, then pushes onto a short-lived list named after the execution; a synchronous
caller waits on that list with BLPOP and then reads the record. A list rather than pub/sub: a push that lands
before the caller starts waiting is still there when it does. This replaced Celery's result backend for
executions, which cost a SUBSCRIBE before every send, a GET, SETEX and PUBLISH after every run and a result
consumer in the web process (the record in the database is the result; the backend only carried the wake-up).

The signal is only ever a hint: when Redis cannot carry it the caller falls back to polling the record, and a
run ended by the sweeper (which does not always push) is seen at the next poll.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from redis.exceptions import RedisError

from core.redis_clients import redis_client

logger = logging.getLogger("patchbay.execution")

# A finished execution nobody waited for leaves its key behind this long.
SIGNAL_TTL_SECONDS = 120
# One BLPOP waits at most this long, so a caller re-reads the record (and notices a sweeper's verdict, or a Redis
# that went away) at least this often.
WAIT_SLICE_SECONDS = 1.0


def _key(execution_id: Any) -> str:
    return f"patchbay:execution-done:{execution_id}"


def _client() -> Any:
    """A client for the broker's Redis (None with another broker, e.g. in-process tasks). Its socket timeout
    outlasts one wait slice; a Redis that stops answering fails the wait in seconds."""
    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis_client(url)


def signal_finished(execution_id: Any) -> None:
    """Tell a waiting caller the outcome is committed. Never raises: without Redis the caller polls."""
    client = _client()
    if client is None:
        return
    key = _key(execution_id)
    try:
        client.pipeline(transaction=False).lpush(key, 1).expire(key, SIGNAL_TTL_SECONDS).execute()
    except (RedisError, OSError) as exc:
        logger.debug("could not signal the end of execution %s: %s", execution_id, type(exc).__name__)


def wait_finished(execution_id: Any, timeout: float) -> bool | None:
    """Wait up to `timeout` (capped at one slice) for the signal. True when it came, False when it did not in
    time, None when Redis cannot carry it (the caller polls instead)."""
    client = _client()
    if client is None:
        return None
    try:
        # BLPOP takes fractional seconds (Redis 6+); 0 would mean "forever".
        return client.blpop([_key(execution_id)], timeout=max(0.001, min(timeout, WAIT_SLICE_SECONDS))) is not None
    except (RedisError, OSError) as exc:
        logger.debug("waiting for execution %s on Redis failed: %s", execution_id, type(exc).__name__)
        return None

"""The harness itself: the private stack serves a real execute end to end, and its PostgreSQL and Redis can be
stopped, crashed and restarted without the machine's shared instances noticing."""

from __future__ import annotations

import contextlib
import socket

from .conftest import STRIPE_CUSTOMERS, STRIPE_KEY

SHARED_PG = ("127.0.0.1", 5432)
SHARED_REDIS = ("127.0.0.1", 6379)


def _tcp_open(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def _shared_redis_run_id() -> str | None:
    """The shared Redis's run_id (changes on every restart); read-only INFO, None when it is not there."""
    import redis

    with contextlib.suppress(Exception), redis.Redis(*SHARED_REDIS, socket_timeout=2, socket_connect_timeout=2) as r:
        return r.info("server")["run_id"]
    return None


def _shared_pg_identity() -> str | None:
    """The shared PostgreSQL's postmaster start time when we may connect (read-only), else whether it listens."""
    import psycopg

    if not _tcp_open(SHARED_PG):
        return None
    dsn = f"postgresql://postgres@{SHARED_PG[0]}:{SHARED_PG[1]}/postgres"
    with contextlib.suppress(psycopg.Error), psycopg.connect(dsn, connect_timeout=2) as conn:
        return str(conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0])
    return "listening"


def test_execute_runs_on_a_worker_against_the_vendor(stack) -> None:
    stack.reset_vendor()
    connector_id = stack.create_stripe_connector(name="Stripe smoke")

    response = stack.execute(connector_id, "customers", "list")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert [c["id"] for c in body["result"]] == [c["id"] for c in STRIPE_CUSTOMERS]
    calls = stack.vendor.requests_to("/v1/customers", "GET")
    assert len(calls) == 1
    assert calls[0].header("Authorization") == f"Bearer {STRIPE_KEY}"
    # It ran on one of the private stack's workers, not in the web process.
    execution_id = body["execution_metadata"]["execution_id"]
    assert any(execution_id in log for log in stack.workers.logs())
    assert stack.redis.llen("celery") == 0


def test_private_postgres_and_redis_restart_without_touching_shared_ones(stack) -> None:
    shared_pg, shared_redis = _shared_pg_identity(), _shared_redis_run_id()
    assert stack.pg.port != SHARED_PG[1] and stack.redis.port != SHARED_REDIS[1]

    pg_port = stack.pg.port
    stack.pg.stop()
    assert not stack.pg.is_up() and stack.pg.postmaster_pid() is None
    stack.pg.stop()  # idempotent
    stack.pg.start()
    stack.pg.start()  # idempotent
    assert stack.pg.is_up() and stack.pg.port == pg_port
    stack.pg.kill()  # a crash: the postmaster is SIGKILLed, its backends exit on their own
    assert not stack.pg.is_up()
    stack.pg.start()  # crash recovery on the same data directory
    assert stack.pg.is_up()

    redis_port = stack.redis.port
    stack.redis.stop()
    assert not stack.redis.is_up()
    stack.redis.stop()  # idempotent
    stack.redis.start()
    stack.redis.start()  # idempotent
    assert stack.redis.is_up() and stack.redis.port == redis_port
    stack.redis.kill()
    assert not stack.redis.is_up()
    stack.redis.start()
    assert stack.redis.is_up() and stack.redis.llen() == 0

    # The shared instances are exactly as they were: same processes (same start time / run_id), or still absent.
    assert _shared_pg_identity() == shared_pg
    assert _shared_redis_run_id() == shared_redis

    # No restart of gunicorn or the workers: they recover by themselves (docs/reliability.md).
    stack.reset_vendor()
    connector_id = stack.create_stripe_connector(name="Stripe after restarts")
    response = stack.execute(connector_id, "customers", "list")
    assert response.status_code == 200, response.text
    assert len(stack.vendor.requests_to("/v1/customers")) == 1

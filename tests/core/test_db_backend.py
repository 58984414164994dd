"""core.postgresql: a reused connection is checked by reading its socket, not by a SELECT 1 round trip, and a
connection whose server went away is still found and replaced."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(require_postgres):
    """A connection of its own (the test's own sits inside its transaction), closed after."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def test_the_backend_is_ours_on_postgresql(require_postgres) -> None:
    assert type(connections["default"]).__module__ == "core.postgresql.base"


def test_a_healthy_connection_is_reused_without_a_round_trip(fresh, monkeypatch) -> None:
    asked: list[object] = []
    monkeypatch.setattr(PostgreSQLDatabaseWrapper, "is_usable", lambda self: asked.append(self) or True)
    pid = fresh.connection.info.backend_pid
    fresh.health_check_done = False  # what the start of a request or task does
    fresh.close_if_health_check_failed()
    assert asked == [] and fresh.connection is not None
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid  # the same server process: not reconnected


def test_a_connection_whose_server_went_away_is_replaced(fresh, require_postgres) -> None:
    old_pid = fresh.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    deadline = time.monotonic() + 5
    while not select.select([fresh.connection.fileno()], [], [], 0.05)[0] and time.monotonic() < deadline:
        pass  # the server's farewell reaches the socket
    fresh.health_check_done = False
    fresh.close_if_health_check_failed()
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid

"""Django's PostgreSQL backend, with a cheaper check of a reused connection.

CONN_HEALTH_CHECKS has Django run ``SELECT 1`` before the first query of every request (and, through
config/celery_app.py, every task) on a reused connection: one more round trip, and one more statement for the server,
per execute. A connection whose server went away (a restart, ``pg_terminate_backend``, an idle timeout) always has
something waiting on its socket: the server's farewell error or the end of the stream. So a socket with nothing to
read is usable without asking; one with anything to read gets Django's own check, which fails on a dead server and
the connection is replaced, as before. A link that died without a word (a cable pulled, no FIN) is found by the next
real query instead, which the outage handling answers with 503 like any database failure mid-request."""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        if readable:  # something arrived unasked: let the server answer properly
            return super().is_usable()
        return True

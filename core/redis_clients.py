"""One Redis client per URL per process, shared by every thread (each client keeps its own connection pool).

The timeouts are short enough that a Redis that stops answering fails a call in seconds, and long enough for a
blocking read of up to a second (connectors/executions/completion.py)."""

from __future__ import annotations

from typing import Any

_clients: dict[str, Any] = {}


def redis_client(url: str) -> Any:
    import redis

    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return client

"""Fixed-window rate limits for the hosted connect page, counted in the cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.cache import cache

logger = logging.getLogger("patchbay.connect")


def parse_rule(rule: str) -> tuple[int, int]:
    """`"30/600"`: 30 hits per 600 seconds."""
    count, _, seconds = rule.partition("/")
    return max(int(count), 1), max(int(seconds or 60), 1)


def hit(scope: str, key: str, rule: str) -> int | None:
    """Count one hit against `rule`; the seconds until the window reopens when over the limit, else None.

    A cache outage fails open (logged): an unreachable Redis must not lock end users out of connecting.
    """
    limit, window = parse_rule(rule)
    now = time.time()
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"connect-rl:{scope}:{digest}:{int(now // window)}"
    try:
        cache.add(cache_key, 0, timeout=window + 5)
        count = cache.incr(cache_key)
    except Exception:  # noqa: BLE001 - any cache failure: count nothing, let the request through
        logger.warning("Rate limit counter unavailable for %s; not limiting", scope)
        return None
    if count > limit:
        return max(int(window - now % window), 1)
    return None

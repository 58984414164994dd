"""Retries: which failures are worth another attempt, how long to wait, and the budget that bounds it all.

429, 5xx and connection errors are retried with exponential backoff and full jitter, honouring `Retry-After` and the
manifest's rate-limit reset header; at most `max_attempts` attempts and `max_retry_seconds` of sleep in all. A wait
the vendor asks for that does not fit the remaining budget ends the call at once (the caller gets `retry_after`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from connectors.catalog.manifest import RateLimit

from .http import failed_before_sending, parse_reset, parse_retry_after

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Exponential backoff with full jitter (attempt 1 is the first retry)."""
    return random.uniform(0, min(cap, base * (2 ** (attempt - 1))))


def wait_hint(headers: Any, rate_limit: RateLimit, *, rate_limited: bool) -> float | None:
    """Seconds the vendor asks us to wait: `Retry-After`, else (when rate limited) the manifest's reset header."""
    hint = parse_retry_after(headers.get("Retry-After"))
    if rate_limited and hint is None and rate_limit.reset_header:
        hint = parse_reset(headers.get(rate_limit.reset_header), rate_limit.reset_format)
    return hint


def retryable_answer(code: str, *, status: int, hint: float | None, idempotent: bool) -> bool:
    """Whether an error answer may be tried again: a 429 or a rate limit with a wait, a 5xx when sending twice is
    harmless (or a 503, which means the request was not processed)."""
    if code == "rate_limited":
        return status == 429 or hint is not None
    if code == "upstream_error":
        return idempotent or status == 503
    return False


def retryable_exception(exc: requests.RequestException, *, idempotent: bool) -> bool:
    """A timeout only when the request never left (it may have been processed); other network errors when the call
    is idempotent or never reached the server."""
    if isinstance(exc, requests.Timeout):
        return failed_before_sending(exc)
    return idempotent or failed_before_sending(exc)


@dataclass
class RetryBudget:
    """Attempts made and time slept for one operation, against its limits."""

    max_attempts: int
    max_seconds: float
    sleep: Callable[[float], Any]
    attempts: int = 0
    slept: float = 0.0

    def start_attempt(self) -> None:
        self.attempts += 1

    @property
    def attempts_left(self) -> bool:
        return self.attempts < max(1, self.max_attempts)

    def back_off(self) -> bool:
        """Sleep a jittered backoff, cut to what is left of the budget. False, without sleeping, when none is left."""
        remaining = self.max_seconds - self.slept
        if remaining <= 0:
            return False
        delay = min(backoff_delay(self.attempts), remaining)
        self.sleep(delay)
        self.slept += delay
        return True

    def wait(self, seconds: float) -> bool:
        """Sleep the wait the vendor asked for. False, without sleeping, when it does not fit the budget."""
        if self.slept + seconds > self.max_seconds:
            return False
        self.sleep(seconds)
        self.slept += seconds
        return True

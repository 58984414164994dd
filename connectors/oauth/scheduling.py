"""Which connectors are due for a token refresh or a credentials re-check (read-only queries for beat).

Refreshes are scheduled from each token's expiry: beat asks, via the index on token_expires_at, for the tokens
that expire within the refresh margin plus two sweep intervals, and queues them in batches (tasks.py). Nothing
else is read.
(Per-token Celery ETA tasks were the alternative; workers hold those in memory and Redis redelivers them after
its visibility timeout, so long ETAs are a known Celery trap.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connectors.catalog import manifest_for
from connectors.models import Connector, ConnectorStatus

REQUEUE_AFTER = timedelta(minutes=5)


def due_for_refresh(*, limit: int = 5000) -> list[Any]:
    now = timezone.now()
    window = timedelta(seconds=2 * settings.PATCHBAY_REFRESH_SWEEP_SECONDS)
    horizon = now + timedelta(seconds=settings.PATCHBAY_TOKEN_REFRESH_MARGIN_SECONDS) + window
    return list(
        Connector.objects.filter(token_expires_at__isnull=False, token_expires_at__lte=horizon)
        .exclude(status=ConnectorStatus.NEEDS_REAUTH)
        .filter(Q(refresh_cooldown_until__isnull=True) | Q(refresh_cooldown_until__lte=now))
        .filter(Q(refresh_queued_at__isnull=True) | Q(refresh_queued_at__lte=now - REQUEUE_AFTER))
        .order_by("token_expires_at")
        .values_list("pk", flat=True)[:limit]
    )


def claim_due_refreshes(*, limit: int = 5000) -> list[Any]:
    """Due connectors, marked as queued in the same statement so the next sweep does not queue them again
    (a lost task is re-queued after REQUEUE_AFTER)."""
    ids = due_for_refresh(limit=limit)
    if ids:
        Connector.objects.filter(pk__in=ids).update(refresh_queued_at=timezone.now())
    return ids


def due_for_check(*, limit: int = 1000) -> list[Any]:
    """API-token connectors not checked within PATCHBAY_CREDENTIAL_CHECK_INTERVAL_HOURS."""
    cutoff = timezone.now() - timedelta(hours=settings.PATCHBAY_CREDENTIAL_CHECK_INTERVAL_HOURS)
    qs = (
        Connector.objects.filter(token_expires_at__isnull=True)
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=cutoff))
        .exclude(status=ConnectorStatus.NEEDS_REAUTH)
        .select_related("definition")
        .order_by("last_checked_at")
    )
    ids = []
    for connector in qs[: limit * 2]:
        manifest = manifest_for(connector.definition)
        scheme = manifest.find_scheme(connector.auth_scheme)
        if scheme and not scheme.is_oauth and manifest.check:
            ids.append(connector.pk)
        if len(ids) >= limit:
            break
    return ids

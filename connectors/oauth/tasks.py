"""Thin Celery tasks for OAuth tokens: refresh ahead of expiry, queued by beat through an indexed range query."""

from __future__ import annotations

from celery import shared_task

from core.errors import TokenUnavailable

from ..models import Connector


@shared_task(
    name="connectors.refresh_token",
    acks_late=True,
    max_retries=3,
    default_retry_delay=30,
    soft_time_limit=60,
    time_limit=90,
)
def refresh_token_task(connector_id: str) -> str:
    """Refresh ahead of expiry. Harmless when duplicated: the lock + re-read turns extra runs into no-ops."""
    from .tokens import refresh_token

    if not Connector.objects.filter(pk=connector_id).exists():
        return "gone"
    try:
        refresh_token(connector_id=connector_id)
    except TokenUnavailable as exc:
        return exc.code
    return "ok"


@shared_task(name="connectors.enqueue_due_refreshes", max_retries=0, soft_time_limit=120, time_limit=150)
def enqueue_due_refreshes_task() -> int:
    """Queue a refresh for every token expiring soon: an indexed range query on token_expires_at, not a scan."""
    from .scheduling import claim_due_refreshes

    ids = claim_due_refreshes()
    for connector_id in ids:
        refresh_token_task.delay(str(connector_id))
    return len(ids)

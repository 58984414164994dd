"""Thin Celery tasks: they take ids, load, and call a service. Nothing secret travels in a message."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError


@shared_task(
    name="connectors.run_execution",
    acks_late=True,
    # The database went away before the run was claimed: try again with backoff; the row is still pending.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_execution_task(execution_id: str) -> str:
    from .execution import run_execution

    run_execution(execution_id)
    return execution_id


@shared_task(name="connectors.sweep_executions", max_retries=0, soft_time_limit=120, time_limit=150)
def sweep_executions_task() -> dict[str, int]:
    from .execution import sweep_executions

    return sweep_executions()


@shared_task(name="connectors.prune_executions", max_retries=0, soft_time_limit=600, time_limit=660)
def prune_executions_task() -> int:
    from .execution import prune_executions

    return prune_executions()


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
    from .models import Connector
    from .oauth.errors import TokenUnavailable
    from .oauth.tokens import refresh_token

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
    from .oauth.scheduling import claim_due_refreshes

    ids = claim_due_refreshes()
    for connector_id in ids:
        refresh_token_task.delay(str(connector_id))
    return len(ids)


@shared_task(name="connectors.recheck_credentials", max_retries=0, soft_time_limit=600, time_limit=660)
def recheck_credentials_task() -> int:
    from .oauth.scheduling import due_for_check

    ids = due_for_check()
    for connector_id in ids:
        check_connector_task.delay(str(connector_id))
    return len(ids)


@shared_task(name="connectors.check_connector", max_retries=0, soft_time_limit=120, time_limit=150)
def check_connector_task(connector_id: str) -> bool:
    from workspaces.services import Actor

    from .execution import check_credentials
    from .models import Connector

    connector = Connector.objects.select_related("definition", "workspace").filter(pk=connector_id).first()
    if connector is None:
        return False
    return check_credentials(connector=connector, actor=Actor.system()).ok

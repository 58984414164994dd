"""Thin Celery tasks for executions: they take ids and call a service (imported inside, the one allowed cycle).
Nothing secret travels in a message."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from workspaces.services import Actor

from ..models import Connector


@shared_task(
    name="connectors.run_execution",
    acks_late=True,
    # The record is the result; a waiting caller is woken by completion.signal_finished, not the result backend.
    ignore_result=True,
    # The database went away before the run was claimed: try again with backoff; the row is still pending.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_execution_task(execution_id: str) -> str:
    from .services import run_execution

    run_execution(execution_id)
    return execution_id


@shared_task(name="connectors.sweep_executions", max_retries=0, soft_time_limit=120, time_limit=150)
def sweep_executions_task() -> dict[str, int]:
    from .recovery import sweep_executions

    return sweep_executions()


@shared_task(name="connectors.prune_executions", max_retries=0, soft_time_limit=600, time_limit=660)
def prune_executions_task() -> int:
    from .services import prune_executions

    return prune_executions()


@shared_task(name="connectors.recheck_credentials", max_retries=0, soft_time_limit=600, time_limit=660)
def recheck_credentials_task() -> int:
    """Check API-token connectors whose last check is old (OAuth ones prove themselves on refresh)."""
    from ..oauth.scheduling import due_for_check

    ids = due_for_check()
    for connector_id in ids:
        check_connector_task.delay(str(connector_id))
    return len(ids)


@shared_task(name="connectors.check_connector", max_retries=0, soft_time_limit=120, time_limit=150)
def check_connector_task(connector_id: str) -> bool:
    from .services import check_credentials

    connector = Connector.objects.select_related("definition", "workspace").filter(pk=connector_id).first()
    if connector is None:
        return False
    return check_credentials(connector=connector, actor=Actor.system()).ok

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("patchbay")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live beside the services they call: connectors/executions/tasks.py and connectors/oauth/tasks.py.
app.autodiscover_tasks(["connectors.executions", "connectors.oauth", "webhooks"])


@task_prerun.connect
@task_postrun.connect
def _db_connections_as_in_a_request(task: Any = None, **_kwargs: Any) -> None:
    """What Django's request cycle does around each view: drop a connection that broke (a PostgreSQL restart)
    or outlived CONN_MAX_AGE, and health-check the next one, so workers recover by themselves.
    Not for in-process (eager) runs: they share the caller's connection and maybe its transaction."""
    if task is not None and task.request.is_eager:
        return
    close_old_connections()

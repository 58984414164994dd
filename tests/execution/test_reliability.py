"""No execution is lost or stuck: the sweeper, redelivery after a worker death, broker outages at dispatch.

These run in one process against a loopback Stripe; tests/faults/ proves the same with real PostgreSQL, Redis,
gunicorn and worker processes being stopped and killed.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from config.celery_app import app as celery_app
from connectors import crypto
from connectors.executions.recovery import sweep_executions
from connectors.executions.services import run_execution
from connectors.models import Connector, Execution, ExecutionStatus
from connectors.rotation import SECRET_COLUMNS
from tests.factories import ConnectorFactory

BASE = "/api/v1/integrations/connectors"
pytestmark = pytest.mark.django_db


@pytest.fixture
def stub(httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    httpserver.expect_request("/v1/customers").respond_with_json({"object": "list", "data": [], "has_more": False})
    httpserver.expect_request("/v1/customers", method="POST").respond_with_json({"id": "cus_new"})
    return httpserver


@pytest.fixture
def connector(workspace):
    return ConnectorFactory(workspace=workspace, credentials={"api_key": "sk_test_reliability"})


def queued(connector: Connector, *, action: str = "list", params: dict | None = None, **fields) -> Execution:
    """An execution as the API leaves it for a worker: pending, with its encrypted parameters."""
    params = params if params is not None else {}
    defaults = {
        "status": ExecutionStatus.PENDING,
        "dispatched_at": timezone.now(),
        "deadline_at": timezone.now() + timedelta(minutes=15),
    }
    return Execution.objects.create(
        workspace=connector.workspace,
        connector=connector,
        entity="customers",
        action=action,
        params=params,
        params_encrypted=crypto.encrypt_json(params),
        **{**defaults, **fields},
    )


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_pending_past_its_deadline_fails_clearly(api, connector, stub):
    execution = queued(connector, deadline_at=timezone.now() - timedelta(seconds=1))
    assert sweep_executions() == {"failed": 1}
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.ERROR
    assert execution.error_code == "deadline_exceeded"
    assert execution.params_encrypted == ""
    response = api.get(f"/api/v1/integrations/executions/{execution.pk}")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error_code"] == "deadline_exceeded"
    assert stub.log == []


def test_a_pending_execution_whose_message_was_lost_is_sent_again(connector, stub, settings):
    never_sent = queued(connector, dispatched_at=None)
    sent_long_ago = queued(
        connector, dispatched_at=timezone.now() - timedelta(seconds=settings.PATCHBAY_REDISPATCH_AFTER_SECONDS + 1)
    )
    just_sent = queued(connector)
    report = sweep_executions()
    assert report == {"redispatched": 2}
    for execution in (never_sent, sent_long_ago):
        execution.refresh_from_db()
        assert execution.status == ExecutionStatus.SUCCESS
        assert execution.run_count == 1
    just_sent.refresh_from_db()
    assert just_sent.status == ExecutionStatus.PENDING  # its message is probably still in the queue


def test_a_read_whose_worker_died_runs_again(connector, stub, settings):
    started = timezone.now() - timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS + 1)
    execution = queued(connector, status=ExecutionStatus.RUNNING, started_at=started, runner="gone:1", run_count=1)
    report = sweep_executions()
    assert report == {"rerun": 1, "redispatched": 1}
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS
    assert execution.run_count == 2
    assert len(stub.log) == 1


def test_a_write_whose_worker_died_is_never_run_twice(connector, stub, settings):
    started = timezone.now() - timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS + 1)
    execution = queued(
        connector,
        action="create",
        params={"email": "a@example.com"},
        status=ExecutionStatus.RUNNING,
        started_at=started,
        runner="gone:1",
        run_count=1,
    )
    assert sweep_executions() == {"failed": 1}
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.ERROR
    assert execution.error_code == "worker_lost"
    assert "may have reached Stripe" in execution.error_message
    assert stub.log == []


def test_a_redelivered_task_after_the_worker_process_died_finishes_the_execution(connector, stub):
    host = socket.gethostname()
    read = queued(connector, status=ExecutionStatus.RUNNING, started_at=timezone.now(), runner=f"{host}:{dead_pid()}")
    write = queued(
        connector,
        action="create",
        params={"email": "a@example.com"},
        status=ExecutionStatus.RUNNING,
        started_at=timezone.now(),
        runner=f"{host}:{dead_pid()}",
    )
    run_execution(str(read.pk))
    run_execution(str(write.pk))
    read.refresh_from_db()
    write.refresh_from_db()
    assert read.status == ExecutionStatus.SUCCESS
    assert (write.status, write.error_code) == (ExecutionStatus.ERROR, "worker_lost")
    assert [entry[0].method for entry in stub.log] == ["GET"]


def test_a_duplicate_delivery_while_the_run_is_alive_does_nothing(connector, stub):
    alive = queued(
        connector,
        status=ExecutionStatus.RUNNING,
        started_at=timezone.now(),
        runner=f"{socket.gethostname()}:{os.getpid()}",
    )
    run_execution(str(alive.pk))
    alive.refresh_from_db()
    assert alive.status == ExecutionStatus.RUNNING
    assert stub.log == []


def test_a_read_that_keeps_killing_its_worker_stops_being_retried(connector, stub, settings):
    started = timezone.now() - timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS + 1)
    execution = queued(connector, status=ExecutionStatus.RUNNING, started_at=started, runner="gone:1", run_count=3)
    assert sweep_executions() == {"failed": 1}
    execution.refresh_from_db()
    assert execution.error_code == "worker_lost"
    assert "3 times" in execution.error_message


def test_nothing_is_left_pending_or_running_after_a_sweep_past_every_bound(connector, stub, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.PATCHBAY_EXECUTION_DEADLINE_SECONDS + 1)
    queued(connector, dispatched_at=None)
    queued(connector, deadline_at=long_ago)
    queued(connector, status=ExecutionStatus.RUNNING, started_at=long_ago, runner="gone:1")
    queued(connector, action="create", params={"email": "a@b.c"}, status=ExecutionStatus.RUNNING, started_at=long_ago)
    sweep_executions()
    sweep_executions()
    assert not Execution.objects.filter(status__in=[ExecutionStatus.PENDING, ExecutionStatus.RUNNING]).exists()


# --- Broker outages at dispatch ---------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_down(settings):
    """Tasks go to a broker that is not there (a closed loopback port), as in production with Redis down."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    # Read before changing settings: Celery loads its configuration from them lazily, on first access.
    old = (celery_app.conf.task_always_eager, celery_app.conf.broker_url, celery_app.conf.result_backend)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url
    celery_app.conf.result_backend = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield url
    celery_app.conf.task_always_eager, celery_app.conf.broker_url, celery_app.conf.result_backend = old
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    settings.CELERY_TASK_ALWAYS_EAGER = True


# transactional_db: the API runs in autocommit, so the task is sent (and fails) right after the row is committed.
def test_a_broker_outage_at_dispatch_answers_503_and_the_sweeper_runs_it_later(
    transactional_db, api, connector, stub, broker_down
):
    body = {"entity": "customers", "action": "list", "params": {}}
    response = api.post(f"{BASE}/{connector.pk}/execute", body)
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    answer = response.json()
    assert answer["status"] == "pending"
    execution = Execution.objects.get(pk=answer["execution_id"])
    assert (execution.status, execution.dispatched_at) == (ExecutionStatus.PENDING, None)
    assert "poll" in answer["message"]

    # Still down: the sweeper keeps it and tries again next time.
    assert sweep_executions() == {"dispatch_failed": 1}
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.PENDING

    # The broker is back (in-process here): the next sweep runs it.
    celery_app.conf.task_always_eager = True
    assert sweep_executions() == {"redispatched": 1}
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS
    assert len(stub.log) == 1


def test_async_execute_also_answers_503_when_the_broker_is_down(transactional_db, api, connector, stub, broker_down):
    response = api.post(f"{BASE}/{connector.pk}/execute", {"entity": "customers", "action": "list", "async": True})
    assert response.status_code == 503
    assert Execution.objects.get(pk=response.json()["execution_id"]).status == ExecutionStatus.PENDING


# --- Probes and outage answers ----------------------------------------------------------------------------------


def test_healthz_and_readyz(client, broker_down, settings):
    assert client.get("/healthz").status_code == 200
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down["Retry-After"]
    assert down.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}}


def test_readyz_in_process(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "in-process"}


def test_a_database_outage_is_a_503_on_the_api_and_the_dashboard(api, connector, client, user, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("connectors.api.selectors.connector_get", unreachable)
    response = api.get(f"{BASE}/{connector.pk}")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["message"].startswith("Patchbay's database is unavailable")

    client.force_login(user)
    monkeypatch.setattr("dashboard.views.connectors.connector_table", unreachable)
    page = client.get(f"/w/{connector.workspace.slug}/")
    assert page.status_code == 503
    assert page["Retry-After"]
    assert b"Temporarily unavailable" in page.content


# --- Rotation ---------------------------------------------------------------------------------------------------


def test_rotation_covers_every_encrypted_column():
    from django.apps import apps

    encrypted = {
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.name.endswith("_encrypted")
    }
    assert encrypted == {(model, column) for model, column, _ in SECRET_COLUMNS}


def test_queued_parameters_survive_the_old_key_being_retired(connector, stub, settings):
    old = settings.PATCHBAY_ENCRYPTION_KEYS[0]
    execution = queued(connector, params={"limit": 3})
    new = Fernet.generate_key().decode()
    settings.PATCHBAY_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_key", stdout=io.StringIO())
    settings.PATCHBAY_ENCRYPTION_KEYS = [new]
    run_execution(str(execution.pk))
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS, execution.error_message
    assert stub.log[-1][0].args["limit"] == "3"


def test_an_execution_deleted_while_it_ran_ends_the_run_quietly(connector, stub, caplog, monkeypatch):
    from connectors.executions import services

    execution = queued(connector)
    perform = services._perform

    def perform_then_lose_the_row(*args, **kwargs):
        fields = perform(*args, **kwargs)
        Execution.objects.filter(pk=execution.pk).delete()  # pruned, or its workspace deleted, mid-run
        return fields

    monkeypatch.setattr(services, "_perform", perform_then_lose_the_row)
    with caplog.at_level(logging.WARNING, logger="patchbay.execution"):
        run_execution(str(execution.pk))  # no exception for Celery to retry or report
    assert len(stub.log) == 1
    assert "was deleted before its outcome was written" in caplog.text
    assert not Execution.objects.filter(pk=execution.pk).exists()

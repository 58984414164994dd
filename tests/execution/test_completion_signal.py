"""A caller waiting on a queued execution is woken by the worker's signal on Redis (connectors/executions/
completion.py), and still gets the outcome when no signal comes: Redis down, or a run ended without one. The
real-worker case is in test_execute_api.py (test_execute_on_a_real_celery_worker)."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from django.db import close_old_connections
from django.utils import timezone

from config.celery_app import app as celery_app
from connectors.executions import completion
from connectors.executions.services import execution_wait
from connectors.models import Execution, ExecutionStatus
from tests.factories import ConnectorFactory
from tests.faults.harness import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(require_redis):
    """The Celery app's broker pointed at the shared Redis for the test (the signal travels on the broker's Redis)."""
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = require_redis
    yield redis.Redis.from_url(require_redis)
    celery_app.conf.broker_url = old


def _pending(workspace) -> Execution:
    execution = Execution.objects.create(
        workspace=workspace,
        connector=ConnectorFactory(workspace=workspace),
        entity="customers",
        action="list",
        status=ExecutionStatus.PENDING,
    )
    execution._dispatched = True  # as dispatch_after_commit leaves it after a send the broker took
    return execution


def _finish_later(execution_id, *, signal: bool, delay: float = 0.2) -> threading.Thread:
    """Another process's worker, as far as the waiter can tell: commits the outcome, then (maybe) signals."""

    def finish() -> None:
        time.sleep(delay)
        Execution.objects.filter(pk=execution_id).update(status=ExecutionStatus.SUCCESS, finished_at=timezone.now())
        if signal:
            completion.signal_finished(execution_id)
        close_old_connections()

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_a_signal_wakes_only_its_own_execution_and_only_once(broker):
    completion.signal_finished("exec-a")
    assert 0 < broker.ttl("patchbay:execution-done:exec-a") <= completion.SIGNAL_TTL_SECONDS
    assert completion.wait_finished("exec-b", 0.05) is False
    assert completion.wait_finished("exec-a", 1) is True
    assert completion.wait_finished("exec-a", 0.05) is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signal", [True, False], ids=["signalled", "never-signalled"])
def test_the_caller_reads_the_outcome_the_worker_commits(workspace, broker, signal):
    execution = _pending(workspace)
    thread = _finish_later(execution.pk, signal=signal)
    began = time.monotonic()
    finished = execution_wait(execution, timeout=20)
    waited = time.monotonic() - began
    thread.join()
    assert finished.status == ExecutionStatus.SUCCESS
    # Not a speed figure: without a signal the outcome is still read after a wait slice (a second), where a
    # caller left until the timeout would get a 202 and have to poll.
    assert waited < 10


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_caller_polls_the_record(workspace):
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    try:
        completion.signal_finished("exec-x")  # never raises: the signal is only a hint
        assert completion.wait_finished("exec-x", 0.5) is None
        execution = _pending(workspace)
        thread = _finish_later(execution.pk, signal=True)
        finished = execution_wait(execution, timeout=10)
        thread.join()
    finally:
        celery_app.conf.broker_url = old
    assert finished.status == ExecutionStatus.SUCCESS


def test_in_process_tasks_need_no_signal(settings):
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = "memory://"
    try:
        assert completion.wait_finished("exec-y", 0.5) is None
        completion.signal_finished("exec-y")
    finally:
        celery_app.conf.broker_url = old

"""Operator metrics at /metrics (connectors/metrics.py, config/metrics_view.py) and the JSON log format."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import socket
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from connectors import metrics
from connectors.models import Execution, ExecutionStatus
from tests.factories import ConnectorFactory

TOKEN = "metrics-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def metrics_on(settings):
    settings.PATCHBAY_METRICS_TOKEN = TOKEN
    return settings


def scrape(client: Client | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics with the token; every sample as {(name, sorted labels): value}."""
    response = (client or Client()).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The endpoint ------------------------------------------------------------------------------------------------


def test_metrics_are_off_without_a_token(settings):
    settings.PATCHBAY_METRICS_TOKEN = ""
    response = Client().get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": []}


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x", "Bearer é"]
)
def test_a_missing_or_wrong_token_is_a_401(metrics_on, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"] == [] and response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"patchbay_" not in response.content


@pytest.mark.django_db
def test_the_right_token_gets_the_exposition(metrics_on):
    response = Client().get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "patchbay_executions",
        "patchbay_execution_duration_seconds",
        "patchbay_token_refreshes",
        "patchbay_queue_depth",
        "patchbay_broker_up",
        "patchbay_stale_executions",
        "patchbay_executions_in_flight",
        "patchbay_database_up",
    } <= names


def test_only_get(metrics_on):
    response = Client().post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405 and response["Allow"] == "GET"


# --- Event metrics -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_execution_and_record_refresh_move_the_counters(metrics_on):
    kind = f"test-{uuid.uuid4().hex[:8]}"
    metrics.record_execution(connector_type=kind, outcome="success", duration_seconds=0.2)
    metrics.record_execution(connector_type=kind, outcome="success", duration_seconds=3.0)
    metrics.record_execution(connector_type=kind, outcome="rate_limited", duration_seconds=None)
    refresh_outcome = f"invalid_grant_{uuid.uuid4().hex[:8]}"
    metrics.record_refresh(outcome=refresh_outcome)
    metrics.record_refresh(outcome=refresh_outcome)

    samples = scrape()
    ct = ("connector_type", kind)
    assert samples[("patchbay_executions_total", (ct, ("outcome", "success")))] == 2
    assert samples[("patchbay_executions_total", (ct, ("outcome", "rate_limited")))] == 1
    # The run without a duration is counted, not timed.
    assert samples[("patchbay_execution_duration_seconds_count", (ct,))] == 2
    assert samples[("patchbay_execution_duration_seconds_sum", (ct,))] == pytest.approx(3.2)
    assert samples[("patchbay_execution_duration_seconds_bucket", (ct, ("le", "0.25")))] == 1
    assert samples[("patchbay_execution_duration_seconds_bucket", (ct, ("le", "5.0")))] == 2
    assert samples[("patchbay_execution_duration_seconds_bucket", (ct, ("le", "+Inf")))] == 2
    assert samples[("patchbay_token_refreshes_total", (("outcome", refresh_outcome),))] == 2


def test_recording_never_raises(monkeypatch, caplog):
    def broken(**labels):
        raise RuntimeError("metrics store is gone")

    monkeypatch.setattr(metrics.EXECUTIONS, "labels", broken)
    monkeypatch.setattr(metrics.TOKEN_REFRESHES, "labels", broken)
    with caplog.at_level(logging.DEBUG, logger="connectors.metrics"):
        metrics.record_execution(connector_type="stripe", outcome="success", duration_seconds=0.1)
        metrics.record_refresh(outcome="ok")
    assert "could not record" in caplog.text


def test_odd_values_are_recorded_without_raising():
    kind = f"odd-{uuid.uuid4().hex[:8]}"
    before = metrics.EXECUTION_DURATION.labels(connector_type=kind)._sum.get()
    for duration in (float("nan"), float("inf"), -1.0, "not a number"):
        metrics.record_execution(connector_type=kind, outcome="", duration_seconds=duration)  # type: ignore[arg-type]
    assert metrics.EXECUTIONS.labels(connector_type=kind, outcome="unknown")._value.get() == 4
    assert metrics.EXECUTION_DURATION.labels(connector_type=kind)._sum.get() == before == 0


# --- State gauges ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_in_flight_and_stale_executions(metrics_on, workspace):
    metrics_on.PATCHBAY_EXECUTION_DEADLINE_SECONDS = 900
    connector = ConnectorFactory(workspace=workspace)

    def make(status: str, age_seconds: int) -> None:
        execution = Execution.objects.create(
            workspace=workspace, connector=connector, entity="customers", action="list", status=status
        )
        Execution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - timedelta(seconds=age_seconds))

    make(ExecutionStatus.PENDING, 2000)
    make(ExecutionStatus.PENDING, 901)
    make(ExecutionStatus.RUNNING, 5000)
    make(ExecutionStatus.PENDING, 10)  # recent: in flight, not stale
    make(ExecutionStatus.RUNNING, 60)
    make(ExecutionStatus.SUCCESS, 5000)  # finished: neither
    make(ExecutionStatus.ERROR, 5000)

    samples = scrape()
    assert samples[("patchbay_database_up", ())] == 1
    assert samples[("patchbay_stale_executions", ())] == 3
    assert samples[("patchbay_executions_in_flight", (("status", "pending"),))] == 3
    assert samples[("patchbay_executions_in_flight", (("status", "running"),))] == 2

    metrics_on.PATCHBAY_EXECUTION_DEADLINE_SECONDS = 3000
    assert scrape()[("patchbay_stale_executions", ())] == 1


@pytest.mark.django_db
def test_no_executions_reads_zero(metrics_on):
    samples = scrape()
    assert samples[("patchbay_stale_executions", ())] == 0
    assert samples[("patchbay_executions_in_flight", (("status", "pending"),))] == 0
    assert samples[("patchbay_executions_in_flight", (("status", "running"),))] == 0


@pytest.mark.django_db
def test_a_database_outage_is_reported_not_a_failed_scrape(metrics_on, monkeypatch):
    def down(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(Execution.objects, "filter", down)
    samples = scrape()
    assert samples[("patchbay_database_up", ())] == 0
    assert not any(name in {"patchbay_stale_executions", "patchbay_executions_in_flight"} for name, _ in samples)


@pytest.mark.django_db
def test_queue_depth_is_zero_when_tasks_run_in_process(metrics_on):
    metrics_on.CELERY_TASK_ALWAYS_EAGER = True
    samples = scrape()
    assert samples[("patchbay_queue_depth", (("queue", "celery"),))] == 0
    assert samples[("patchbay_broker_up", ())] == 1


@pytest.mark.django_db
def test_queue_depth_is_read_from_redis(metrics_on, require_redis):
    import redis

    queue = f"patchbay-test-{uuid.uuid4().hex}"
    routed = f"{queue}-refreshes"
    metrics_on.CELERY_TASK_ALWAYS_EAGER = False
    metrics_on.CELERY_BROKER_URL = require_redis
    metrics_on.CELERY_TASK_DEFAULT_QUEUE = queue
    metrics_on.CELERY_TASK_ROUTES = {"connectors.refresh_token": {"queue": routed}}
    client = redis.Redis.from_url(require_redis)
    keys = [queue, f"{queue}\x06\x163", routed]
    try:
        client.rpush(queue, "a", "b", "c")
        client.rpush(f"{queue}\x06\x163", "d")  # a message sent with a priority: kombu's sibling list
        client.rpush(routed, "e", "f")
        samples = scrape()
        assert samples[("patchbay_broker_up", ())] == 1
        assert samples[("patchbay_queue_depth", (("queue", queue),))] == 4
        assert samples[("patchbay_queue_depth", (("queue", routed),))] == 2
        client.lpop(queue)
        assert scrape()[("patchbay_queue_depth", (("queue", queue),))] == 3
    finally:
        client.delete(*keys)
        client.close()


@pytest.mark.django_db
def test_an_unreachable_broker_is_reported_not_a_failed_scrape(metrics_on):
    metrics_on.CELERY_TASK_ALWAYS_EAGER = False
    metrics_on.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    samples = scrape()
    assert samples[("patchbay_broker_up", ())] == 0
    assert not any(name == "patchbay_queue_depth" for name, _ in samples)
    assert samples[("patchbay_database_up", ())] == 1


# --- Multiprocess mode -------------------------------------------------------------------------------------------

RECORD = """
import django
django.setup()
from connectors.metrics import record_execution, record_refresh
record_execution(connector_type="stripe", outcome="success", duration_seconds=0.5)
record_execution(connector_type="stripe", outcome="worker_lost", duration_seconds=None)
record_refresh(outcome="ok")
"""

SCRAPE = """
import django
django.setup()
from django.test import Client
response = Client().get("/metrics", headers={"Authorization": "Bearer %s"})
assert response.status_code == 200, response.status_code
print(response.content.decode())
"""


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    """Two processes record (as two gunicorn or Celery workers would); a third answers the scrape with the sum."""
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        "PATCHBAY_METRICS_TOKEN": TOKEN,
        # A database of its own (no tables: the scrape reports patchbay_database_up 0 and still answers).
        "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
    }
    env.pop("REDIS_URL", None)

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run(RECORD)
    run(RECORD)
    assert any(multiproc_dir.iterdir()), "the recording processes wrote no metric files"
    samples = parse(run(SCRAPE % TOKEN))
    stripe = ("connector_type", "stripe")
    assert samples[("patchbay_executions_total", (stripe, ("outcome", "success")))] == 2
    assert samples[("patchbay_executions_total", (stripe, ("outcome", "worker_lost")))] == 2
    assert samples[("patchbay_execution_duration_seconds_count", (stripe,))] == 2
    assert samples[("patchbay_execution_duration_seconds_sum", (stripe,))] == pytest.approx(1.0)
    assert samples[("patchbay_token_refreshes_total", (("outcome", "ok"),))] == 2
    # The state gauges come from the scraping process, once, not from the files.
    assert samples[("patchbay_database_up", ())] == 0
    assert samples[("patchbay_queue_depth", (("queue", "celery"),))] == 0


# --- Logs --------------------------------------------------------------------------------------------------------


def test_the_json_formatter_writes_one_json_object_per_line():
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": django_settings.LOGGING["formatters"]["json"]},
        "handlers": {"memory": {"class": "logging.StreamHandler", "formatter": "json", "stream": io.StringIO()}},
        "loggers": {},
    }
    formatter = logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["json"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger(f"patchbay.test.{uuid.uuid4().hex}")
    log.propagate = False
    log.addHandler(handler)
    log.warning("execution %s failed", "abc", extra={"execution_id": "abc"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("with a traceback\nover lines")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == log.name
    assert first["message"] == "execution abc failed" and first["execution_id"] == "abc"
    assert first["timestamp"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc_info"]


def test_patchbay_log_format_json_switches_the_console_handler(tmp_path):
    code = "import django, logging; django.setup(); logging.getLogger('patchbay.demo').warning('hello')"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PATCHBAY_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stderr.strip().splitlines()[-1])
    assert {"timestamp", "level", "logger", "message"} <= record.keys()
    assert (record["level"], record["logger"], record["message"]) == ("WARNING", "patchbay.demo", "hello")

    env["PATCHBAY_LOG_FORMAT"] = "xml"
    refused = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "PATCHBAY_LOG_FORMAT" in refused.stderr

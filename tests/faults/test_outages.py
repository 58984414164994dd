"""Faults against the real thing: a private PostgreSQL and Redis stopped, killed and restarted, and Celery workers
SIGKILLed mid-request, under gunicorn with two worker processes and beat running the sweeper.

Every test asserts the end state of every execution it started: nothing pending or running once the sweeper's bound
has passed, and nothing that writes run twice. See docs/reliability.md.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import psycopg
import pytest
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook

from . import harness
from .conftest import STRIPE_KEY, Stack

PASSWORD = "correct horse battery staple"
LEASE = 8  # > the task hard time limit below, so a run older than this has certainly lost its worker


METRICS_TOKEN = "metrics-token-faults"


@pytest.fixture(scope="module")
def stack_extra_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {
        # gunicorn and both workers count into one directory; /metrics adds them up.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
        "PATCHBAY_METRICS_TOKEN": METRICS_TOKEN,
        "PATCHBAY_SWEEP_SECONDS": 1,
        "PATCHBAY_REDISPATCH_AFTER_SECONDS": 3,
        "PATCHBAY_EXECUTION_LEASE_SECONDS": LEASE,
        "CELERY_TASK_SOFT_TIME_LIMIT": 5,
        "CELERY_TASK_TIME_LIMIT": 6,
        "CELERY_VISIBILITY_TIMEOUT": 12,
        "PATCHBAY_EXECUTION_DEADLINE_SECONDS": 120,
        "PATCHBAY_EXECUTE_TIMEOUT": 15,
        "PATCHBAY_UPSTREAM_TIMEOUT": 4,
        "PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS": 2,
        # Webhook receivers here listen on loopback; a delivery whose worker died is sent again after 4 s.
        "PATCHBAY_WEBHOOKS_ALLOW_PRIVATE": "true",
        "PATCHBAY_WEBHOOK_LEASE_SECONDS": 4,
        "PATCHBAY_WEBHOOK_RETRY_SCHEDULE": "1,1,1",
    }


@pytest.fixture(scope="module")
def ops(stack: Stack) -> dict[str, Any]:
    """Beat (the sweeper), a Stripe connector and a dashboard user, once for the module."""
    stack.start_beat()
    stack.reset_vendor()
    env = {**stack.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    harness.manage(env, "createsuperuser", "--no-input", "--username", "ops", "--email", "ops@example.com")
    return {"connector": stack.create_stripe_connector(name="Stripe faults")}


@pytest.fixture(autouse=True)
def fresh_vendor(stack: Stack):
    stack.reset_vendor()
    yield
    stack.vendor.release()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def execution(stack: Stack, execution_id: str) -> dict[str, Any]:
    response = stack.api.get(f"/executions/{execution_id}")
    assert response.status_code not in (500, 404), response.text
    return response.json()


def finished(stack: Stack, ids: list[str], timeout: float = 45) -> dict[str, dict[str, Any]]:
    """Waits until every execution has an outcome; fails naming the ones still pending or running."""
    done: dict[str, dict[str, Any]] = {}

    def all_done() -> bool:
        for execution_id in ids:
            if execution_id not in done:
                body = execution(stack, execution_id)
                if body["status"] in ("success", "error"):
                    done[execution_id] = body
        return len(done) == len(ids)

    try:
        wait_until(all_done, timeout, "every execution to finish")
    except AssertionError:
        stuck = {i: execution(stack, i)["status"] for i in ids if i not in done}
        raise AssertionError(f"still unfinished after {timeout} s: {stuck}") from None
    return done


def db_row(stack: Stack, execution_id: str) -> dict[str, Any]:
    with psycopg.connect(stack.pg.dsn("patchbay"), connect_timeout=5) as conn:
        cursor = conn.execute(
            "SELECT status, runner, run_count, error_code FROM connectors_execution WHERE id = %s", (execution_id,)
        )
        status, runner, run_count, error_code = cursor.fetchone()
    return {"status": status, "runner": runner, "run_count": run_count, "error_code": error_code}


def unfinished_count(stack: Stack) -> int:
    with psycopg.connect(stack.pg.dsn("patchbay"), connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM connectors_execution WHERE status IN ('pending', 'running')")
        return row.fetchone()[0]


def start_async(stack: Stack, connector_id: str, action: str = "list", params: dict | None = None) -> str:
    response = stack.execute(connector_id, "customers", action, params or {}, **{"async": True})
    assert response.status_code == 202, response.text
    return response.json()["execution_id"]


def dashboard_session(stack: Stack) -> httpx.Client:
    """A signed-in dashboard browser session (the superuser made by `ops`)."""
    client = httpx.Client(base_url=stack.web.url, timeout=20, follow_redirects=False)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"]
    login = client.post(
        "/accounts/login/",
        data={"username": "ops", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{stack.web.url}/accounts/login/"},
    )
    assert login.status_code == 302, login.text[:500]
    return client


def test_postgresql_stopped_and_restarted(stack: Stack, ops: dict[str, Any]) -> None:
    connector = ops["connector"]
    browser = dashboard_session(stack)
    # Every pool process holds a database connection from before the restart.
    warm = [start_async(stack, connector) for _ in range(8)]
    finished(stack, warm)

    stack.pg.stop()
    try:
        for response in (
            stack.api.get(f"/connectors/{connector}"),
            stack.execute(connector, "customers", "list"),
            stack.api.get("/connectors"),
        ):
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["message"].startswith("Patchbay's database is unavailable")
        page = browser.get("/")
        assert page.status_code == 503, page.text[:300]
        assert page.headers["Retry-After"]
        assert "Temporarily unavailable" in page.text
        ready = httpx.get(f"{stack.web.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
        assert httpx.get(f"{stack.web.url}/healthz", timeout=10).status_code == 200
    finally:
        stack.pg.start()

    # Web and workers recover by themselves: no restart of gunicorn or Celery.
    wait_until(lambda: stack.api.get(f"/connectors/{connector}").status_code == 200, 20, "the API to recover")
    assert httpx.get(f"{stack.web.url}/readyz", timeout=10).status_code == 200
    assert browser.get("/").status_code in (200, 302)
    after = [stack.execute(connector, "customers", "list") for _ in range(8)]
    assert [r.status_code for r in after] == [200] * 8, [r.text[:200] for r in after if r.status_code != 200]
    assert unfinished_count(stack) == 0


def test_redis_killed_while_idle(stack: Stack, ops: dict[str, Any]) -> None:
    connector = ops["connector"]
    stack.redis.kill()
    try:
        began = time.monotonic()
        response = stack.execute(connector, "customers", "list")
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0
        assert time.monotonic() - began < 15  # a dead broker is a quick answer, not a hang (PATCHBAY_EXECUTE_TIMEOUT)
        kept = response.json()
        assert kept["status"] == "pending" and kept["execution_id"]
        ready = httpx.get(f"{stack.web.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "broker": "unavailable"}
        assert stack.api.get(f"/connectors/{connector}").status_code == 200  # the rest of the API still works
    finally:
        stack.redis.start()

    done = finished(stack, [kept["execution_id"]])
    assert done[kept["execution_id"]]["status"] == "success"
    assert len(stack.vendor.requests_to("/v1/customers", "GET")) == 1
    wait_until(lambda: httpx.get(f"{stack.web.url}/readyz", timeout=10).status_code == 200, 20, "readiness")
    assert stack.execute(connector, "customers", "list").status_code == 200


def test_redis_restarted_with_executions_queued(stack: Stack, ops: dict[str, Any]) -> None:
    connector = ops["connector"]
    stack.workers.stop()
    try:
        ids = [start_async(stack, connector) for _ in range(9)]
        assert stack.redis.llen("celery") >= 9
        stack.redis.kill()
        stack.redis.start()
        assert stack.redis.llen("celery") == 0  # a broker without persistence lost every queued message
    finally:
        stack.workers.start()

    results = finished(stack, ids)
    assert {body["status"] for body in results.values()} == {"success"}
    assert len(stack.vendor.requests_to("/v1/customers", "GET")) == 9  # each ran exactly once


def _worker_running(stack: Stack, execution_id: str) -> int:
    """Index of the Celery worker whose pool process claimed the execution."""
    runner = wait_until(lambda: db_row(stack, execution_id)["runner"], 10, "a worker to claim the execution")
    pid = int(runner.rpartition(":")[2])
    return next(i for i in range(len(stack.workers.workers)) if pid in stack.workers.group_pids(i))


@pytest.mark.parametrize("kill", ["worker", "pool process"])
def test_worker_killed_mid_read_runs_it_again(stack: Stack, ops: dict[str, Any], kill: str) -> None:
    connector = ops["connector"]
    stack.vendor.set_delay("/v1/customers", 4)
    execution_id = start_async(stack, connector)
    stack.vendor.wait_for_request("/v1/customers", 1, timeout=15)
    i = _worker_running(stack, execution_id)
    stack.vendor.set_delay("/v1/customers", 0)
    if kill == "worker":
        stack.workers.kill(i)  # the main process: its pool dies with it, the message stays unacknowledged
    else:
        stack.workers.kill_children(i)  # the pool process: the worker requeues the message at once
    try:
        result = finished(stack, [execution_id], timeout=LEASE + 20)[execution_id]
    finally:
        if kill == "worker":
            stack.workers.restart(i)
    assert result["status"] == "success", result
    assert len(stack.vendor.requests_to("/v1/customers", "GET")) == 2  # the interrupted call, then the re-run
    assert db_row(stack, execution_id)["run_count"] == 2


@pytest.mark.parametrize("kill", ["worker", "pool process"])
def test_worker_killed_mid_write_never_runs_it_twice(stack: Stack, ops: dict[str, Any], kill: str) -> None:
    connector = ops["connector"]
    stack.vendor.route("/v1/customers", {"id": "cus_new", "object": "customer"}, method="POST", delay=4)
    execution_id = start_async(stack, connector, "create", {"email": "new@example.com"})
    stack.vendor.wait_for_request("/v1/customers", 1, timeout=15)
    i = _worker_running(stack, execution_id)
    if kill == "worker":
        stack.workers.kill(i)
    else:
        stack.workers.kill_children(i)
    try:
        result = finished(stack, [execution_id], timeout=LEASE + 20)[execution_id]
        assert result["status"] == "error", result
        assert result["error_code"] == "worker_lost"
        assert "may have reached Stripe" in result["message"]
        # Redis hands the unacknowledged message out again after its visibility timeout. Deliver it now, as
        # Redis would (same task, same id), to a live worker: it finds the verdict and sends nothing.
        redelivery = Celery(broker=stack.redis.url).send_task("connectors.run_execution", args=[execution_id])
        wait_until(
            lambda: any(f"[{redelivery.id}] succeeded" in log for log in stack.workers.logs()),
            20,
            "a worker to process the redelivered task",
        )
    finally:
        if kill == "worker":
            stack.workers.restart(i)
    assert len(stack.vendor.requests_to("/v1/customers", "POST")) == 1
    assert execution(stack, execution_id)["error_code"] == "worker_lost"
    assert unfinished_count(stack) == 0
    assert STRIPE_KEY not in stack.web.log() and all(STRIPE_KEY not in log for log in stack.workers.logs())


class HangingReceiver:
    """A loopback webhook receiver: the first delivery hangs (its worker is killed meanwhile), later ones are verified
    with `standardwebhooks` and answered 200."""

    def __init__(self) -> None:
        self.secret = ""
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self.ids: list[str] = []
        self.verified: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.ids.append(headers.get("webhook-id", ""))
                if len(receiver.ids) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(30)
                    return
                receiver.verified.append(Webhook(receiver.secret).verify(body, headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


def test_worker_killed_mid_delivery_loses_no_event(stack: Stack, ops: dict[str, Any]) -> None:
    receiver = HangingReceiver()
    try:
        created = stack.api.post("/webhooks", {"url": receiver.url, "events": ["connector.updated"]})
        assert created.status_code == 201, created.text
        receiver.secret = created.json()["secret"]
        renamed = stack.api.patch(f"/connectors/{ops['connector']}", {"name": "Stripe faults (renamed)"})
        assert renamed.status_code == 200, renamed.text
        assert receiver.first_arrived.wait(20), "the first delivery never arrived"
        for i in range(len(stack.workers.workers)):  # whichever worker holds the delivery dies with it
            stack.workers.kill(i)
        stack.workers.restart()  # also kills any pool process left behind, mid-request
        receiver.release.set()
        wait_until(lambda: receiver.verified, 30, "the event to be delivered again after the worker died")
        assert receiver.verified[0]["type"] == "connector.updated"
        assert receiver.verified[0]["data"]["connector_id"] == ops["connector"]
        assert len(set(receiver.ids)) == 1  # the same event (one webhook-id), sent again: at least once, never lost
        log = f"/webhooks/{created.json()['id']}/deliveries"
        wait_until(lambda: [d["status"] for d in stack.api.get(log).json()] == ["delivered"], 10, "the log to say so")
    finally:
        receiver.close()


def test_nothing_is_left_unfinished_and_metrics_saw_it_all(stack: Stack, ops: dict[str, Any]) -> None:
    """After every fault above, once the sweeper's bounds have passed; operators saw the same in /metrics."""
    assert unfinished_count(stack) == 0
    response = httpx.get(f"{stack.web.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert response.status_code == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    worker_lost = samples[("patchbay_executions_total", (("connector_type", "stripe"), ("outcome", "worker_lost")))]
    assert worker_lost == 2  # the two killed writes, counted by the worker processes that ended them
    # 16 around the PostgreSQL restart, 2 around Redis killed idle, 9 queued across its restart, 2 re-run reads;
    # including those whose worker was SIGKILLed later (multiprocess files outlive their process).
    assert samples[("patchbay_executions_total", (("connector_type", "stripe"), ("outcome", "success")))] == 29
    assert samples[("patchbay_stale_executions", ())] == 0
    assert samples[("patchbay_queue_depth", (("queue", "celery"),))] == 0
    assert samples[("patchbay_broker_up", ())] == 1
    assert samples[("patchbay_database_up", ())] == 1

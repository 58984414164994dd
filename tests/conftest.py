"""Shared fixtures. Tests that need PostgreSQL, Redis or Chromium skip with a reason when those are missing,
and fail instead when PATCHBAY_REQUIRE_SERVICES=1 (CI), so CI can never pass by skipping."""

from __future__ import annotations

import json
import os
import shutil
import socket
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory, api_key_for

REQUIRE_SERVICES = os.environ.get("PATCHBAY_REQUIRE_SERVICES") == "1"


def require(available: bool, what: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required here (PATCHBAY_REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{what} is not available")


def _tcp_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    return url if url and _tcp_open(url, 6379) else None


def using_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def require_redis() -> str:
    url = redis_url()
    require(url is not None, "Redis (set REDIS_URL, e.g. redis://127.0.0.1:6379/0)")
    return url  # type: ignore[return-value]


@pytest.fixture
def require_postgres() -> None:
    require(using_postgres(), "PostgreSQL (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/patchbay)")


@pytest.fixture
def require_chromium() -> str:
    path = chromium_path()
    require(path is not None, "Chromium (apt-get install chromium)")
    return path  # type: ignore[return-value]


class ApiClient:
    """A Django test client that speaks JSON and carries a bearer key."""

    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.key = key

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**out, **(headers or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self.client.post(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def patch(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, path: str, headers: dict[str, str] | None = None):
        return self.client.delete(path, headers=self._headers(headers))


@pytest.fixture(autouse=True)
def _celery_mode_left_as_found() -> Any:
    """Fail the test whose fixtures leave Celery queueing to a broker. Every later test would then send its tasks to
    a queue no worker reads, and fail far from the cause (webhook deliveries stayed pending after tests/oauth)."""
    from config.celery_app import app

    before = app.conf.task_always_eager
    yield
    assert app.conf.task_always_eager == before, "a fixture changed Celery's task_always_eager and did not restore it"


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def workspace(db, user):
    ws = WorkspaceFactory(name="Acme")
    MembershipFactory(user=user, workspace=ws)
    return ws


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Other Co")


@pytest.fixture
def api_key(workspace) -> str:
    return api_key_for(workspace)


@pytest.fixture
def api(api_key) -> ApiClient:
    return ApiClient(api_key)


@pytest.fixture
def other_api(other_workspace) -> ApiClient:
    return ApiClient(api_key_for(other_workspace))


@pytest.fixture
def anon_api() -> ApiClient:
    return ApiClient(None)


# --- A real Celery worker process --------------------------------------------------------------------------------


def _worker_env(redis: str) -> dict[str, str]:
    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": redis}
    # Request fixtures that point the catalog at loopback stubs before this one: the worker inherits them.
    env["PATCHBAY_CATALOG_OVERRIDES"] = json.dumps(settings.PATCHBAY_CATALOG_OVERRIDES)
    env["PATCHBAY_CATALOG_DIRS"] = ":".join(settings.PATCHBAY_CATALOG_DIRS)
    env["PATCHBAY_PUBLIC_URL"] = settings.PATCHBAY_PUBLIC_URL
    # The worker must see the test database the suite is using (PostgreSQL only: SQLite's is in memory).
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return env


@pytest.fixture
def celery_worker(require_redis, require_postgres, transactional_db, settings):
    """Starts two `celery worker` processes against Redis and the test database; the suite stops running tasks
    in-process for the test's duration. Yields the processes (their output is on `.worker_output` afterwards)."""
    import subprocess
    import sys
    import time

    from config.celery_app import app

    redis = require_redis
    env = _worker_env(redis)
    # Two worker processes with ten threads each: concurrency across processes, not just within one.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                "-c",
                "10",
                "-l",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test{i}-{os.getpid()}@%h",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for i in range(2)
    ]
    # Read before the settings change: Celery's configuration reads Django's settings lazily, so reading it after
    # saved False, and every later test queued to a broker with no worker instead of running tasks in-process.
    old = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.broker_url = redis
    app.conf.result_backend = redis
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError("celery worker exited: " + proc.stdout.read().decode(errors="replace")[-2000:])
            try:
                if len(app.control.ping(timeout=0.5)) >= len(procs):
                    break
            except Exception:  # noqa: BLE001, S110 - broker not ready yet
                pass
        else:
            raise RuntimeError("celery workers did not answer a ping within 30 s")
        yield procs
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend = old
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.worker_output = proc.communicate(timeout=15)[0].decode(errors="replace")  # type: ignore[attr-defined]
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.worker_output = proc.communicate()[0].decode(errors="replace")  # type: ignore[attr-defined]


@pytest.fixture
def outbound():
    """Every request Patchbay's HTTP helper sends during the test (a response hook on the shared session)."""
    from connectors.engine import http

    sent: list = []

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        sent.append(response.request)

    session = http.shared_session()
    session.hooks["response"].append(record)
    yield sent
    session.hooks["response"].remove(record)

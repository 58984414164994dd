"""Fault-injection suite: every test here drives a private, production-configured stack (PostgreSQL, Redis,
gunicorn, Celery workers) started by `tests/faults/harness.py`, never the machine's shared services and never
pytest-django's test database (no `db` fixture here: the stack has its own database).

Tests are marked `faults` and `slow`. They skip when initdb or redis-server is missing, and fail instead when
PATCHBAY_REQUIRE_SERVICES=1 (CI).

A test module can change the stack's environment by overriding the module-scoped `stack_extra_env` fixture:

    @pytest.fixture(scope="module")
    def stack_extra_env():
        return {"PATCHBAY_EXECUTION_LEASE_SECONDS": 5}
"""

from __future__ import annotations

import contextlib
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require

from . import harness

FAULTS_DIR = Path(__file__).resolve().parent
STRIPE_KEY = "sk_test_faults_4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_CUSTOMERS = [
    {"id": "cus_faults1", "object": "customer", "email": "ada@example.com", "name": "Ada"},
    {"id": "cus_faults2", "object": "customer", "email": "grace@example.com", "name": "Grace"},
]
API_TIMEOUT = 40.0


@pytest.hookimpl(tryfirst=True)  # before -m deselection sees the items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if FAULTS_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On failure, attach the stack's log tails (gunicorn, workers, PostgreSQL, Redis) to the report."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        with contextlib.suppress(Exception):
            report.sections.append(("faults stack logs", stack.log_tails()))
    return report


def require_private_services() -> None:
    require(harness.postgres_bindir() is not None, "initdb (PostgreSQL server binaries: apt-get install postgresql)")
    require(harness.redis_server_path() is not None, "redis-server (apt-get install redis-server)")


class StackApi:
    """A small httpx client for `<web>/api/v1/integrations` carrying the stack's API key."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float = API_TIMEOUT) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, json=json, **kwargs)

    def get(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, json, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json if json is not None else {}, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json, **kwargs)

    def delete(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, json, **kwargs)

    def close(self) -> None:
        self.client.close()


def install_stripe_routes(vendor: harness.SlowVendor) -> None:
    """The vendor answers Stripe's list shape on GET /v1/customers (and a customer on GET /v1/customers/<id>)."""
    vendor.route(
        "/v1/customers", {"object": "list", "url": "/v1/customers", "has_more": False, "data": STRIPE_CUSTOMERS}
    )
    for customer in STRIPE_CUSTOMERS:
        vendor.route(f"/v1/customers/{customer['id']}", customer)


def create_stripe_connector(api: StackApi, name: str = "Stripe", key: str = STRIPE_KEY) -> str:
    """POST /connectors for a Stripe connector (API key scheme); returns its id."""
    response = api.post("/connectors", {"connector_type": "stripe", "name": name, "credentials": {"api_key": key}})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@dataclass
class Stack:
    pg: harness.PrivatePostgres
    redis: harness.PrivateRedis
    web: harness.Gunicorn
    workers: harness.Workers
    vendor: harness.SlowVendor
    api_key: str
    env: dict[str, str]
    api: StackApi
    workspace: str  # slug
    base_dir: Path
    started_in: float  # seconds the stack took to come up
    beat: harness.Beat | None = None
    _closers: list = field(default_factory=list, repr=False)

    def create_stripe_connector(self, name: str = "Stripe", key: str = STRIPE_KEY) -> str:
        return create_stripe_connector(self.api, name=name, key=key)

    def execute(self, connector_id: str, entity: str, action: str, params: dict | None = None, **extra: Any):
        return self.api.post(
            f"/connectors/{connector_id}/execute", {"entity": entity, "action": action, "params": params or {}, **extra}
        )

    def reset_vendor(self) -> None:
        """Back to the default Stripe routes, no recorded requests, no delays."""
        self.vendor.reset()
        install_stripe_routes(self.vendor)

    def start_beat(self, **kwargs: Any) -> harness.Beat:
        if self.beat is None:
            self.beat = harness.Beat(self.env, self.base_dir, **kwargs)
            self._closers.append(self.beat.close)
        self.beat.start()
        return self.beat

    def manage(self, *args: str) -> str:
        return harness.manage(self.env, *args)

    def log_tails(self, chars: int = 3000) -> str:
        parts = [f"--- gunicorn ---\n{self.web.log()[-chars:]}"]
        parts += [f"--- worker {i} ---\n{log[-chars:]}" for i, log in enumerate(self.workers.logs())]
        if self.beat is not None:
            parts.append(f"--- beat ---\n{self.beat.log()[-chars:]}")
        parts.append(f"--- postgres ---\n{self.pg.log()[-chars:]}")
        parts.append(f"--- redis ---\n{self.redis.log()[-chars:]}")
        return "\n".join(parts)


@pytest.fixture(scope="module")
def stack_extra_env() -> dict[str, Any]:
    """Extra environment for the stack's processes; override in a test module (module scope)."""
    return {}


@pytest.fixture(scope="module")
def stack(stack_extra_env: dict[str, Any]):
    """PostgreSQL + Redis + gunicorn + 2 Celery workers, production settings, Stripe pointed at a SlowVendor."""
    require_private_services()
    began = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        base = harness.make_tmp("stack")
        cleanup.callback(shutil.rmtree, base, True)
        pg = harness.PrivatePostgres(base)
        cleanup.callback(pg.close)
        redis = harness.PrivateRedis(base)
        cleanup.callback(redis.close)
        vendor = harness.SlowVendor()
        cleanup.callback(vendor.close)
        install_stripe_routes(vendor)

        with ThreadPoolExecutor(1) as pool:
            pg_started = pool.submit(pg.start)
            redis.start()
            pg_started.result()
        pg.create_database("patchbay")

        env = harness.stack_env(
            pg.url,
            redis.url,
            PATCHBAY_CATALOG_OVERRIDES={"stripe": {"base_url": vendor.url}},
            PATCHBAY_ALLOW_HTTP_HOSTS="127.0.0.1,localhost",
            **stack_extra_env,
        )
        harness.manage(env, "migrate", "--no-input")

        web = harness.Gunicorn(env, base)
        cleanup.callback(web.close)
        workers = harness.Workers(env, 2, base)
        cleanup.callback(workers.close)
        web.spawn()
        workers.spawn()  # both boot while the workspace and key are created
        workspace = harness.manage(env, "create_workspace", "Faults").strip().splitlines()[-1]
        api_key = harness.manage(env, "create_api_key", "--workspace", workspace, "--name", "faults").strip()
        api_key = api_key.splitlines()[-1]
        web.wait_ready(60)
        workers.wait_ready(60)

        api = StackApi(f"{web.url}/api/v1/integrations", api_key)
        cleanup.callback(api.close)
        stack = Stack(
            pg=pg,
            redis=redis,
            web=web,
            workers=workers,
            vendor=vendor,
            api_key=api_key,
            env=env,
            api=api,
            workspace=workspace,
            base_dir=base,
            started_in=time.monotonic() - began,
        )
        # Beat (if a test started it) stops first: closers run last-in, first-out.
        cleanup.callback(lambda: [close() for close in reversed(stack._closers)])
        yield stack

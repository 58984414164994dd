"""Airbyte's own SDK (airbyte-agent-sdk, pinned in tests/airbyte/requirements.txt) against a live Patchbay.

The SDK pins cryptography<49 and Patchbay cryptography>=50, so it lives in its own virtualenv (.venv-airbyte, made
by `make test`) and runs in a subprocess (tests/airbyte/sdk_driver.py) pointed at pytest-django's live server with
SDK_DEV_ADP_API_HOST, exactly as a user switching from Airbyte's hosted API would point it. Stripe is a loopback
stand-in (pytest-httpserver). Without the virtualenv these tests skip with a reason; in CI
(PATCHBAY_REQUIRE_SERVICES=1) they fail instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
AIRBYTE_PYTHON = ROOT / ".venv-airbyte" / "bin" / "python"
DRIVER = Path(__file__).with_name("sdk_driver.py")
PINNED = (Path(__file__).with_name("requirements.txt")).read_text()
STRIPE_KEY = "sk_test_AIRBYTE_SDK_4242"
PROBE = "import airbyte_agent_sdk; from importlib.metadata import version; print(version('airbyte-agent-sdk'))"


def _sdk_importable() -> bool:
    if not AIRBYTE_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(AIRBYTE_PYTHON), "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "AIRBYTE_TELEMETRY_MODE": "disabled"},
    )
    return probe.returncode == 0 and f"airbyte-agent-sdk=={probe.stdout.strip()}" in PINNED


@pytest.fixture(scope="session")
def airbyte_python() -> Path:
    require(
        _sdk_importable(),
        "Airbyte's SDK at the version pinned in tests/airbyte/requirements.txt, in .venv-airbyte (`make test`)",
    )
    return AIRBYTE_PYTHON


@pytest.fixture
def server(live_server, transactional_db) -> str:
    return live_server.url


@pytest.fixture
def application(workspace, transactional_db) -> tuple[str, str]:
    from workspaces.services import application_credential_create

    credential, secret = application_credential_create(workspace=workspace, name="airbyte sdk")
    return credential.client_id, secret


@pytest.fixture
def upstream(httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    return httpserver


@pytest.fixture
def make_stripe(workspace, transactional_db) -> Callable[..., str]:
    def make(name: str = "Stripe", workspace_=None) -> str:
        from connectors.models import ConnectorDefinition
        from connectors.services import connector_create
        from workspaces.services import Actor

        connector = connector_create(
            workspace=workspace_ or workspace,
            definition=ConnectorDefinition.objects.get(slug="stripe"),
            name=name,
            credentials={"api_key": STRIPE_KEY},
            replication_config=None,
            auth_scheme=None,
            actor=Actor.system(),
        )
        return str(connector.pk)

    return make


@pytest.fixture
def sdk(airbyte_python, server, application) -> Callable[..., list[dict[str, Any]]]:
    """Run SDK steps (see sdk_driver.py) with the application credentials in the environment; returns one
    {"ok": ...} or {"error": ..., "message": ...} per step."""
    client_id, secret = application

    def run(steps: list[dict[str, Any]], *, client_secret: str | None = None) -> list[dict[str, Any]]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SDK_DEV_ADP_API_HOST": server,
            "AIRBYTE_CLIENT_ID": client_id,
            "AIRBYTE_CLIENT_SECRET": client_secret or secret,
            "AIRBYTE_TELEMETRY_MODE": "disabled",  # the SDK's Segment tracker (airbyte_agent_sdk/telemetry)
            "OTEL_SDK_DISABLED": "true",
        }
        done = subprocess.run(
            [str(airbyte_python), str(DRIVER), json.dumps(steps)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=str(DRIVER.parent),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert len(lines) == len(steps), done.stdout[-2000:] + done.stderr[-2000:]
        return lines

    return run


def customers_page(ids: list[str], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": i, "object": "customer", "email": f"{i}@example.com", "note": "n" * 300} for i in ids],
        "has_more": has_more,
    }


def test_list_connectors_shows_each_connector_and_its_type(sdk, make_stripe):
    stripe_id = make_stripe("Stripe US")
    [listed] = sdk([{"do": "list_connectors"}])
    [info] = listed["ok"]
    assert info["id"] == stripe_id and info["name"] == "Stripe US"
    assert info["connector_type"] == "Stripe"
    assert info["created_at"] and info["updated_at"]


def test_connect_by_slug_execute_and_the_typed_shortcut(sdk, make_stripe, upstream):
    make_stripe()
    upstream.expect_request(
        "/v1/customers", query_string={"limit": "2"}, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    ).respond_with_json(customers_page(["cus_1", "cus_2"], True))
    connected, executed, typed, projected = sdk(
        [
            {"do": "connect", "slug": "stripe"},
            {"do": "execute", "entity": "customers", "action": "list", "params": {"limit": 2}},
            {"do": "typed_list", "entity": "customers", "params": {"limit": 2}},
            {
                "do": "execute",
                "entity": "customers",
                "action": "list",
                "params": {"limit": 2},
                "select_fields": ["id", "note"],
                "skip_truncation": False,
            },
        ]
    )
    assert connected == {"ok": "StripeConnector"}
    assert [c["id"] for c in executed["ok"]["data"]] == ["cus_1", "cus_2"]
    meta = executed["ok"]["meta"]
    assert meta["has_more"] is True and meta["has_next_page"] is True and meta["end_cursor"]
    assert [c["id"] for c in typed["ok"]["data"]] == ["cus_1", "cus_2"]
    assert typed["ok"]["data"][0]["email"] == "cus_1@example.com" and typed["ok"]["meta"]["has_more"] is True
    rows = projected["ok"]["data"]
    assert [set(r) for r in rows] == [{"id", "note"}, {"id", "note"}]
    assert rows[0]["note"].startswith("n" * 200) and "[truncated" in rows[0]["note"]


def test_two_stripe_connectors_are_ambiguous_until_connector_id_picks_one(sdk, make_stripe, upstream):
    make_stripe("Stripe US")
    eu = make_stripe("Stripe EU")
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_eu"], False))
    ambiguous, by_id, executed, via_workspace = sdk(
        [
            {"do": "connect", "slug": "stripe"},
            {"do": "connect", "slug": "stripe", "kwargs": {"connector_id": eu}, "as": "eu"},
            {"do": "execute", "on": "eu", "entity": "customers", "action": "list", "params": {"limit": 1}},
            {"do": "workspace_execute", "slug": "stripe", "entity": "customers", "action": "list"},
        ]
    )
    assert ambiguous["error"] == "ConnectorAmbiguityError" and "found 2" in ambiguous["message"]
    assert by_id == {"ok": "StripeConnector"}
    assert [c["id"] for c in executed["ok"]["data"]] == ["cus_eu"]
    assert via_workspace["error"] == "ConnectorAmbiguityError"


def test_intent_reaches_the_execution_record_and_check_passes(sdk, make_stripe, upstream):
    from connectors.models import Execution

    make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], False))
    _, executed, checked = sdk(
        [
            {"do": "connect", "slug": "stripe"},
            {"do": "hosted_execute", "entity": "customers", "action": "list", "intent": "weekly churn report"},
            {"do": "check"},
        ]
    )
    assert executed["ok"]["data"][0]["id"] == "cus_1"
    assert Execution.objects.filter(intent="weekly churn report").count() == 1
    assert checked["ok"]["status"] == "healthy"  # the SDK's own check: customers.list with limit 1


def test_errors_bad_secret_unknown_connector_invalid_params_other_workspace(sdk, make_stripe, upstream):
    make_stripe()
    [bad_secret] = sdk([{"do": "list_connectors"}], client_secret="not-the-secret")
    assert bad_secret["error"] == "AuthenticationError" and bad_secret["status_code"] == 401
    assert "wrong client_secret" in bad_secret["message"]

    unknown_slug, unknown_id, unknown_run, invalid, other_ws = sdk(
        [
            {"do": "connect", "slug": "no-such-service"},
            {"do": "connect", "slug": "stripe", "kwargs": {"connector_id": str(uuid.uuid4())}, "as": "ghost"},
            {"do": "execute", "on": "ghost", "entity": "customers", "action": "list"},
            {"do": "connect", "slug": "stripe", "as": "ok"},
            {"do": "list_connectors", "kwargs": {"workspace_name": "someone-else"}},
        ]
    )
    assert unknown_slug["error"] == "UnknownConnectorError"
    assert unknown_id == {"ok": "StripeConnector"}  # an explicit id is not checked until it is used
    assert unknown_run["error"] == "HTTPStatusError" and unknown_run["status_code"] == 404
    assert "Connector not found" in unknown_run["message"]
    assert invalid == {"ok": "StripeConnector"}
    assert other_ws["error"] == "HTTPStatusError" and other_ws["status_code"] == 404
    assert "No workspace named 'someone-else'" in other_ws["message"]

    _, bad_params, bad_field = sdk(
        [
            {"do": "connect", "slug": "stripe"},
            {"do": "execute", "entity": "customers", "action": "list", "params": {"limit": 1000}},
            {"do": "execute", "entity": "customers", "action": "list", "params": {"colour": "red"}},
        ]
    )
    assert bad_params["error"] == "ConnectorValidationError" and bad_params["status_code"] == 422
    assert "limit" in bad_params["message"].split("execute: ", 1)[1]
    assert bad_field["error"] == "ConnectorValidationError" and "colour" in bad_field["message"]


def test_no_connector_of_the_type_is_not_found(sdk):
    [missing] = sdk([{"do": "connect", "slug": "stripe"}])
    assert missing["error"] == "ConnectorNotFoundError"


def test_delete_connector_then_it_is_gone(sdk, make_stripe):
    us = make_stripe("Stripe US")
    eu = make_stripe("Stripe EU")
    deleted, listed, again = sdk(
        [
            {"do": "delete_connector", "connector_id": us},
            {"do": "list_connectors"},
            {"do": "delete_connector", "connector_id": us},
        ]
    )
    assert deleted == {"ok": None}
    assert [c["id"] for c in listed["ok"]] == [eu]
    assert again["error"] == "HTTPStatusError" and again["status_code"] == 404


def test_revoking_the_credentials_stops_a_running_client(sdk, make_stripe, upstream, application):
    """The SDK caches its token for 14 minutes; revocation must not wait for that."""
    from workspaces.models import ApplicationCredential
    from workspaces.services import Actor, application_credential_revoke

    make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], False))
    [first] = sdk([{"do": "list_connectors"}])
    assert len(first["ok"]) == 1
    credential = ApplicationCredential.objects.get(client_id=application[0])
    application_credential_revoke(credential=credential, actor=Actor.system())
    [after] = sdk([{"do": "list_connectors"}])
    assert after["error"] == "AuthenticationError" and "revoked" in after["message"]

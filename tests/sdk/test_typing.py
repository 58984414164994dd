"""Typed connectors for type checkers and at runtime: mypy reads the stub, stubtest holds it to the runtime classes,
and the runtime methods check their arguments as a written-out signature would."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from patchbay import connectors
from patchbay.connectors import StripeConnector
from patchbay.typed import Entity, TypedCatalog

from connectors.management.commands import generate_sdk

SDK = Path(__file__).resolve().parents[2] / "sdk"

# Each line marked `# E: text` must get a mypy error containing the text; every other line must get none.
USAGE = """\
from typing import assert_type

from patchbay import connect
from patchbay.connectors import GitHubConnector, SalesforceConnector, StripeConnector, StripeCustomers
from patchbay.typed import Record


async def main(salesforce: SalesforceConnector) -> None:
    async with connect("stripe") as stripe, connect("github", api_key="pb_x", timeout=5) as github:
        assert_type(stripe, StripeConnector)
        assert_type(github, GitHubConnector)
        customers = await stripe.customers.list(limit=10, email="ada@example.com", test_clock=None)
        assert_type(customers, list[Record])
        entity: StripeCustomers = stripe.customers
        await entity.create(email="ada@example.com", Stripe_Account="acct_1")
        await github.issues.get(owner="octo", repo="hello", issue_number=1)
        await github.issues.list(owner="octo", repo="hello", state="open")
        await salesforce.accounts.create(Name="Acme", Custom_Field__c="x")
        await stripe.execute("customers", "list", {"limit": 10})
        await stripe.customers.list(limt=10)  # E: Unexpected keyword argument "limt"
        await stripe.customers.list(limit="10")  # E: "limit" to "list" of "StripeCustomers" has incompatible type "str"
        await github.issues.get(owner="octo", repo="hello")  # E: Missing named argument "issue_number"
        await github.issues.list(owner="octo", repo="hello", state="opened")  # E: incompatible type "Literal['opened']"
        await stripe.customer.list()  # E: "StripeConnector" has no attribute "customer"
        connect("stripe", timeout="slow")  # E: No overload variant of "connect" matches
"""


def mypy_errors(tmp_path: Path, source: str) -> dict[int, list[str]]:
    pytest.importorskip("mypy", reason="mypy is not installed (requirements.txt: tests and tooling)")
    (tmp_path / "usage.py").write_text(source)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-pretty",
            "--no-error-summary",
            "--hide-error-context",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "usage.py",
        ],
        cwd=tmp_path,
        # The SDK is installed editable through an import hook, which mypy does not follow: point it at the source.
        env={**os.environ, "MYPYPATH": str(SDK)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2 is a crash or bad usage
    errors: dict[int, list[str]] = {}
    for match in re.finditer(r"^usage\.py:(\d+): error: (.*)$", done.stdout, re.MULTILINE):
        errors.setdefault(int(match[1]), []).append(match[2])
    return errors


def test_mypy_reports_a_wrong_parameter_name_or_type_and_nothing_else(tmp_path):
    errors = mypy_errors(tmp_path, USAGE)
    expected = {
        number: line.split("# E: ", 1)[1] for number, line in enumerate(USAGE.splitlines(), start=1) if "# E: " in line
    }
    assert len(expected) == 6
    for number, text in expected.items():
        assert any(text in error for error in errors.get(number, [])), (number, text, errors.get(number))
    unexpected = {number: found for number, found in errors.items() if number not in expected}
    assert not unexpected, unexpected


def test_the_stub_matches_the_runtime_classes(tmp_path):
    """mypy's stubtest: every class, property, method and parameter in __init__.pyi exists at runtime, same kind."""
    pytest.importorskip("mypy", reason="mypy is not installed (requirements.txt: tests and tooling)")
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\ncache_dir = {tmp_path / 'mypy-cache'}\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "patchbay.connectors",
            "--allowlist",
            str(Path(__file__).with_name("stubtest-allowlist.txt")),
            "--mypy-config-file",
            str(config),
        ],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(SDK)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


class RecordingExecutor:
    """Stands in for a HostedExecutor: records what an entity method would send."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def execute(self, entity: str, action: str, params: dict[str, Any]) -> Any:
        self.calls.append((entity, action, params))
        return []


def test_methods_check_their_arguments_and_send_wire_names():
    executor = RecordingExecutor()
    customers = connectors.StripeCustomers(executor, "customers")  # type: ignore[arg-type]
    asyncio.run(customers.create(email="ada@example.com", Stripe_Account="acct_1", name=None))
    assert executor.calls == [("customers", "create", {"email": "ada@example.com", "Stripe-Account": "acct_1"})]

    with pytest.raises(TypeError, match="limt"):
        asyncio.run(customers.list(limt=1))
    with pytest.raises(TypeError, match="positional"):
        asyncio.run(customers.list(10))
    issues = connectors.GitHubIssues(executor, "issues")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="issue_number"):
        asyncio.run(issues.get(owner="octo", repo="hello"))
    assert len(executor.calls) == 1  # nothing was sent for the bad calls


def test_an_open_params_schema_takes_other_fields_as_keywords():
    executor = RecordingExecutor()
    accounts = connectors.SalesforceAccounts(executor, "accounts")  # type: ignore[arg-type]
    asyncio.run(accounts.create(Name="Acme", Custom_Field__c="x"))
    assert executor.calls == [("accounts", "create", {"Name": "Acme", "Custom_Field__c": "x"})]
    assert "**extra" in (type(accounts).create.__doc__ or "")


def test_entity_classes_are_module_attributes_made_once():
    stripe = StripeConnector(connector_id="00000000-0000-0000-0000-000000000000", api_key="pb_x")
    assert type(stripe.customers) is connectors.StripeCustomers is type(stripe.customers)
    assert issubclass(connectors.StripeCustomers, Entity)
    assert connectors.StripeCustomers.__module__ == "patchbay.connectors"
    assert "StripeCustomers" in dir(connectors) and "StripeCustomers" not in connectors.__all__
    with pytest.raises(AttributeError):
        _ = connectors.StripeCustomerz

    # A fresh catalog, so no class exists yet: threads racing to make the same entity get one class.
    catalog = TypedCatalog(json.loads((SDK / "patchbay" / "connectors" / "catalog.json").read_text()), module="race")
    jira = catalog.connectors["jira"](connector_id="x", api_key="pb_x")
    barrier = threading.Barrier(8)
    made: list[type] = []

    def touch() -> None:
        barrier.wait()
        made.append(type(jira.issues))

    threads = [threading.Thread(target=touch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 8 and len(set(made)) == 1


def test_catalog_json_is_the_public_description_the_api_serves(db, anon_api):
    """The data file holds what GET /definitions/sources/{id} says about each connector type, trimmed."""
    base = "/api/v1/integrations/definitions/sources"
    committed = json.loads((SDK / "patchbay" / "connectors" / "catalog.json").read_text())
    ids = {d["slug"]: d["sourceDefinitionId"] for d in anon_api.get(base).json()["definitions"]}
    assert set(committed["connectors"]) <= set(ids)
    for slug, connector in committed["connectors"].items():
        served = anon_api.get(f"{base}/{ids[slug]}").json()
        served["sourceDefinitionId"] = str(served["sourceDefinitionId"])
        assert generate_sdk.catalog_document([served])["connectors"][slug] == connector, slug

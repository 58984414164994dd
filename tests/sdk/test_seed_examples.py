"""Each example of the seed document, run as written against a live Patchbay with only the import line changed."""

from __future__ import annotations

import ast
import asyncio
import inspect
from typing import Any

import pytest
from patchbay import ConnectorValidationError, HostedExecutor, Workspace
from patchbay.connectors import StripeConnector

from connectors.models import Connector
from tests.sdk import seed_examples as seed
from tests.sdk.conftest import GITHUB_ID, HUBSPOT_ID, customers_page


def run_example(code: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute an example as a script; a snippet with top-level `await` runs as the body of a coroutine."""
    namespace = {"__name__": "__seed_example__", **(namespace or {})}
    compiled = compile(code, "<seed example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    outcome = eval(compiled, namespace)  # noqa: S307 - our own example text
    if inspect.iscoroutine(outcome):
        asyncio.run(outcome)
    return namespace


async def definition_id(slug: str) -> str:
    """What the page says to do: look the id up once from the public definitions endpoint."""
    async with Workspace() as ws:
        (definition,) = await ws.list_definitions(name=slug)
    return definition.id


def test_import_line_is_the_only_change():
    code = seed.for_patchbay(seed.GET_BY_SLUG)
    assert code.replace(seed.PATCHBAY_IMPORT, "from airbyte_agent_sdk import connect") == seed.GET_BY_SLUG


def test_create_an_api_token_connector(env):
    github_id = asyncio.run(definition_id("github"))
    assert github_id == GITHUB_ID
    run_example(
        seed.for_patchbay(seed.CREATE_API_TOKEN, github_definition_id=github_id, github_pat="ghp_seed_example_pat")
    )
    connector = Connector.objects.get(name="My GitHub Connector")
    assert connector.definition.slug == "github"
    assert connector.auth_scheme == "pat"
    assert connector.replication_config == {"repositories": ["airbytehq/airbyte"]}


def test_the_create_call_fails_with_422_without_repositories(env):
    code = seed.for_patchbay(seed.CREATE_API_TOKEN, github_definition_id=GITHUB_ID, github_pat="ghp_x")
    code = code.replace('            replication_config={"repositories": ["airbytehq/airbyte"]},\n', "")
    with pytest.raises(ConnectorValidationError) as caught:
        run_example(code)
    assert caught.value.status == 422
    assert [(e.field, e.error_code) for e in caught.value.errors] == [("replication_config.repositories", "required")]
    assert "repositories" in str(caught.value)
    assert not Connector.objects.exists()


def test_create_an_oauth_connector(env, upstream):
    hubspot_id = asyncio.run(definition_id("hubspot"))
    assert hubspot_id == HUBSPOT_ID
    run_example(
        seed.for_patchbay(
            seed.CREATE_OAUTH,
            hubspot_definition_id=hubspot_id,
            hubspot_client_id="hs-client",
            hubspot_client_secret="hs-secret",
            hubspot_refresh_token="hs-refresh",
        )
    )
    connector = Connector.objects.get(name="My HubSpot Connector")
    assert connector.definition.slug == "hubspot"
    assert connector.auth_scheme == "oauth"


def test_list_connectors(env, make_stripe, capsys):
    first = make_stripe(name="Stripe US")
    second = make_stripe(name="Stripe EU")
    run_example(seed.for_patchbay(seed.LIST_CONNECTORS))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{second} Stripe EU Stripe", f"{first} Stripe US Stripe"]


def test_get_a_connector_by_slug(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request("/v1/customers", query_string={"limit": "10"}).respond_with_json(
        customers_page(["cus_1", "cus_2"], False)
    )
    namespace = run_example(seed.for_patchbay(seed.GET_BY_SLUG))
    assert [c["id"] for c in namespace["result"]] == ["cus_1", "cus_2"]
    assert isinstance(namespace["stripe"], StripeConnector)
    upstream.check_assertions()


def test_connect_with_explicit_connector_ids(env, make_stripe, upstream):
    us = make_stripe(name="US", api_key="sk_test_us")
    eu = make_stripe(name="EU", api_key="sk_test_eu")
    for region in ("us", "eu"):
        upstream.expect_request(
            "/v1/customers", headers={"Authorization": f"Bearer sk_test_{region}"}
        ).respond_with_json(customers_page([f"cus_{region}"], False))
    namespace = run_example(
        seed.for_patchbay(seed.CONNECT_BY_ID, us_account_connector_id=us, eu_account_connector_id=eu)
    )

    async def use_both() -> tuple[Any, Any]:
        async with namespace["stripe_us"] as stripe_us, namespace["stripe_eu"] as stripe_eu:
            return (
                await stripe_us.execute("customers", "list", params={"limit": 10}),
                await stripe_eu.execute("customers", "list", params={"limit": 10}),
            )

    us_result, eu_result = asyncio.run(use_both())
    assert us_result[0]["id"] == "cus_us" and eu_result[0]["id"] == "cus_eu"
    upstream.check_assertions()


def test_get_connector_from_an_open_workspace(env, make_stripe, upstream):
    connector_id = make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_7"], False))

    async def main() -> Any:
        async with Workspace() as ws:
            executor = await ws.get_connector(connector_id=connector_id)
            assert isinstance(executor, HostedExecutor)
            try:
                return await executor.execute("customers", "list", params={"limit": 10})
            finally:
                await executor.close()

    assert asyncio.run(main())[0]["id"] == "cus_7"


@pytest.mark.parametrize("positional", [False, True])
def test_delete_a_connector(env, make_stripe, positional):
    connector_id = make_stripe()
    code = seed.for_patchbay(seed.DELETE, connector_id=connector_id)
    if positional:  # "takes the connector ID as its first positional argument"
        code = code.replace("delete_connector(connector_id=", "delete_connector(")
    run_example(code)
    assert not Connector.objects.filter(pk=connector_id).exists()

"""connect(), HostedExecutor and typed connectors against a live Patchbay and a loopback Stripe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from patchbay import (
    ConnectorAmbiguityError,
    ConnectorNotFoundError,
    ExecutionResult,
    HostedExecutor,
    NotFoundError,
    PatchbayError,
    UnknownConnectorError,
    Workspace,
    connect,
)
from patchbay.connectors import TYPED_CONNECTORS, StripeConnector

from tests.sdk.conftest import STRIPE_KEY, customers_page


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def execute_once(executor: HostedExecutor, *args: Any, **kwargs: Any) -> Any:
    async with executor:
        return await executor.execute(*args, **kwargs)


def test_connect_returns_the_typed_connector_or_a_hosted_executor(env):
    stripe = connect("stripe")
    assert type(stripe) is StripeConnector and isinstance(stripe, HostedExecutor)
    assert stripe.connector_id is None  # nothing is sent until first use
    assert set(TYPED_CONNECTORS) >= {"stripe", "github", "hubspot", "linear", "notion"}
    assert type(connect("Stripe")) is StripeConnector
    generic = connect("not-generated-here")
    assert type(generic) is HostedExecutor
    with pytest.raises(ValueError, match="slug"):
        HostedExecutor()


def test_typed_execute(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request(
        "/v1/customers",
        query_string={"limit": "3", "email": "a@example.com"},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    ).respond_with_json(customers_page(["cus_1"], False))

    async def main() -> Any:
        async with connect("stripe") as stripe:
            assert isinstance(stripe, StripeConnector)
            # None-valued parameters are not sent: the server's params schemas are closed.
            return await stripe.customers.list(limit=3, email="a@example.com", test_clock=None)

    assert run(main()) == [{"id": "cus_1", "object": "customer", "email": "cus_1@example.com"}]
    upstream.check_assertions()


def test_generic_execute_and_execute_raw(env, make_stripe, upstream):
    connector_id = make_stripe()
    upstream.expect_request("/v1/customers", query_string={"limit": "2"}).respond_with_json(
        customers_page(["cus_1", "cus_2"], True)
    )

    async def main() -> ExecutionResult:
        async with HostedExecutor("stripe") as executor:
            raw = await executor.execute_raw("customers", "list", {"limit": 2})
            assert executor.connector_id == connector_id
            return raw

    raw = run(main())
    assert [c["id"] for c in raw.result] == ["cus_1", "cus_2"]
    assert raw.status == "success"
    assert raw.has_next_page is True and raw.end_cursor
    assert raw.execution_id and raw.attempts == 1 and isinstance(raw.execution_time_ms, int)
    assert raw.raw["execution_metadata"]["execution_id"] == raw.execution_id


def test_slug_resolution_with_zero_one_and_several_connectors(env, make_stripe, upstream):
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], False))
    with pytest.raises(ConnectorNotFoundError) as none:
        run(execute_once(connect("stripe"), "customers", "list"))
    assert "no stripe connector" in str(none.value) and "create_connector" in str(none.value)

    only = make_stripe(name="Only")
    stripe = connect("stripe")
    assert run(execute_once(stripe, "customers", "list"))[0]["id"] == "cus_1"
    assert stripe.connector_id == only

    second = make_stripe(name="Second")
    with pytest.raises(ConnectorAmbiguityError) as several:
        run(execute_once(connect("stripe"), "customers", "list"))
    assert {(c.id, c.name) for c in several.value.candidates} == {(only, "Only"), (second, "Second")}
    assert only in str(several.value) and "Second" in str(several.value) and "connector_id=" in str(several.value)
    assert several.value.status == 409
    # An explicit id settles it.
    assert run(execute_once(connect("stripe", connector_id=second), "customers", "list"))[0]["id"] == "cus_1"


def test_unknown_slug(env):
    with pytest.raises(UnknownConnectorError) as caught:
        run(execute_once(connect("stripr"), "customers", "list"))
    assert "stripr" in str(caught.value) and "patchbay definitions list" in str(caught.value)
    assert isinstance(caught.value, NotFoundError)


def test_other_workspaces_connector_is_not_found(env, make_stripe, other_workspace):
    theirs = make_stripe(workspace_=other_workspace)
    with pytest.raises(ConnectorNotFoundError) as caught:
        run(execute_once(connect("stripe", connector_id=theirs), "customers", "list"))
    assert theirs in str(caught.value)


def test_paginate_iterates_records_across_pages(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_ordered_request("/v1/customers", query_string={"limit": "2"}).respond_with_json(
        customers_page(["cus_1", "cus_2"], True)
    )
    upstream.expect_ordered_request(
        "/v1/customers", query_string={"limit": "2", "starting_after": "cus_2"}
    ).respond_with_json(customers_page(["cus_3", "cus_4"], True))
    upstream.expect_ordered_request(
        "/v1/customers", query_string={"limit": "2", "starting_after": "cus_4"}
    ).respond_with_json(customers_page(["cus_5"], False))

    async def main() -> list[str]:
        async with connect("stripe") as stripe:
            return [c["id"] async for c in stripe.paginate("customers", "list", {"limit": 2})]

    assert run(main()) == ["cus_1", "cus_2", "cus_3", "cus_4", "cus_5"]
    upstream.check_assertions()


def test_pages_and_typed_paginate(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request("/v1/customers", query_string={"limit": "1"}).respond_with_json(
        customers_page(["cus_1"], True)
    )
    upstream.expect_request("/v1/customers", query_string={"limit": "1", "starting_after": "cus_1"}).respond_with_json(
        customers_page(["cus_2"], False)
    )

    async def main() -> tuple[list[ExecutionResult], list[str], list[ExecutionResult]]:
        async with connect("stripe") as stripe:
            assert isinstance(stripe, StripeConnector)
            pages = [p async for p in stripe.pages("customers", "list", {"limit": 1})]
            typed = [c["id"] async for c in stripe.customers.paginate("list", limit=1)]
            capped = [p async for p in stripe.pages("customers", "list", {"limit": 1}, max_pages=1)]
            return pages, typed, capped

    pages, typed, capped = run(main())
    assert [[c["id"] for c in p.result] for p in pages] == [["cus_1"], ["cus_2"]]
    assert [p.has_next_page for p in pages] == [True, False]
    assert pages[1].end_cursor is None
    assert typed == ["cus_1", "cus_2"]
    assert len(capped) == 1 and capped[0].has_next_page


def test_submit_then_wait(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_9"], False))

    async def main() -> tuple[str, ExecutionResult]:
        async with connect("stripe") as stripe:
            execution_id = await stripe.submit("customers", "list", {"limit": 1})
            return execution_id, await stripe.wait(execution_id, timeout=10)

    execution_id, result = run(main())
    assert result.execution_id == execution_id
    assert result.result == [{"id": "cus_9", "object": "customer", "email": "cus_9@example.com"}]


def test_close_and_reuse(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], False))

    async def main() -> None:
        stripe = connect("stripe")
        await stripe.execute("customers", "list")
        await stripe.close()
        await stripe.close()  # idempotent
        # A closed executor reopens its pool on the next call.
        assert (await stripe.execute("customers", "list"))[0]["id"] == "cus_1"
        await stripe.close()

    run(main())


def test_check_and_describe(env, make_stripe, upstream):
    connector_id = make_stripe(name="Checked")
    upstream.expect_request("/v1/customers").respond_with_json(customers_page([], False))

    async def main() -> Any:
        async with connect("stripe") as stripe:
            return await stripe.check(), await stripe.describe()

    check, detail = run(main())
    assert check.ok is True and check.message
    assert detail.id == connector_id and detail.name == "Checked" and detail.credential_fields == ["api_key"]


def test_explicit_configuration_beats_the_environment(server, key, make_stripe, upstream, monkeypatch):
    monkeypatch.setenv("PATCHBAY_API_KEY", "pb_wrong_key")
    monkeypatch.setenv("PATCHBAY_URL", "http://127.0.0.1:9")
    make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], False))
    stripe = connect("stripe", api_key=key, base_url=server)
    assert run(execute_once(stripe, "customers", "list"))[0]["id"] == "cus_1"


def test_a_repeated_cursor_stops_the_iterator(env, make_stripe, upstream):
    make_stripe()
    # A broken upstream that always says "more" with the same last id.
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], True))

    async def main() -> list[Any]:
        async with connect("stripe") as stripe:
            return [c async for c in stripe.paginate("customers", "list")]

    with pytest.raises(PatchbayError, match="same cursor"):
        run(main())


def test_workspace_get_connector_is_typed(env, make_stripe):
    connector_id = make_stripe()

    async def main() -> HostedExecutor:
        async with Workspace() as ws:
            return await ws.get_connector(connector_id)

    executor = run(main())
    assert isinstance(executor, StripeConnector) and executor.connector_id == connector_id
    run(executor.close())

"""patchbay.sync: the same operations without await, including from inside a running event loop (notebooks)."""

from __future__ import annotations

import asyncio

import pytest
from patchbay import ConnectorAmbiguityError, ExecutionResult
from patchbay.sync import SyncConnector, Workspace, connect

from connectors.models import Connector
from tests.sdk.conftest import GITHUB_ID, customers_page


def test_workspace_without_await(env):
    with Workspace() as ws:
        (github,) = ws.list_definitions(name="github")
        assert github.id == GITHUB_ID
        connector_id = ws.create_connector(
            definition_id=github.id,
            name="Sync GitHub",
            credentials={"personal_access_token": "ghp_sync"},
            replication_config={"repositories": ["a/b"]},
        )
        assert [c.name for c in ws.list_connectors()] == ["Sync GitHub"]
        assert ws.describe_connector(connector_id).replication_config == {"repositories": ["a/b"]}
        ws.delete_connector(connector_id)
        assert ws.list_connectors() == []
    assert not Connector.objects.exists()


def test_connect_typed_generic_and_paginate(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request("/v1/customers", query_string={"limit": "1"}).respond_with_json(
        customers_page(["cus_1"], True)
    )
    upstream.expect_request("/v1/customers", query_string={"limit": "1", "starting_after": "cus_1"}).respond_with_json(
        customers_page(["cus_2"], False)
    )
    with connect("stripe") as stripe:
        assert isinstance(stripe, SyncConnector)
        assert [c["id"] for c in stripe.customers.list(limit=1)] == ["cus_1"]
        assert [c["id"] for c in stripe.execute("customers", "list", {"limit": 1})] == ["cus_1"]
        raw = stripe.execute_raw("customers", "list", {"limit": 1})
        assert isinstance(raw, ExecutionResult) and raw.has_next_page
        assert [c["id"] for c in stripe.paginate("customers", "list", {"limit": 1})] == ["cus_1", "cus_2"]
        assert [c["id"] for c in stripe.customers.paginate("list", limit=1)] == ["cus_1", "cus_2"]
        assert stripe.connector_id is not None


def test_errors_surface_unchanged(env, make_stripe):
    make_stripe(name="A")
    make_stripe(name="B")
    with pytest.raises(ConnectorAmbiguityError) as caught, connect("stripe") as stripe:
        stripe.execute("customers", "list")
    assert {c.name for c in caught.value.candidates} == {"A", "B"}


def test_works_inside_a_running_event_loop(env, make_stripe, upstream):
    make_stripe()
    upstream.expect_request("/v1/customers").respond_with_json(customers_page(["cus_1"], False))

    async def notebook_cell() -> list[str]:
        # Jupyter runs cells inside an event loop; the facade must still block and return.
        with connect("stripe") as stripe:
            return [c["id"] for c in stripe.customers.list()]

    assert asyncio.run(notebook_cell()) == ["cus_1"]

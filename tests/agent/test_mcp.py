"""The official MCP Python client against /mcp on a live Patchbay (real HTTP), and over stdio to `patchbay mcp`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.factories import api_key_for

from .conftest import STRIPE_KEY, make_connector

pytestmark = pytest.mark.django_db(transaction=True)


def mcp_call(
    url: str, key: str | None, calls: list[tuple[str, dict[str, Any]]], statuses: list[int] | None = None
) -> dict[str, Any]:
    """Connect with the official client, list the tools, make each call; returns what came back. `statuses`
    collects the HTTP status of every answer."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    async def run() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30, event_hooks={"response": [record]}) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            tools = await client.list_tools()
            results = [await client.call_tool(name, args) for name, args in calls]
        return {"tools": tools.tools, "results": results}

    return asyncio.run(run())


def test_tools_over_http(live_server, workspace, vendor) -> None:
    stripe = make_connector(workspace, "stripe")
    key = api_key_for(workspace)
    out = mcp_call(
        f"{live_server.url}/mcp",
        key,
        [
            ("list_connectors", {}),
            ("describe_connector", {"connector": "stripe", "entity": "customers"}),
            ("execute", {"connector": str(stripe.pk), "entity": "customers", "action": "list",
                         "params": {"limit": 2}, "select_fields": ["id", "description"]}),
        ],
    )  # fmt: skip
    assert [t.name for t in out["tools"]] == ["list_connectors", "describe_connector", "execute", "proxy"]
    listed, described, executed = out["results"]
    assert not listed.is_error
    assert listed.structured_content["connectors"][0]["id"] == str(stripe.pk)
    assert "list" in described.structured_content["entities"]["customers"]["actions"]
    assert not executed.is_error, executed.content
    records = executed.structured_content["result"]
    assert [set(r) for r in records] == [{"id", "description"}, {"id", "description"}]
    assert records[0]["description"].startswith("x" * 200) and "truncated" in records[0]["description"]
    assert executed.structured_content["connector_metadata"]["has_next_page"] is True
    assert vendor.last["headers"]["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert STRIPE_KEY not in json.dumps([r.structured_content for r in out["results"]])


def test_per_action_mode_exposes_one_tool_per_action(live_server, workspace, vendor) -> None:
    make_connector(workspace, "github")
    make_connector(workspace, "stripe")
    key = api_key_for(workspace)
    out = mcp_call(
        f"{live_server.url}/mcp?connectors=github&mode=per_action",
        key,
        [("github_issues_list", {"owner": "octo", "repo": "hello", "select_fields": ["number", "title"]})],
    )
    names = {t.name for t in out["tools"]}
    assert "github_issues_list" in names and "github_repositories_get" in names
    assert not any(n.startswith("stripe_") for n in names)  # only the connectors asked for
    by_name = {t.name: t for t in out["tools"]}
    assert by_name["github_issues_list"].annotations.read_only_hint is True
    assert by_name["github_issues_create"].annotations.read_only_hint is False
    (result,) = out["results"]
    assert not result.is_error, result.content
    assert result.structured_content["result"] == [{"number": 1, "title": "First"}]
    assert vendor.last["path"] == "/repos/octo/hello/issues"
    assert vendor.last["headers"]["Authorization"].endswith("ghp_AGENT_token_51c0ffee")


def test_failures_are_tool_errors_with_our_codes(live_server, workspace, other_workspace, vendor) -> None:
    stripe = make_connector(workspace, "stripe")
    theirs = make_connector(other_workspace, "stripe", name="Theirs")
    key = api_key_for(workspace)
    out = mcp_call(
        f"{live_server.url}/mcp",
        key,
        [
            ("execute", {"connector": "stripe", "entity": "nope", "action": "list"}),
            ("execute", {"connector": str(theirs.pk), "entity": "customers", "action": "list"}),
            ("describe_connector", {"connector": str(theirs.pk)}),
            ("proxy", {"connector": str(theirs.pk), "path": "/v1/customers"}),
            ("execute", {"connector": str(stripe.pk), "entity": "customers", "action": "get",
                         "params": {"id": "cus_missing"}}),
            ("proxy", {"connector": "stripe", "path": "//evil.example/steal"}),
            ("no_such_tool", {}),
        ],
    )  # fmt: skip
    codes = [r.structured_content["error_code"] for r in out["results"]]
    assert all(r.is_error for r in out["results"])
    assert codes == [
        "invalid_input",
        "not_found",
        "not_found",
        "not_found",
        "not_found",
        "invalid_input",
        "invalid_input",
    ]
    upstream = out["results"][4].structured_content
    assert upstream["upstream_status"] == 404 and "cus_missing" in upstream["message"]
    assert "theirs" not in json.dumps([r.structured_content for r in out["results"]]).lower()
    assert all(r["path"] != "//evil.example/steal" for r in vendor.requests)


@pytest.mark.parametrize("header", [None, "Bearer pb_deadbeef_wrong", "Basic abc", "Bearer pbt_forged.token"])
def test_missing_or_wrong_key_is_http_401(live_server, workspace, header) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if header:
        headers["Authorization"] = header
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = httpx2.post(f"{live_server.url}/mcp", json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "message" in response.json()


def test_the_official_client_is_refused_with_a_wrong_key(live_server, workspace) -> None:
    statuses: list[int] = []
    with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK wraps the refusal in its own error group
        mcp_call(f"{live_server.url}/mcp", "pb_deadbeef_wrongwrongwrong", [], statuses)
    assert statuses and set(statuses) == {401}


def test_stdio_server_serves_the_same_tools(live_server, workspace, vendor) -> None:
    """`patchbay mcp` over stdio, launched by the official client as a desktop app would."""
    import os
    import sys

    from mcp import StdioServerParameters

    make_connector(workspace, "stripe")
    key = api_key_for(workspace)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "patchbay", "mcp", "--url", live_server.url],
        env={**os.environ, "PATCHBAY_API_KEY": key},
    )

    async def run() -> tuple[Any, Any]:
        async with Client(params) as client:
            tools = await client.list_tools()
            listed = await client.call_tool("execute", {"connector": "stripe", "entity": "customers",
                                                        "action": "list", "select_fields": ["id"]})  # fmt: skip
        return tools, listed

    tools, listed = asyncio.run(run())
    assert [t.name for t in tools.tools] == ["list_connectors", "describe_connector", "execute", "proxy"]
    assert not listed.is_error
    assert listed.structured_content["result"] == [{"id": "cus_1"}, {"id": "cus_2"}]

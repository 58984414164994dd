"""GET /api/v1/integrations/tools: definitions in each provider's own format, valid by that provider's documented
constraints, for every action in the catalog; and patchbay.tools running a model's recorded tool calls."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import anthropic.types
import mcp_types
import openai.types.chat
import openai.types.shared
import pytest
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter

from connectors.models import ConnectorDefinition
from connectors.tools import SCHEMA_KEYWORDS
from tests.conftest import ApiClient
from tests.factories import ConnectorFactory, api_key_for

from .conftest import STRIPE_KEY, make_connector

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # OpenAI's and Anthropic's documented tool-name pattern
TOOLS = "/api/v1/integrations/tools"


def _walk_schemas(schema: Any, at: str = "$"):
    """Every (path, subschema) of a tool's parameters."""
    if not isinstance(schema, dict):
        return
    yield at, schema
    for name, prop in (schema.get("properties") or {}).items():
        yield from _walk_schemas(prop, f"{at}.properties.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _walk_schemas(schema["items"], f"{at}.items")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key) or []):
            yield from _walk_schemas(sub, f"{at}.{key}[{i}]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk_schemas(schema["additionalProperties"], f"{at}.additionalProperties")


@pytest.fixture
def whole_catalog(workspace) -> None:
    """One connector of every type in the catalog (stored directly: the definitions are what is under test)."""
    for definition in ConnectorDefinition.objects.all():
        ConnectorFactory(workspace=workspace, definition=definition, name=f"My {definition.name}")


def test_every_action_in_the_catalog_is_a_valid_tool_for_each_provider(api, whole_catalog) -> None:
    answers = {fmt: api.get(TOOLS, {"format": fmt}).json() for fmt in ("openai", "anthropic", "mcp", "jsonschema")}
    openai_tools = answers["openai"]["tools"]
    expected = sum(
        len(entity["actions"])
        for d in ConnectorDefinition.objects.all()
        for entity in json.loads(d.manifest_json)["entities"].values()
    )
    assert len(openai_tools) == expected > 100
    assert all(len(a["tools"]) == expected for a in answers.values())
    names = [t["function"]["name"] for t in openai_tools]
    assert len(set(names)) == len(names)
    assert set(names) == set(answers["openai"]["routes"])
    for tool in openai_tools:
        function = openai.types.shared.FunctionDefinition.model_validate(tool["function"])
        assert tool["type"] == "function"
        assert NAME.match(function.name), function.name
        assert 0 < len(function.description or "") <= 1024
        parameters = tool["function"]["parameters"]
        Draft202012Validator.check_schema(parameters)
        assert parameters["type"] == "object"
        for at, sub in _walk_schemas(parameters):
            assert set(sub) <= SCHEMA_KEYWORDS, f"{function.name} {at}: {set(sub) - SCHEMA_KEYWORDS}"
    anthropic_tool = TypeAdapter(anthropic.types.ToolParam)
    for tool in answers["anthropic"]["tools"]:
        anthropic_tool.validate_python(tool)
        assert set(tool) <= set(anthropic.types.ToolParam.__annotations__)
        assert NAME.match(tool["name"]) and tool["input_schema"]["type"] == "object"
    for tool in answers["mcp"]["tools"]:
        mcp_types.Tool.model_validate(tool)
    assert [t["name"] for t in answers["jsonschema"]["tools"]] == names


def test_definitions_name_our_actions_and_route_back_to_them(api, workspace) -> None:
    stripe = make_connector(workspace, "stripe")
    body = api.get(TOOLS, {"connectors": "stripe", "format": "anthropic"}).json()
    by_name = {t["name"]: t for t in body["tools"]}
    tool = by_name["stripe_customers_list"]
    assert body["routes"]["stripe_customers_list"] == {
        "connector_id": str(stripe.pk), "connector_type": "stripe", "entity": "customers", "action": "list",
    }  # fmt: skip
    properties = tool["input_schema"]["properties"]
    assert {"limit", "cursor", "select_fields", "exclude_fields"} <= set(properties)
    assert "in" not in properties["limit"] and "aliases" not in properties.get("customer", {})  # ours are gone


def test_two_connectors_of_one_type_get_distinct_names(api, workspace) -> None:
    first = make_connector(workspace, "stripe", name="EU")
    second = make_connector(workspace, "stripe", name="US")
    body = api.get(TOOLS, {"connectors": "stripe"}).json()
    routes = body["routes"]
    ids = {r["connector_id"] for r in routes.values()}
    assert ids == {str(first.pk), str(second.pk)}
    assert f"stripe_{first.pk.hex[:8]}_customers_list" in routes


def test_bad_format_and_unknown_or_foreign_connectors(api, workspace, other_workspace) -> None:
    theirs = make_connector(other_workspace, "stripe")
    bad = api.get(TOOLS, {"format": "gemini"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"
    assert api.get(TOOLS, {"connectors": "stripe"}).status_code == 404  # this workspace has none
    assert api.get(TOOLS, {"connectors": str(theirs.pk)}).status_code == 404
    assert ApiClient(None).get(TOOLS).status_code == 401


# --- patchbay.tools: a recorded model response, dispatched to a loopback vendor -----------------------------------

OPENAI_RESPONSE = {
    "id": "chatcmpl-rec1",
    "object": "chat.completion",
    "created": 1764547200,
    "model": "gpt-recorded",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "stripe_customers_list",
                            "arguments": '{"limit": 2, "select_fields": ["id", "description"]}',
                        },
                    },
                    {"id": "call_2", "type": "function", "function": {"name": "stripe_nope", "arguments": "{}"}},
                    {
                        "id": "call_3",
                        "type": "function",
                        "function": {"name": "stripe_customers_list", "arguments": '{"limit": "lots"}'},
                    },
                ],
            },
        }
    ],
}
ANTHROPIC_RESPONSE = {
    "id": "msg_rec1",
    "type": "message",
    "role": "assistant",
    "model": "claude-recorded",
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 10},
    "content": [
        {"type": "text", "text": "Looking that up."},
        {"type": "tool_use", "id": "toolu_1", "name": "stripe_customers_get", "input": {"id": "cus_42"}},
    ],
}


def test_a_recorded_openai_tool_call_runs_through_patchbay_tools(live_server, workspace, vendor, transactional_db):
    from patchbay.tools import Toolkit

    make_connector(workspace, "stripe")
    key = api_key_for(workspace)
    message = openai.types.chat.ChatCompletion.model_validate(OPENAI_RESPONSE).choices[0].message

    async def run() -> list[dict[str, Any]]:
        toolkit = await Toolkit.load(["stripe"], format="openai", api_key=key, base_url=live_server.url)
        assert "stripe_customers_list" in toolkit.names
        return await toolkit.handle_openai(message)

    ok, unknown, invalid = asyncio.run(run())
    assert ok["role"] == "tool" and ok["tool_call_id"] == "call_1"
    records = json.loads(ok["content"])["result"]
    assert [set(r) for r in records] == [{"id", "description"}] * 2
    assert "truncated" in records[0]["description"] and len(records[0]["description"]) < 300
    assert vendor.last["query"] == {"limit": ["2"]}
    assert vendor.last["headers"]["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert json.loads(unknown["content"])["error"]["code"] == "unknown_tool"
    error = json.loads(invalid["content"])["error"]
    assert error["code"] == "invalid_params" and error["errors"][0]["field"].endswith("limit")
    assert STRIPE_KEY not in json.dumps([ok, unknown, invalid])


def test_a_recorded_anthropic_tool_use_runs_through_patchbay_tools(live_server, workspace, vendor, transactional_db):
    from patchbay.tools import Toolkit

    make_connector(workspace, "stripe")
    key = api_key_for(workspace)
    content = anthropic.types.Message.model_validate(ANTHROPIC_RESPONSE).content

    async def run() -> list[dict[str, Any]]:
        toolkit = await Toolkit.load(["stripe"], format="anthropic", api_key=key, base_url=live_server.url)
        return await toolkit.handle_anthropic(content)

    (block,) = asyncio.run(run())
    assert block["type"] == "tool_result" and block["tool_use_id"] == "toolu_1" and block["is_error"] is False
    assert json.loads(block["content"])["result"]["id"] == "cus_42"
    assert vendor.last["path"] == "/v1/customers/cus_42"

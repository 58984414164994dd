"""The MCP tools, built on the official `mcp` SDK's low-level Server.

Two modes (`/mcp?mode=...`):
- `tools` (default): `list_connectors`, `describe_connector`, `execute`, `proxy`.
- `per_action`: one tool per action of the chosen connectors (`?connectors=github,stripe`), named as the tools
  endpoint names them (`github_issues_list`).

Every call goes through the services the REST API uses (execution_start, proxy_run, the selectors with the key's
limits). A failure is a tool error (`isError`) whose structured content has our `error_code` and `message`, never a
protocol error. Results are truncated (long strings cut, with a marker) unless the call says `skip_truncation`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from mcp.server.lowlevel.server import Server

from core.errors import FieldError, InvalidInput, PatchbayError
from core.ids import is_uuid
from workspaces.models import Workspace
from workspaces.services import Actor

from .. import selectors
from ..catalog import manifest_for
from ..catalog.params import describe_actions
from ..engine.proxy import ProxyRequest
from ..executions.proxy import proxy_run
from ..executions.services import execution_start, execution_wait
from ..models import Connector, ExecutionStatus
from ..projection import MAX_TEXT_CHARS, shape_result, truncate_long_strings
from ..tools import ToolSpec, connector_tools, split_arguments
from ..tools import render as render_tool

MODES = ("tools", "per_action")
MAX_PROXY_TEXT = 100_000  # characters of a non-JSON proxy body an agent gets, unless it skips truncation

CONNECTOR_REF = {
    "type": "string",
    "description": "The connector's id, or its type (e.g. 'github') when the workspace has one of that type.",
}
PROJECTION = {
    "select_fields": {"type": "array", "items": {"type": "string"}, "description": "Dot paths to keep per record."},
    "exclude_fields": {"type": "array", "items": {"type": "string"}, "description": "Dot paths to drop per record."},
    "skip_truncation": {
        "type": "boolean",
        "default": False,
        "description": f"true: return strings longer than {MAX_TEXT_CHARS} characters whole.",
    },
}
GENERIC_TOOLS: list[dict[str, Any]] = [
    {
        "name": "list_connectors",
        "description": "List the connectors (stored credentials for one service each) this key may use.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "connector_type": {"type": "string", "description": "Only this type, e.g. 'stripe'."},
                "status": {"type": "string", "description": "Only this status, e.g. 'active'."},
            },
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": True},
    },
    {
        "name": "describe_connector",
        "description": "A connector's entities and actions, each with its description and parameter JSON Schema.",
        "inputSchema": {
            "type": "object",
            "required": ["connector"],
            "properties": {
                "connector": CONNECTOR_REF,
                "entity": {"type": "string", "description": "Only this entity (smaller answer)."},
            },
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": True},
    },
    {
        "name": "execute",
        "description": (
            "Run one operation (entity + action) on a connector. Lists return records plus "
            "connector_metadata.end_cursor: pass it back as params.cursor for the next page."
        ),
        "inputSchema": {
            "type": "object",
            "required": ["connector", "entity", "action"],
            "properties": {
                "connector": CONNECTOR_REF,
                "entity": {"type": "string", "description": "e.g. 'customers'."},
                "action": {"type": "string", "description": "e.g. 'list', 'get', 'create', 'search'."},
                "params": {"type": "object", "description": "The action's parameters (see describe_connector)."},
                **PROJECTION,
            },
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": False, "openWorldHint": True},
    },
    {
        "name": "proxy",
        "description": (
            "Send one HTTP request to the connector's own API (for endpoints no action covers). The path is "
            "relative to the connector's base URL; Patchbay adds the credentials."
        ),
        "inputSchema": {
            "type": "object",
            "required": ["connector", "path"],
            "properties": {
                "connector": CONNECTOR_REF,
                "method": {"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]},
                "path": {"type": "string", "description": "e.g. '/v1/customers'."},
                "query": {"type": "object", "description": "Query parameters."},
                "headers": {"type": "object", "description": "Extra headers (never Authorization)."},
                "body": {"description": "A JSON value, or a string."},
                "skip_truncation": PROJECTION["skip_truncation"],
            },
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": False, "openWorldHint": True},
    },
]


@dataclass
class McpContext:
    """Who is calling and what they asked for in the URL."""

    workspace: Workspace
    principal: Any  # the ApiKey or ApplicationCredential that authenticated
    actor: Actor
    mode: str = "tools"
    refs: list[str] = field(default_factory=list)


def build_server(ctx: McpContext) -> Server[Any]:
    """A Server for one request's caller (the SDK's stateless mode builds one transport per request)."""

    async def list_tools(_request: Any, _params: Any) -> types.ListToolsResult:
        if ctx.mode == "per_action":
            specs = await sync_to_async(_action_tools)(ctx)
            return types.ListToolsResult(tools=[types.Tool.model_validate(render_tool(s, "mcp")) for s in specs])
        return types.ListToolsResult(tools=[types.Tool.model_validate(t) for t in GENERIC_TOOLS])

    async def call_tool(_request: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await sync_to_async(run_tool)(ctx, params.name, dict(params.arguments or {}))

    return Server(
        "patchbay",
        version="1.0.0",
        instructions=(
            "Patchbay runs operations on third-party APIs with credentials it keeps. Start with list_connectors, "
            "then describe_connector, then execute."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def run_tool(ctx: McpContext, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    """One tool call, answered as a tool result (errors included)."""
    try:
        if ctx.mode == "per_action":
            return _result(_per_action(ctx, name, arguments))
        handler = HANDLERS.get(name)
        if handler is None:
            known = ", ".join(HANDLERS)
            raise InvalidInput(
                f"Unknown tool {name!r}; the tools are {known}.", [FieldError("name", "Unknown tool.", "unknown_tool")]
            )
        return _result(handler(ctx, arguments))
    except PatchbayError as exc:
        errors = [e.as_dict() if hasattr(e, "as_dict") else e for e in getattr(exc, "errors", []) or []]
        return _error({"error_code": exc.code, "message": exc.message, "errors": errors})
    except _ExecutionFailed as failed:
        execution = failed.execution
        payload = {
            "error_code": execution.error_code or execution.status,
            "message": execution.error_message or "The execution has not finished yet.",
            "errors": execution.error_fields or [],
            "execution_id": str(execution.pk),
        }
        if execution.upstream_status:
            payload["upstream_status"] = execution.upstream_status
        if execution.retry_after is not None:
            payload["retry_after"] = execution.retry_after
        return _error(payload)


# --- The tools ----------------------------------------------------------------------------------------------------


def _list_connectors(ctx: McpContext, args: dict[str, Any]) -> dict[str, Any]:
    qs = selectors.connector_list(
        workspace=ctx.workspace, connector_type=_opt_str(args, "connector_type"), principal=ctx.principal
    )
    status = _opt_str(args, "status")
    if status:
        qs = qs.filter(status=status)
    return {
        "connectors": [
            {
                "id": str(c.pk),
                "name": c.name,
                "connector_type": c.definition.slug,
                "type_name": c.definition.name,
                "status": c.status,
                "auth_scheme": c.auth_scheme,
            }
            for c in qs[:200]
        ]
    }


def _describe_connector(ctx: McpContext, args: dict[str, Any]) -> dict[str, Any]:
    connector = _connector(ctx, args)
    entities = describe_actions(manifest_for(connector.definition))
    entity = _opt_str(args, "entity")
    if entity:
        if entity not in entities:
            raise InvalidInput(
                f"{connector.definition.name} has no entity {entity!r}.",
                [FieldError("entity", "Unknown entity.", "unknown_operation")],
            )
        entities = {entity: entities[entity]}
    return {
        "id": str(connector.pk),
        "name": connector.name,
        "connector_type": connector.definition.slug,
        "entities": entities,
    }


def _execute(ctx: McpContext, args: dict[str, Any]) -> dict[str, Any]:
    connector = _connector(ctx, args)
    params = args.get("params") or {}
    return _run(ctx, connector, _req_str(args, "entity"), _req_str(args, "action"), params, args)


def _proxy(ctx: McpContext, args: dict[str, Any]) -> dict[str, Any]:
    connector = _connector(ctx, args)
    request = ProxyRequest(
        method=str(args.get("method") or "GET"),
        path=_req_str(args, "path"),
        query=_opt_dict(args, "query"),
        headers={str(k): str(v) for k, v in _opt_dict(args, "headers").items()},
        body=args.get("body"),
    )
    outcome = proxy_run(connector=connector, request=request, actor=ctx.actor)
    execution = outcome.execution
    if outcome.response is None:
        raise _ExecutionFailed(execution)
    answer = outcome.response
    content_type = answer.content_type or ""
    text = answer.content.decode("utf-8", errors="replace")
    body: Any = text
    if "json" in content_type:
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
    skip = bool(args.get("skip_truncation"))
    if not skip:
        body = truncate_long_strings(body) if not isinstance(body, str) else _cut(body)
    return {
        "status": answer.status_code,
        "headers": dict(answer.headers),
        "body": body,
        "execution_id": str(execution.pk),
    }


HANDLERS = {
    "list_connectors": _list_connectors,
    "describe_connector": _describe_connector,
    "execute": _execute,
    "proxy": _proxy,
}


def _action_tools(ctx: McpContext) -> list[ToolSpec]:
    chosen = selectors.connector_select(workspace=ctx.workspace, refs=ctx.refs, principal=ctx.principal)
    return connector_tools(chosen, principal=ctx.principal)


def _per_action(ctx: McpContext, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    spec = next((s for s in _action_tools(ctx) if s.name == name), None)
    if spec is None:
        raise InvalidInput(f"Unknown tool {name!r}.", [FieldError("name", "Unknown tool.", "unknown_tool")])
    params, options = split_arguments(arguments, spec)
    return _run(ctx, spec.connector, spec.entity, spec.action, params, options)


# --- Helpers ------------------------------------------------------------------------------------------------------


class _ExecutionFailed(Exception):
    def __init__(self, execution: Any) -> None:
        self.execution = execution


def _run(
    ctx: McpContext, connector: Connector, entity: str, action: str, params: Any, options: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise InvalidInput("params must be an object.", [FieldError("params", "Expected object.", "invalid_type")])
    execution = execution_start(
        connector=connector, entity=entity, action=action, params=params, actor=ctx.actor, intent=options.get("intent")
    )
    execution = execution_wait(execution)
    if execution.status != ExecutionStatus.SUCCESS:
        raise _ExecutionFailed(execution)
    result = shape_result(
        execution.result,
        select=_paths(options, "select_fields"),
        exclude=_paths(options, "exclude_fields"),
        skip_truncation=bool(options.get("skip_truncation")),
    )
    meta = execution.connector_metadata or {}
    return {
        "result": result,
        "connector_metadata": {"has_next_page": bool(meta.get("has_next_page")), "end_cursor": meta.get("end_cursor")},
        "execution_id": str(execution.pk),
    }


def _connector(ctx: McpContext, args: dict[str, Any]) -> Connector:
    ref = _req_str(args, "connector")
    if is_uuid(ref):
        return selectors.connector_get(workspace=ctx.workspace, connector_id=ref, principal=ctx.principal)
    return selectors.connector_resolve(workspace=ctx.workspace, connector_type=ref, principal=ctx.principal)


def _result(payload: dict[str, Any]) -> types.CallToolResult:
    return _answer(payload, is_error=False)


def _error(payload: dict[str, Any]) -> types.CallToolResult:
    return _answer(payload, is_error=True)


def _answer(payload: dict[str, Any], *, is_error: bool) -> types.CallToolResult:
    text = json.dumps(payload, cls=DjangoJSONEncoder)
    structured = json.loads(text)  # plain JSON types only
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured, is_error=is_error
    )


def _paths(options: dict[str, Any], name: str) -> list[str] | None:
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise InvalidInput(
            f"{name} must be a list of dot paths.", [FieldError(name, "Expected a list of strings.", "invalid_type")]
        )
    return value


def _req_str(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required.", [FieldError(name, "This field is required.", "required")])
    return value.strip()


def _opt_str(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _opt_dict(args: dict[str, Any], name: str) -> dict[str, Any]:
    value = args.get(name) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be an object.", [FieldError(name, "Expected object.", "invalid_type")])
    return value


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROXY_TEXT else text[:MAX_PROXY_TEXT] + "… [truncated]"

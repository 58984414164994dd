"""Patchbay's operations as tools for LLM APIs (OpenAI, Anthropic), and the dispatch of a model's tool calls.

    from openai import AsyncOpenAI
    from patchbay.tools import Toolkit

    toolkit = await Toolkit.load(connectors=["github", "stripe"], format="openai")
    response = await AsyncOpenAI().chat.completions.create(model=..., messages=messages, tools=toolkit.tools)
    messages += [response.choices[0].message, *await toolkit.handle_openai(response.choices[0].message)]

The definitions come from GET /api/v1/integrations/tools (one tool per action, named like `github_issues_list`).
A tool call runs `execute` with long strings truncated (`skip_truncation=False`); its answer, or its error, is JSON
text the model can read: a failed call never raises, so the model can correct itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import errors
from ._http import HttpClient, decode_body, resolve_config
from .executor import HostedExecutor

TOOLS_PATH = "/integrations/tools"
FORMATS = ("openai", "anthropic", "mcp", "jsonschema")


@dataclass
class ToolCallResult:
    """What a tool call produced: `content` is the JSON text to hand back to the model."""

    tool_call_id: str | None
    name: str
    content: str
    is_error: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Toolkit:
    """Tool definitions in one provider's format, plus the routes that run them."""

    tools: list[dict[str, Any]]
    routes: dict[str, dict[str, Any]]
    format: str = "openai"
    api_key: str | None = None
    base_url: str | None = None
    intent: str | None = None

    @classmethod
    async def load(
        cls,
        connectors: Sequence[str] | None = None,
        *,
        format: str = "openai",  # noqa: A002 - the provider format's name
        api_key: str | None = None,
        base_url: str | None = None,
        intent: str | None = None,
    ) -> Toolkit:
        """Fetch the definitions for `connectors` (types or ids; default: every connector the key may use)."""
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        config = resolve_config(api_key, base_url)
        http = HttpClient(config)
        try:
            params = {"format": format, "connectors": ",".join(connectors) if connectors else None}
            response = await http.call("GET", TOOLS_PATH, params=params, what="tools")
        finally:
            await http.aclose()
        body = decode_body(response)
        return cls(
            tools=list(body.get("tools") or []),
            routes=dict(body.get("routes") or {}),
            format=format,
            api_key=config.api_key,
            base_url=config.base_url,
            intent=intent,
        )

    @property
    def names(self) -> list[str]:
        return list(self.routes)

    async def call(
        self, name: str, arguments: dict[str, Any] | str | None, *, tool_call_id: str | None = None
    ) -> ToolCallResult:
        """Run one tool call. Arguments may be the JSON text OpenAI sends or the object Anthropic sends."""
        route = self.routes.get(name)
        if route is None:
            return self._error(tool_call_id, name, "unknown_tool", f"There is no tool named {name!r}.")
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments or {})
        except ValueError:
            return self._error(tool_call_id, name, "invalid_arguments", "The arguments are not valid JSON.")
        if not isinstance(args, dict):
            return self._error(tool_call_id, name, "invalid_arguments", "The arguments must be a JSON object.")
        select = args.pop("select_fields", None)
        exclude = args.pop("exclude_fields", None)
        executor = HostedExecutor(connector_id=route["connector_id"], api_key=self.api_key, base_url=self.base_url)
        try:
            outcome = await executor.execute_raw(
                route["entity"],
                route["action"],
                args,
                select_fields=select,
                exclude_fields=exclude,
                skip_truncation=False,
                intent=self.intent,
            )
        except errors.PatchbayError as exc:
            fields = [{"field": e.field, "message": e.message} for e in exc.errors]
            code = exc.error_code or ("invalid_params" if exc.status == 422 else type(exc).__name__)
            return self._error(tool_call_id, name, code, str(exc), fields)
        finally:
            await executor.close()
        data = {
            "result": outcome.result,
            "has_next_page": outcome.has_next_page,
            "end_cursor": outcome.end_cursor,
        }
        return ToolCallResult(tool_call_id, name, json.dumps(data, default=str), False, data)

    async def handle_openai(self, message: Any) -> list[dict[str, Any]]:
        """Run every tool call of an OpenAI assistant message; returns the `tool` messages to append."""
        out = []
        for call in _get(message, "tool_calls") or []:
            function = _get(call, "function")
            name, arguments = _get(function, "name"), _get(function, "arguments")
            result = await self.call(name, arguments, tool_call_id=_get(call, "id"))
            out.append({"role": "tool", "tool_call_id": result.tool_call_id, "content": result.content})
        return out

    async def handle_anthropic(self, content: Iterable[Any]) -> list[dict[str, Any]]:
        """Run every `tool_use` block of an Anthropic message's content; returns the `tool_result` blocks for the
        next user message."""
        out = []
        for block in content:
            if _get(block, "type") != "tool_use":
                continue
            result = await self.call(_get(block, "name"), _get(block, "input"), tool_call_id=_get(block, "id"))
            out.append(
                {
                    "type": "tool_result",
                    "tool_use_id": result.tool_call_id,
                    "content": result.content,
                    "is_error": result.is_error,
                }
            )
        return out

    @staticmethod
    def _error(
        tool_call_id: str | None, name: str, code: str, message: str, fields: list[dict[str, Any]] | None = None
    ) -> ToolCallResult:
        data = {"error": {"code": code, "message": message, "errors": fields or []}}
        return ToolCallResult(tool_call_id, name, json.dumps(data), True, data)


def _get(obj: Any, name: str) -> Any:
    """A field of an SDK object (openai/anthropic types) or of a plain dict."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


__all__ = ["FORMATS", "ToolCallResult", "Toolkit"]

"""Tool definitions for LLM APIs and MCP, generated from the manifests: one tool per action of each connector.

A tool is named `<connector type>_<entity>_<action>` (`github_issues_list`; `<type>_<8 hex of the id>_...` when two
of the chosen connectors share a type), within the `^[a-zA-Z0-9_-]{1,64}$` both OpenAI and Anthropic document. Its
parameters are the action's public params schema with Patchbay's own keywords removed (what goes where, aliases,
UI hints), plus `select_fields` / `exclude_fields`. `routes` maps each name back to (connector, entity, action), so a
model's tool call can be run with `execute`. Keys limited to reads get read tools only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .catalog import manifest_for
from .catalog.manifest import Action
from .catalog.params import public_params_schema
from .limits import limits_of
from .models import Connector

FORMATS = ("openai", "anthropic", "mcp", "jsonschema")
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024  # OpenAI's documented limit for a function description; Anthropic's tools take it too

# JSON Schema keywords a tool's parameters may keep; everything else in a params schema is Patchbay's own.
SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "const",
        "description",
        "title",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
        "additionalProperties",
        "anyOf",
        "oneOf",
        "allOf",
        "minProperties",
        "maxProperties",
    }
)
PROJECTION_PARAMS: dict[str, Any] = {
    "select_fields": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Dot paths to keep in each record of the result ('id', 'address.city'). Keeps results small.",
    },
    "exclude_fields": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Dot paths to remove from each record of the result.",
    },
}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    connector: Connector
    entity: str
    action: str
    read_only: bool

    def route(self) -> dict[str, Any]:
        return {
            "connector_id": str(self.connector.pk),
            "connector_type": self.connector.definition.slug,
            "entity": self.entity,
            "action": self.action,
        }


def clean_schema(schema: Any) -> Any:
    """A params schema with only standard JSON Schema keywords (recursively through properties and items)."""
    if isinstance(schema, list):
        return [clean_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in SCHEMA_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: clean_schema(prop) for name, prop in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = clean_schema(value)
        else:
            out[key] = value
    return out


def tool_parameters(action: Action) -> dict[str, Any]:
    schema = clean_schema(public_params_schema(action))
    schema["type"] = "object"
    properties = schema.setdefault("properties", {})
    for name, prop in PROJECTION_PARAMS.items():
        properties.setdefault(name, prop)
    return schema


def tool_name(prefix: str, entity: str, action: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", f"{prefix}_{entity}_{action}")
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def tool_description(connector: Connector, action: Action) -> str:
    what = action.description.strip() or f"{action.name.capitalize()} {action.entity.replace('_', ' ')}."
    text = f"{what} ({connector.definition.name} connector '{connector.name}': {action.entity}.{action.name})"
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def connector_tools(connectors: Iterable[Connector], *, principal: Any = None) -> list[ToolSpec]:
    """Every action of each connector as a tool (reads only for a read-only key), in catalog order."""
    connectors = list(connectors)
    per_type: dict[str, int] = {}
    for connector in connectors:
        per_type[connector.definition.slug] = per_type.get(connector.definition.slug, 0) + 1
    reads_only = limits_of(principal).read_only
    tools: list[ToolSpec] = []
    for connector in connectors:
        slug = connector.definition.slug
        prefix = slug.replace("-", "_")
        if per_type[slug] > 1:
            prefix = f"{prefix}_{connector.pk.hex[:8]}"
        manifest = manifest_for(connector.definition)
        for entity in manifest.entities.values():
            for action in entity.actions.values():
                if reads_only and not action.is_read_only:
                    continue
                tools.append(
                    ToolSpec(
                        name=tool_name(prefix, entity.name, action.name),
                        description=tool_description(connector, action),
                        parameters=tool_parameters(action),
                        connector=connector,
                        entity=entity.name,
                        action=action.name,
                        read_only=action.is_read_only,
                    )
                )
    return tools


def render(tool: ToolSpec, fmt: str) -> dict[str, Any]:
    """One tool in a provider's own shape."""
    if fmt == "openai":
        return {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
        }
    if fmt == "anthropic":
        return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
    if fmt == "mcp":
        return {
            "name": tool.name,
            "description": tool.description,
            "inputSchema": tool.parameters,
            "annotations": {"readOnlyHint": tool.read_only, "destructiveHint": not tool.read_only},
        }
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}


def split_arguments(arguments: dict[str, Any] | None, tool: ToolSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the action's params, the projection options) from a tool call's arguments."""
    params = dict(arguments or {})
    own = manifest_for(tool.connector.definition).action(tool.entity, tool.action).param_properties
    options = {name: params.pop(name) for name in PROJECTION_PARAMS if name in params and name not in own}
    return params, options

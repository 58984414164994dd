"""Action parameters: the public JSON schema of each action, and validation with field errors that never echo values.

Pure Python + jsonschema, no Django: the execution engine uses it too.
"""

from __future__ import annotations

import copy
from typing import Any

from connectors.validation import schema_errors

CURSOR_PARAM = "cursor"
CURSOR_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "Pass connector_metadata.end_cursor from the previous page to fetch the next one.",
}
# Keys of a params property that only the engine needs; kept in the public schema because they tell a caller
# where the value goes, but listed so UIs can ignore them.
LOCATION_KEY = "in"
LOCATIONS = ("path", "query", "body", "header")


class UnknownOperation(LookupError):
    """No such entity or action. `available` maps each entity to its action names."""

    code = "unknown_operation"

    def __init__(self, entity: str, action: str | None, available: dict[str, list[str]]) -> None:
        self.entity = entity
        self.action = action
        self.available = available
        if entity not in available:
            message = f"Unknown entity {entity!r}. Available entities: {', '.join(sorted(available)) or 'none'}."
        else:
            message = (
                f"Unknown action {action!r} for entity {entity!r}. Available actions: {', '.join(available[entity])}."
            )
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def available_operations(manifest: dict[str, Any]) -> dict[str, list[str]]:
    return {name: list(entity.get("actions", {})) for name, entity in manifest.get("entities", {}).items()}


def get_action(manifest: dict[str, Any], entity: str, action: str) -> dict[str, Any]:
    entities = manifest.get("entities") or {}
    spec = (entities.get(entity) or {}).get("actions", {}).get(action) if isinstance(entity, str) else None
    if not isinstance(spec, dict):
        raise UnknownOperation(str(entity), str(action), available_operations(manifest))
    return spec


def is_read_only(action_spec: dict[str, Any]) -> bool:
    """Whether running the action twice is harmless: GET/HEAD and GraphQL queries unless the manifest says."""
    if "read_only" in action_spec:
        return bool(action_spec["read_only"])
    if action_spec.get("method") in ("GET", "HEAD"):
        return True
    query = (action_spec.get("graphql") or {}).get("query", "")
    return action_spec.get("body") == "graphql" and not query.lstrip().startswith("mutation")


def is_paginated(action_spec: dict[str, Any]) -> bool:
    return (action_spec.get("pagination") or {}).get("type", "none") != "none"


def action_params_schema(manifest: dict[str, Any], entity: str, action: str) -> dict[str, Any]:
    """The params JSON schema callers see. Closed (additionalProperties false) unless the manifest opens it;
    paginated actions get a `cursor` property."""
    spec = get_action(manifest, entity, action)
    schema = copy.deepcopy(spec.get("params") or {"type": "object", "properties": {}})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema.setdefault("additionalProperties", False)
    if is_paginated(spec) and CURSOR_PARAM not in schema["properties"]:
        schema["properties"][CURSOR_PARAM] = dict(CURSOR_SCHEMA)
    return schema


def describe_actions(manifest: dict[str, Any]) -> dict[str, Any]:
    """entities -> actions -> {description, method, params, paginated} for the public API."""
    out: dict[str, Any] = {}
    for name, entity in (manifest.get("entities") or {}).items():
        actions = {}
        for action_name, spec in entity.get("actions", {}).items():
            actions[action_name] = {
                "description": spec.get("description", ""),
                "method": spec.get("method", "GET"),
                "params": action_params_schema(manifest, name, action_name),
                "paginated": is_paginated(spec),
            }
        out[name] = {"description": entity.get("description", ""), "actions": actions}
    return out


def _errors(schema: dict[str, Any], params: Any) -> list[dict[str, str]]:
    return [error.as_dict() for error in schema_errors(schema, params, prefix="params")]


def validate_params(manifest: dict[str, Any], entity: str, action: str, params: Any) -> list[dict[str, str]]:
    """Field errors as dicts {"field": "params.<path>", "message", "error_code"}; empty when valid.

    error_code is one of required, unknown_field, invalid_type, invalid_choice, invalid_value.
    Raises UnknownOperation for an unknown entity/action; never raises for any params value.
    """
    schema = action_params_schema(manifest, entity, action)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return [{"field": "params", "message": "Expected object.", "error_code": "invalid_type"}]
    try:
        return _errors(schema, params)
    except (RecursionError, ValueError, TypeError, OverflowError):
        # Pathological input (absurd nesting, huge numbers against multipleOf): refuse it, don't crash.
        return [{"field": "params", "message": "Invalid parameters.", "error_code": "invalid_value"}]

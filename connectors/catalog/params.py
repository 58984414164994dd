"""Action parameters: the public JSON schema of each action, and validation with field errors that never echo values.

Pure Python + jsonschema, no Django: the execution engine uses it too.
"""

from __future__ import annotations

import copy
from typing import Any

from connectors.validation import schema_errors

from .manifest import Action, Manifest, UnknownOperation

__all__ = [
    "CURSOR_PARAM",
    "CURSOR_SCHEMA",
    "LOCATIONS",
    "LOCATION_KEY",
    "UnknownOperation",
    "action_params_schema",
    "describe_actions",
    "public_params_schema",
    "validate_params",
]

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


def public_params_schema(action: Action) -> dict[str, Any]:
    """The params JSON schema callers see (a fresh copy). Closed (additionalProperties false) unless the manifest
    opens it; paginated actions get a `cursor` property."""
    schema = copy.deepcopy(action.params or {"type": "object", "properties": {}})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema.setdefault("additionalProperties", False)
    if action.is_paginated and CURSOR_PARAM not in schema["properties"]:
        schema["properties"][CURSOR_PARAM] = dict(CURSOR_SCHEMA)
    return schema


def action_params_schema(manifest: Manifest, entity: str, action: str) -> dict[str, Any]:
    return public_params_schema(manifest.action(entity, action))


def describe_actions(manifest: Manifest) -> dict[str, Any]:
    """entities -> actions -> {description, method, params, paginated} for the public API."""
    return {
        name: {
            "description": entity.description,
            "actions": {
                action.name: {
                    "description": action.description,
                    "method": action.method,
                    "params": public_params_schema(action),
                    "paginated": action.is_paginated,
                }
                for action in entity.actions.values()
            },
        }
        for name, entity in manifest.entities.items()
    }


def _errors(schema: dict[str, Any], params: Any) -> list[dict[str, str]]:
    return [error.as_dict() for error in schema_errors(schema, params, prefix="params")]


def validate_params(manifest: Manifest, entity: str, action: str, params: Any) -> list[dict[str, str]]:
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

"""Action parameters: the public JSON schema of each action, and validation with field errors that never echo values.

Pure Python + jsonschema, no Django: the execution engine uses it too.
"""

from __future__ import annotations

import copy
import json
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
    "canonical_params",
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
    """entities -> actions -> {description, method, params, paginated[, aliases]} for the public API. A params
    property that may also be called by other names lists them in its `aliases`."""
    return {
        name: {
            "description": entity.description,
            **({"aliases": list(entity.aliases)} if entity.aliases else {}),
            "actions": {
                action.name: {
                    "description": action.description,
                    "method": action.method,
                    "params": public_params_schema(action),
                    "paginated": action.is_paginated,
                    **({"aliases": list(action.aliases)} if action.aliases else {}),
                }
                for action in entity.actions.values()
            },
        }
        for name, entity in manifest.entities.items()
    }


def _resolve_aliases(
    action: Action, params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, str]]]:
    """(params under their own names, {param name: the alias the caller used}, conflict errors)."""
    aliases = action.param_aliases
    if not aliases:
        return params, {}, []
    out: dict[str, Any] = {}
    used: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    for name, value in params.items():
        canonical = aliases.get(name)
        if canonical is None:
            out.setdefault(name, value)
            continue
        if canonical in params or canonical in used:
            both = [canonical, *(a for a, c in aliases.items() if c == canonical and a in params)]
            message = f"Give one of {', '.join(both)}, not several: they are the same parameter."
            errors += [{"field": f"params.{n}", "message": message, "error_code": "conflicting_fields"} for n in both]
            continue
        out[canonical] = value
        used[canonical] = name
    # One error per field even when several aliases clash.
    errors = list({e["field"]: e for e in errors}.values())
    return out, used, errors


def canonical_params(action: Action, params: dict[str, Any]) -> dict[str, Any]:
    """The params with every alias replaced by the param's own name (what requests are built from)."""
    return _resolve_aliases(action, params)[0]


def _as_used(errors: list[dict[str, str]], used: dict[str, str], action: Action) -> list[dict[str, str]]:
    """Errors name the field the caller used; a missing param says which other names it takes."""
    others: dict[str, list[str]] = {}
    for alias, name in action.param_aliases.items():
        others.setdefault(name, []).append(alias)
    out = []
    for error in errors:
        head, dot, rest = error["field"].removeprefix("params.").partition(".")
        bracket = head.find("[")
        name, tail = (head, "") if bracket < 0 else (head[:bracket], head[bracket:])
        if name in used:
            error = {**error, "field": f"params.{used[name]}{tail}{dot}{rest}"}
        elif error["error_code"] == "required" and not tail and not dot and name in others:
            error = {**error, "message": f"This field is required. Also accepted as {', '.join(others[name])}."}
        out.append(error)
    return out


def _errors(schema: dict[str, Any], params: Any, schema_key: str | None = None) -> list[dict[str, str]]:
    return [error.as_dict() for error in schema_errors(schema, params, prefix="params", schema_key=schema_key)]


# id(action) -> (the action, its public schema, that schema as sorted JSON): validated on every execute, and an
# action's schema never changes (manifests are immutable and cached per process). The entry holds the action, so
# its id is not reused while the entry lives.
_CHECKED: dict[int, tuple[Action, dict[str, Any], str]] = {}
_CHECKED_LIMIT = 4096


def _checked_schema(action: Action) -> tuple[dict[str, Any], str]:
    entry = _CHECKED.get(id(action))
    if entry is None or entry[0] is not action:
        schema = public_params_schema(action)
        if len(_CHECKED) >= _CHECKED_LIMIT:
            _CHECKED.clear()
        entry = _CHECKED[id(action)] = (action, schema, json.dumps(schema, sort_keys=True))
    return entry[1], entry[2]


def validate_params(manifest: Manifest, entity: str, action: str, params: Any) -> list[dict[str, str]]:
    """Field errors as dicts {"field": "params.<path>", "message", "error_code"}; empty when valid.

    error_code is one of required, unknown_field, invalid_type, invalid_choice, invalid_value, conflicting_fields
    (a param and its alias both given). A field is named as the caller sent it (an alias when one was used).
    Raises UnknownOperation for an unknown entity/action; never raises for any params value.
    """
    spec = manifest.action(entity, action)
    schema, schema_key = _checked_schema(spec)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return [{"field": "params", "message": "Expected object.", "error_code": "invalid_type"}]
    params, used, conflicts = _resolve_aliases(spec, params)
    if conflicts:
        return conflicts
    try:
        return _as_used(_errors(schema, params, schema_key), used, spec)
    except (RecursionError, ValueError, TypeError, OverflowError):
        # Pathological input (absurd nesting, huge numbers against multipleOf): refuse it, don't crash.
        return [{"field": "params", "message": "Invalid parameters.", "error_code": "invalid_value"}]

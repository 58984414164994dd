"""Action parameters: the public JSON schema of each action, and validation with field errors that never echo values.

Pure Python + jsonschema, no Django: the execution engine uses it too.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

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
                f"Unknown action {action!r} for entity {entity!r}. "
                f"Available actions: {', '.join(available[entity])}."
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


def _join(parts: list[Any]) -> str:
    out = "params"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe(error: ValidationError) -> tuple[str, str]:
    """(message, error_code) from the schema alone: the submitted value may be a secret."""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"Expected {' or '.join(map(str, kinds))}.", "invalid_type"
    if kind in ("enum", "const"):
        choices = expected if kind == "enum" else [expected]
        return "Must be one of: " + ", ".join(json.dumps(c) if not isinstance(c, str) else c for c in choices) + ".", (
            "invalid_choice"
        )
    messages = {
        "minLength": f"Must be at least {_plural(expected, 'character')}.",
        "maxLength": f"Must be at most {_plural(expected, 'character')}.",
        "minItems": f"Must have at least {_plural(expected, 'item')}.",
        "maxItems": f"Must have at most {_plural(expected, 'item')}.",
        "minProperties": f"Must have at least {_plural(expected, 'property')}.",
        "maxProperties": f"Must have at most {_plural(expected, 'property')}.",
        "minimum": f"Must be at least {expected}.",
        "maximum": f"Must be at most {expected}.",
        "exclusiveMinimum": f"Must be greater than {expected}.",
        "exclusiveMaximum": f"Must be less than {expected}.",
        "multipleOf": f"Must be a multiple of {expected}.",
        "pattern": f"Does not match the expected format ({expected}).",
        "format": f"Must be a valid {expected}.",
        "uniqueItems": "Items must be unique.",
    }
    return messages.get(kind, "Invalid value."), "invalid_value"


FORMAT_CHECKER = FormatChecker()


# jsonschema checks date-time only with an optional package installed; vendors reject bad timestamps, so check here.
@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError("no time part")
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FORMAT_CHECKER)


def _errors(schema: dict[str, Any], params: Any) -> list[dict[str, str]]:
    validator = _validator(json.dumps(schema, sort_keys=True))
    out: list[dict[str, str]] = []
    for error in sorted(validator.iter_errors(params), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    out.append({"field": _join([*path, name]), "message": "This field is required.",
                                "error_code": "required"})
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
            for name in error.instance:
                if name not in known:
                    out.append({"field": _join([*path, str(name)]), "message": "Unknown field.",
                                "error_code": "unknown_field"})
        else:
            message, code = _describe(error)
            out.append({"field": _join(path), "message": message, "error_code": code})
    return out


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

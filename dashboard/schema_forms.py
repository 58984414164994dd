"""Renders a JSON Schema (credentials, replication config, action params) as form fields and parses the POST back.

The same module drives the add/edit connector form and the playground. Secret values are never put into a field:
a secret field only knows whether a value is stored (`secret_is_set`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import FieldError

SECRET_KEYWORDS = ("secret", "airbyte_secret")
_INDEX = re.compile(r"^\[(\d+)\]")


@dataclass
class SchemaField:
    key: str
    name: str
    label: str
    kind: str  # text | password | url | email | number | integer | checkbox | select | array | json
    required: bool = False
    help: str = ""
    placeholder: str = ""
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    secret: bool = False
    secret_is_set: bool = False
    # A secret typed into a form that failed validation: never sent back, so the person must paste it again.
    reenter: bool = False
    item_kind: str = "text"
    minimum: Any = None
    maximum: Any = None

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def items(self) -> list[str]:
        return list(self.value) if isinstance(self.value, list | tuple) else []


def is_secret(prop: Mapping[str, Any]) -> bool:
    return any(prop.get(k) for k in SECRET_KEYWORDS)


def ordered_properties(schema: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Properties in `order`, then declaration order; const discriminators (e.g. option_title) are left out."""
    props = [(k, v) for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict) and "const" not in v]
    indexed = list(enumerate(props))
    indexed.sort(key=lambda pair: (pair[1][1].get("order", 10_000), pair[0]))
    return [p for _, p in indexed]


def _type_of(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _kind(prop: Mapping[str, Any]) -> str:
    kind = _type_of(prop)
    if "enum" in prop:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if kind == "array":
        return "array"
    if kind == "object":
        return "json"
    if is_secret(prop):
        return "password"
    if prop.get("format") == "uri":
        return "url"
    if prop.get("format") == "email":
        return "email"
    return "text"


def _label(key: str, prop: Mapping[str, Any]) -> str:
    """The schema's title, else the key in words: properties_with_history, propertiesWithHistory and
    Stripe-Account read "Properties with history" and "Stripe account", never "Propertieswithhistory"."""
    if prop.get("title"):
        return str(prop["title"])
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize()


def _placeholder(prop: Mapping[str, Any]) -> str:
    examples = prop.get("examples") or []
    if examples:
        example = examples[0]
        if isinstance(example, list):
            example = example[0] if example else ""
        if not isinstance(example, dict | list):
            return f"e.g. {example}"
    return ""


def _display(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "array":
        return [json.dumps(v) if isinstance(v, dict | list) else str(v) for v in (value or [])]
    if kind == "checkbox":
        return bool(value)
    if kind == "json":
        return json.dumps(value, indent=2) if not isinstance(value, str) else value
    return str(value)


def errors_by_field(errors: Iterable[FieldError]) -> dict[str, list[str]]:
    """FieldError.field ('credentials.token', 'replication_config.repositories[1]') → messages per input name."""
    out: dict[str, list[str]] = {}
    for error in errors:
        name, message = error.field, error.message
        # Item errors belong to the list input; say which item.
        match = re.match(r"^(.*?)\[(\d+)\](.*)$", name)
        if match:
            name, message = match.group(1), f"Item {int(match.group(2)) + 1}: {message}"
        out.setdefault(name, []).append(message)
    return out


def build_fields(
    schema: Mapping[str, Any] | None,
    *,
    prefix: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    secrets_set: Iterable[str] = (),
    use_defaults: bool = True,
    reenter: Iterable[str] = (),
) -> list[SchemaField]:
    """Fields for `schema`. `values` are non-secret values to show; secret values are dropped here whatever the caller
    passes. `secrets_set` names the secret fields that already hold a value (edit forms)."""
    schema = schema or {}
    values = values or {}
    errors = errors or {}
    secrets_set = set(secrets_set)
    reenter = set(reenter)
    required = set(schema.get("required") or [])
    fields: list[SchemaField] = []
    for key, prop in ordered_properties(schema):
        kind = _kind(prop)
        name = f"{prefix}.{key}" if prefix else key
        secret = is_secret(prop)
        if secret:
            raw: Any = None
        elif key in values:
            raw = values[key]
        elif use_defaults:
            raw = prop.get("default")
        else:
            raw = None
        choices: list[tuple[str, str]] = []
        if kind == "select":
            choices = [(str(v), str(v)) for v in prop["enum"]]
        items = prop.get("items") or {}
        fields.append(
            SchemaField(
                key=key,
                name=name,
                label=_label(key, prop),
                kind=kind,
                required=key in required,
                help=prop.get("description", ""),
                placeholder=_placeholder(prop if kind != "array" else {**items, "examples": prop.get("examples")}),
                value=_display(raw, kind),
                choices=choices,
                errors=errors.get(name, []),
                secret=secret,
                secret_is_set=secret and key in secrets_set,
                reenter=secret and key in reenter,
                item_kind=_kind(items) if kind == "array" else "text",
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
            )
        )
    return fields


def _convert(value: str, prop: Mapping[str, Any]) -> Any:
    kind = _type_of(prop)
    if kind == "integer":
        return int(value)
    if kind == "number":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if kind == "boolean":
        return value.lower() in ("1", "true", "on", "yes")
    if kind in ("object", "array"):
        return json.loads(value)
    return value


_TYPE_MESSAGES = {
    "integer": "Enter a whole number.",
    "number": "Enter a number.",
    "object": "Enter valid JSON.",
    "array": "Enter valid JSON.",
}


def parse_submission(
    schema: Mapping[str, Any] | None, data: Any, *, prefix: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """The POSTed fields of `schema` as typed JSON values. Blank inputs are left out (so 'required' and
    'leave blank to keep the secret' both work). Returns (values, conversion errors)."""
    schema = schema or {}
    out: dict[str, Any] = {}
    problems: list[FieldError] = []
    for key, prop in ordered_properties(schema):
        name = f"{prefix}.{key}" if prefix else key
        kind = _type_of(prop)
        try:
            if kind == "array":
                items_schema = prop.get("items") or {}
                raw_items = [v.strip() for v in data.getlist(name) if v.strip()]
                if raw_items:
                    out[key] = [_convert(v, items_schema) for v in raw_items]
            elif kind == "boolean":
                if f"{name}.present" in data or name in data:
                    out[key] = name in data and data.get(name) not in ("", "false", "0", "off")
            else:
                raw = (data.get(name) or "").strip()
                if raw:
                    out[key] = _convert(raw, prop)
        except (ValueError, TypeError):
            problems.append(FieldError(name, _TYPE_MESSAGES.get(kind, "Invalid value."), "invalid_type"))
    return out, problems


def non_secret_values(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> dict[str, Any]:
    secret = {k for k, p in (schema or {}).get("properties", {}).items() if isinstance(p, dict) and is_secret(p)}
    return {k: v for k, v in values.items() if k not in secret}

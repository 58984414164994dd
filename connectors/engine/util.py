"""Small helpers shared by the engine modules: dotted paths, credential templates, credential values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.catalog.templates import PLACEHOLDER

_MISSING = object()


def dig(data: Any, path: str | None, default: Any = None) -> Any:
    """Value at a dotted path. Integer parts index lists, negative ones from the end (`data.-1.id`); a `key=value`
    part picks a list's first object whose `key` is `value` (`accounts.product=harvest.id`)."""
    if not path:
        return data
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else _MISSING
        elif isinstance(current, list) and "=" in part:
            key, _, wanted = part.partition("=")
            current = next(
                (item for item in current if isinstance(item, Mapping) and scalar(item.get(key)) == wanted), _MISSING
            )
        else:
            return default
        if current is _MISSING:
            return default
    return current


def set_dotted(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            target[part] = nxt
        target = nxt
    target[parts[-1]] = value


def render(template: str, values: Mapping[str, Any]) -> str:
    """Replace {name} with values[name]. Only plain lookups: no attribute access or format specs (str.format would
    let a manifest reach into objects)."""

    def sub(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return scalar(value)

    return PLACEHOLDER.sub(sub, template)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def secret_values(credentials: Mapping[str, Any] | None) -> list[str]:
    """Every string in the credentials long enough to be worth hiding, longest first."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if len(value) >= 4:
                found.append(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(credentials or {})
    return sorted(set(found), key=len, reverse=True)

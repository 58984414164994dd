"""Shaping an execution's result for the caller: dot-path field projection and long-string truncation.

Both work on records: each item of a list result, or the result itself when it is one object. A path walks through
objects key by key and through lists item by item (`lines.data.price` keeps `price` in every line). They shape the
answer only; the stored Execution keeps the whole result.
"""

from __future__ import annotations

from typing import Any

# Airbyte's values: strings longer than this are cut, and the marker says how to get the rest.
MAX_TEXT_CHARS = 200
TRUNCATION_MARKER = "… [truncated: fetch the record with its `get` action for the full value]"

_MISSING = object()


def project_result(result: Any, *, select: list[str] | None = None, exclude: list[str] | None = None) -> Any:
    """Keep only `select` paths (when given), then drop `exclude` paths, in each record."""
    if not select and not exclude:
        return result
    return _each_record(result, lambda record: _project_record(record, select, exclude))


def shape_result(result: Any, *, select: list[str] | None, exclude: list[str] | None, skip_truncation: bool) -> Any:
    """What an execute caller asked to see of a result: projected, then long strings cut unless it skips that."""
    result = project_result(result, select=select, exclude=exclude)
    return result if skip_truncation else truncate_long_strings(result)


def truncate_long_strings(result: Any, max_chars: int = MAX_TEXT_CHARS) -> Any:
    """Cut every string longer than `max_chars`, at any depth, adding TRUNCATION_MARKER."""
    if isinstance(result, dict):
        return {k: truncate_long_strings(v, max_chars) for k, v in result.items()}
    if isinstance(result, list):
        return [truncate_long_strings(v, max_chars) for v in result]
    if isinstance(result, str) and len(result) > max_chars:
        return result[:max_chars] + TRUNCATION_MARKER
    return result


def _each_record(result: Any, shape: Any) -> Any:
    if isinstance(result, list):
        return [shape(record) for record in result]
    return shape(result)


def _project_record(record: Any, select: list[str] | None, exclude: list[str] | None) -> Any:
    if not isinstance(record, dict):
        return record
    if select:
        picked: dict[str, Any] = {}
        for path in select:
            _merge(picked, _pick(record, path.split(".")))
        record = picked
    for path in exclude or []:
        record = _drop(record, path.split("."))
    return record


def _pick(value: Any, path: list[str]) -> Any:
    """The part of `value` that `path` reaches, with its enclosing structure; _MISSING when it reaches nothing."""
    if not path:
        return value
    if isinstance(value, list):
        # Every item keeps its place (an empty object where the path reaches nothing), so picks of several paths
        # through the same list merge item by item.
        items = [_pick(item, path) for item in value]
        if all(item is _MISSING for item in items):
            return _MISSING
        return [{} if item is _MISSING else item for item in items]
    if isinstance(value, dict) and path[0] in value:
        inner = _pick(value[path[0]], path[1:])
        return _MISSING if inner is _MISSING else {path[0]: inner}
    return _MISSING


def _merge(into: dict[str, Any], part: Any) -> None:
    if not isinstance(part, dict):
        return
    for key, value in part.items():
        if key in into and isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value)
        elif key in into and isinstance(into[key], list) and isinstance(value, list) and len(into[key]) == len(value):
            into[key] = [_merged_item(a, b) for a, b in zip(into[key], value, strict=True)]
        else:
            into[key] = value


def _merged_item(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        _merge(out, b)
        return out
    return b


def _drop(value: Any, path: list[str]) -> Any:
    if isinstance(value, list):
        return [_drop(item, path) for item in value]
    if not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {k: v for k, v in value.items() if k != path[0]}
    return {**value, path[0]: _drop(value[path[0]], path[1:])}

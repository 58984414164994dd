"""The playground's context: which entity and action are chosen, and the params form of that action.

Its own module so the connector page (dashboard/views/connectors.py) and the playground views can both use it.
"""

from __future__ import annotations

from typing import Any

from connectors.catalog.manifest import Manifest
from connectors.catalog.params import CURSOR_PARAM, action_params_schema
from connectors.models import Connector
from core.errors import FieldError

from .schema_forms import build_fields, errors_by_field


def choose_operation(manifest: Manifest, entity: str | None, action: str | None) -> tuple[str | None, str | None]:
    """The requested entity and action when they exist, else the first entity and (its) first action."""
    entities = manifest.entities
    if not entities:
        return None, None
    if entity not in entities:
        entity = next(iter(entities))
    actions = entities[entity].actions
    if action not in actions:
        action = next(iter(actions), None)
    return entity, action


def playground_context(
    *,
    connector: Connector,
    manifest: Manifest,
    entity: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    message: str = "",
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    entity, action = choose_operation(manifest, entity, action)
    chosen = manifest.action(entity, action) if entity and action else None
    fields = []
    if chosen is not None:
        schema = action_params_schema(manifest, chosen.entity, chosen.name)
        # The cursor is driven by the "Next page" button, not typed in.
        schema = {**schema, "properties": {k: v for k, v in schema["properties"].items() if k != CURSOR_PARAM}}
        fields = build_fields(schema, prefix="params", values=values, errors=errors_by_field(errors or []))
    claimed = {f.name for f in fields}
    actions = manifest.entities[entity].actions if entity else {}
    return {
        "pg_entities": [(name, e.description) for name, e in manifest.entities.items()],
        "pg_actions": [(name, a.description) for name, a in actions.items()],
        "pg_entity": entity,
        "pg_action": action,
        "pg_action_spec": chosen,
        "pg_paginated": bool(chosen and chosen.is_paginated),
        "pg_fields": fields,
        "pg_errors": [m for f, ms in errors_by_field(errors or []).items() if f not in claimed for m in ms],
        "pg_message": message,
        "pg_run": run,
    }

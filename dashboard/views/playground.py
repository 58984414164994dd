"""The playground on the connector page: pick entity and action, fill the params form, run, page through results."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from connectors.models import Connector
from connectors.selectors import connector_get, effective_manifest
from workspaces.errors import FieldError, InvalidInput, PatchbayError
from workspaces.models import Role

from ..access import actor_for, workspace_for
from ..schema_forms import build_fields, errors_by_field, parse_submission
from .common import domain_errors, page

TEMPLATE = "dashboard/connectors/detail.html"


def params_schema(manifest: dict[str, Any], entity: str, action: str) -> dict[str, Any]:
    try:
        from connectors.catalog.params import action_params_schema
    except ImportError:  # lands with the execution engine; until then the manifest's own params schema
        spec = manifest["entities"][entity]["actions"][action]
        schema = dict(spec.get("params") or {"type": "object", "properties": {}})
        if spec.get("pagination"):
            schema["properties"] = {
                **schema.get("properties", {}),
                "cursor": {"type": "string", "description": "end_cursor of the previous page."},
            }
        return schema
    return action_params_schema(manifest, entity, action)


def _choose(manifest: dict[str, Any], entity: str | None, action: str | None) -> tuple[str | None, str | None]:
    entities = manifest.get("entities") or {}
    if not entities:
        return None, None
    if entity not in entities:
        entity = next(iter(entities))
    actions = entities[entity].get("actions") or {}
    if action not in actions:
        action = next(iter(actions), None)
    return entity, action


def playground_context(
    *,
    connector: Connector,
    manifest: dict[str, Any],
    entity: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    message: str = "",
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    entity, action = _choose(manifest, entity, action)
    entities = manifest.get("entities") or {}
    fields = []
    action_spec: dict[str, Any] = {}
    if entity and action:
        action_spec = entities[entity]["actions"][action]
        schema = params_schema(manifest, entity, action)
        # The cursor is driven by the "Next page" button, not typed in.
        schema = {**schema, "properties": {k: v for k, v in schema.get("properties", {}).items() if k != "cursor"}}
        fields = build_fields(schema, prefix="params", values=values, errors=errors_by_field(errors or []))
    claimed = {f.name for f in fields}
    actions = (entities.get(entity) or {}).get("actions") or {}
    return {
        "pg_entities": [(name, spec.get("description", "")) for name, spec in entities.items()],
        "pg_actions": [(name, spec.get("description", "")) for name, spec in actions.items()],
        "pg_entity": entity,
        "pg_action": action,
        "pg_action_spec": action_spec,
        "pg_paginated": (action_spec.get("pagination") or {}).get("type", "none") != "none",
        "pg_fields": fields,
        "pg_errors": [m for f, ms in errors_by_field(errors or []).items() if f not in claimed for m in ms],
        "pg_message": message,
        "pg_run": run,
    }


def _full(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Without HTMX the whole connector page is rendered, so it needs the rest of the page's context too."""
    if request.htmx:
        return context
    from .connectors import _detail_context

    return {**_detail_context(request, context["membership"], context["connector"]), **context}


@require_GET
@login_required
@domain_errors
def playground_form(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    manifest = effective_manifest(connector.definition)
    entity = request.GET.get("entity")
    action = request.GET.get("action")
    # A new entity starts with its first action; a new action starts with an empty params form.
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "connector": connector,
        **playground_context(connector=connector, manifest=manifest, entity=entity, action=action),
    }
    return page(request, TEMPLATE, _full(request, context), partial="playground")


@require_POST
@login_required
@domain_errors
def playground_run(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    from connectors.execution import execution_body, execution_start, execution_wait

    membership = workspace_for(request, slug, Role.OPERATOR)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    manifest = effective_manifest(connector.definition)
    entity, action = _choose(manifest, request.POST.get("entity"), request.POST.get("action"))
    schema = params_schema(manifest, entity, action) if entity and action else {}
    params, problems = parse_submission(schema, request.POST, prefix="params")
    cursor = request.POST.get("cursor", "").strip()
    if cursor:
        params["cursor"] = cursor
    run: dict[str, Any] | None = None
    errors: list[FieldError] = []
    message = ""
    status = 200
    try:
        if problems:
            raise InvalidInput("Some parameters need attention.", problems)
        execution = execution_wait(
            execution_start(
                connector=connector,
                entity=entity,
                action=action,
                params=params,
                actor=actor_for(request),
                run_async=False,
            ),
            timeout=settings.PATCHBAY_EXECUTE_TIMEOUT,
        )
        body = execution_body(execution)
        metadata = body.get("connector_metadata") or {}
        run = {
            "execution": execution,
            "url": reverse("dashboard:execution_detail", kwargs={"slug": slug, "execution_id": execution.pk}),
            "status": body.get("status", execution.status),
            "json": json.dumps(body.get("result"), indent=2, ensure_ascii=False, default=str),
            "metadata": metadata,
            "execution_metadata": body.get("execution_metadata") or {},
            "error": body.get("message", "") if body.get("status") == "error" else "",
            "error_code": body.get("error_code", ""),
            "next_cursor": metadata.get("end_cursor") if metadata.get("has_next_page") else None,
            "cursor": cursor,
        }
    except InvalidInput as exc:
        errors, message, status = exc.errors, exc.message, 422
    except PatchbayError as exc:
        message, status = exc.message, exc.status_code
    values = {k: v for k, v in params.items() if k != "cursor"}
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "connector": connector,
        **playground_context(
            connector=connector,
            manifest=manifest,
            entity=entity,
            action=action,
            values=values,
            errors=errors,
            message=message,
            run=run,
        ),
    }
    return page(request, TEMPLATE, _full(request, context), partial="playground", status=status)

"""The playground on the connector page: pick entity and action, fill the params form, run, page through results."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from connectors.api import execution_body
from connectors.catalog import manifest_for
from connectors.catalog.params import action_params_schema
from connectors.executions.services import execution_start, execution_wait
from connectors.selectors import connector_get
from core.errors import FieldError, InvalidInput, PatchbayError
from core.http import status_of
from workspaces.models import Role

from ..access import actor_for, workspace_for
from ..playground import choose_operation, playground_context
from ..schema_forms import parse_submission
from .common import domain_errors, page
from .connectors import detail_context

TEMPLATE = "dashboard/connectors/detail.html"


def _full(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Without HTMX the whole connector page is rendered, so it needs the rest of the page's context too."""
    if request.htmx:
        return context
    return {**detail_context(request, context["membership"], context["connector"]), **context}


@require_GET
@login_required
@domain_errors
def playground_form(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    manifest = manifest_for(connector.definition)
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
    membership = workspace_for(request, slug, Role.OPERATOR)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    manifest = manifest_for(connector.definition)
    entity, action = choose_operation(manifest, request.POST.get("entity"), request.POST.get("action"))
    schema = action_params_schema(manifest, entity, action) if entity and action else {}
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
        message, status = exc.message, status_of(exc)
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

"""REST handlers for definitions and connectors. Thin: parse, call a selector or service, shape the answer."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from ninja import Query, Router
from ninja.renderers import JSONRenderer
from ninja.responses import Status

from core.errors import FieldError, InvalidInput, TokenUnavailable
from core.http import airbyte_shapes, error_body, presentable, status_for
from workspaces.auth import ApiKeyAuth, actor_for, check_workspace_name
from workspaces.services import Actor

from . import selectors, services
from .catalog import manifest_for
from .catalog.describe import public_description
from .catalog.manifest import UnknownOperation
from .engine.proxy import ProxyRequest
from .executions import selectors as execution_selectors
from .executions.proxy import proxy_run
from .executions.services import check_credentials, execution_start, execution_wait
from .limits import check_connector, check_new_connector
from .models import Connector, ConnectorDefinition, Execution, ExecutionStatus
from .oauth import services as oauth_services
from .projection import shape_result
from .schemas import (
    CheckOut,
    ConflictOut,
    ConnectorCreateIn,
    ConnectorDetailOut,
    ConnectorListOut,
    ConnectorUpdateIn,
    DefinitionListOut,
    ErrorOut,
    ExecuteIn,
    ExecutionAcceptedOut,
    ExecutionOut,
    OAuthAppIn,
    OAuthAppOut,
    OAuthInitiateIn,
    OAuthInitiateOut,
    ProxyIn,
    RevokeOut,
    ToolsOut,
)
from .tools import FORMATS as TOOL_FORMATS
from .tools import connector_tools
from .tools import render as render_tool
from .validation import misplaced_config_errors

definitions_router = Router(tags=["definitions"])
router = Router(auth=ApiKeyAuth(), tags=["connectors"])

RENDERER = JSONRenderer()
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def unknown_body_fields(request: HttpRequest, schema: type) -> list[str]:
    """Top-level keys the schema does not know (ninja's Schema drops extras before we can see them)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return []
    return [k for k in body if k not in schema.model_fields] if isinstance(body, dict) else []


def actor_from(request: HttpRequest) -> Actor:
    return actor_for(request)


def _connector(request: HttpRequest, connector_id: Any) -> Connector:
    """The caller's connector: 404 outside its workspace, 403 outside its key's limits."""
    return selectors.connector_get(workspace=request.workspace, connector_id=connector_id, principal=request.auth)  # type: ignore[attr-defined]


def icon_url(definition: ConnectorDefinition) -> str | None:
    if not definition.icon:
        return None
    return settings.PATCHBAY_PUBLIC_URL.rstrip("/") + static(f"connectors/icons/{definition.icon}")


def definition_summary(definition: ConnectorDefinition) -> dict[str, Any]:
    return {
        "sourceDefinitionId": definition.pk,
        "name": definition.name,
        "slug": definition.slug,
        "iconUrl": icon_url(definition),
        "authSchemes": [
            {"key": s.key, "title": s.title, "type": s.type} for s in manifest_for(definition).auth_schemes
        ],
    }


def connector_info(connector: Connector) -> dict[str, Any]:
    return {
        "id": connector.pk,
        "name": connector.name,
        "connector_type": connector.definition.name,
        "slug": connector.definition.slug,
        "definition_id": connector.definition_id,
        "status": connector.status,
        "end_user_id": connector.end_user_id or None,
        "created_at": connector.created_at,
        "updated_at": connector.updated_at,
        "last_used_at": connector.last_used_at,
        # The hosted product's names for the connector type, read by Airbyte's SDK and MCP server.
        "summarized_source_template": {"name": connector.definition.name},
        "source_template": {"source_definition_id": connector.definition_id},
    }


def connector_detail(connector: Connector) -> dict[str, Any]:
    return {
        **connector_info(connector),
        "auth_scheme": connector.auth_scheme,
        "replication_config": connector.replication_config,
        "credential_fields": selectors.connector_credential_fields(connector),
        "status_detail": connector.status_detail,
        "token_expires_at": connector.token_expires_at,
        "token_scopes": connector.token_scopes,
    }


# --- Definitions (public) --------------------------------------------------------------------------------------


@definitions_router.get("/sources", response=DefinitionListOut, summary="List connector types")
def list_definitions(request: HttpRequest, name: str | None = None) -> dict[str, Any]:
    """Public. `name` matches the display name or the slug, case-insensitively."""
    return {"definitions": [definition_summary(d) for d in selectors.definition_list(name=name)]}


@definitions_router.get(
    "/sources/{definition_id}", response={200: dict, 404: ErrorOut}, summary="Describe a connector type"
)
def get_definition(request: HttpRequest, definition_id: str) -> dict[str, Any]:
    """Public. Credential schema per auth scheme, replication config schema, entities and actions with params."""
    definition = selectors.definition_get(definition_id=definition_id)
    return {**definition_summary(definition), **public_description(manifest_for(definition))}


# --- Connectors ------------------------------------------------------------------------------------------------


@router.post("/connectors", response={201: ConnectorDetailOut, **ERRORS}, summary="Create a connector")
def create_connector(request: HttpRequest, payload: ConnectorCreateIn) -> Status:
    check_workspace_name(request.workspace, payload.workspace_name)  # type: ignore[attr-defined]
    definition = selectors.definition_resolve(
        definition_id=payload.definition_id, connector_type=payload.connector_type
    )
    check_new_connector(request.auth, definition.slug)
    extra = unknown_body_fields(request, ConnectorCreateIn)
    if extra:
        errors = misplaced_config_errors(manifest_for(definition), extra, where="")
        misplaced = {e.field for e in errors}
        errors += [FieldError(k, "Unknown field.", "unknown_field") for k in extra if k not in misplaced]
        raise InvalidInput(errors[0].message if misplaced else "Unknown fields in the request body.", errors)
    connector = services.connector_create(
        workspace=request.workspace,  # type: ignore[attr-defined]
        definition=definition,
        name=payload.name,
        credentials=payload.credentials,
        replication_config=payload.replication_config,
        auth_scheme=payload.auth_scheme,
        actor=actor_from(request),
        check=payload.check,
        end_user_id=payload.end_user_id or "",
    )
    return Status(201, connector_detail(connector))


# A list call without `limit` answers up to this many rows: enough for a client that never follows `next` (Airbyte's
# SDK reads one page). Explicit pages stay small (50 by default with a cursor, 200 at most).
UNPAGED_LIST_LIMIT = 1000


@router.get("/connectors", response={200: ConnectorListOut, **ERRORS}, summary="List connectors")
def list_connectors(
    request: HttpRequest,
    connector_type: str | None = None,
    definition_id: str | None = None,
    end_user_id: str | None = Query(None, max_length=200, description="Only this end user's connectors."),  # noqa: B008
    workspace_name: str | None = Query(None, description="'default', or this workspace's name or slug."),  # noqa: B008
    cursor: str | None = None,
    limit: int | None = Query(  # noqa: B008
        None, ge=1, le=200, description=f"Page size. Omitted: up to {UNPAGED_LIST_LIMIT} rows in one page."
    ),
) -> dict[str, Any]:
    workspace = request.workspace  # type: ignore[attr-defined]
    check_workspace_name(workspace, workspace_name)
    qs = selectors.connector_list(
        workspace=workspace,
        connector_type=connector_type,
        definition_id=definition_id,
        end_user_id=end_user_id,
        principal=request.auth,
    )
    rows, next_cursor = selectors.paginate(qs, cursor=cursor, limit=limit or UNPAGED_LIST_LIMIT)
    next_url = None
    if next_cursor:
        params = request.GET.copy()
        params["cursor"] = next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return {"data": [connector_info(c) for c in rows], "next": next_url}


@router.get(
    "/connectors/resolve", response={200: ConnectorDetailOut, 409: ConflictOut, **ERRORS}, summary="Resolve a slug"
)
def resolve_connector(request: HttpRequest, connector_type: str, end_user_id: str | None = None) -> dict[str, Any]:
    """The workspace's one connector of this type (of this end user, when given); 404 when none, 409 with the
    candidates when several."""
    return connector_detail(
        selectors.connector_resolve(
            workspace=request.workspace,  # type: ignore[attr-defined]
            connector_type=connector_type,
            end_user_id=end_user_id,
            principal=request.auth,
        )
    )


@router.get("/connectors/{connector_id}", response={200: ConnectorDetailOut, **ERRORS}, summary="Get a connector")
def get_connector(
    request: HttpRequest,
    connector_id: str,
    workspace_name: str | None = Query(None, description="'default', or this workspace's name or slug."),  # noqa: B008
) -> dict[str, Any]:
    check_workspace_name(request.workspace, workspace_name)  # type: ignore[attr-defined]
    return connector_detail(_connector(request, connector_id))  # type: ignore[attr-defined]


@router.patch("/connectors/{connector_id}", response={200: ConnectorDetailOut, **ERRORS}, summary="Update a connector")
def update_connector(request: HttpRequest, connector_id: str, payload: ConnectorUpdateIn) -> dict[str, Any]:
    connector = _connector(request, connector_id)  # type: ignore[attr-defined]
    connector = services.connector_update(
        connector=connector,
        actor=actor_from(request),
        name=payload.name,
        credentials=payload.credentials,
        replication_config=payload.replication_config,
    )
    return connector_detail(connector)


@router.delete("/connectors/{connector_id}", response={204: None, **ERRORS}, summary="Delete a connector")
def delete_connector(request: HttpRequest, connector_id: str) -> HttpResponse:
    connector = _connector(request, connector_id)  # type: ignore[attr-defined]
    services.connector_delete(connector=connector, actor=actor_from(request))
    return HttpResponse(status=204)


# --- Execution -------------------------------------------------------------------------------------------------

EXECUTION_RESPONSES: dict[int, Any] = {
    200: ExecutionOut,
    202: ExecutionAcceptedOut | ExecutionOut,
    400: ExecutionOut,
    401: ErrorOut,
    404: ExecutionOut | ErrorOut,
    422: ErrorOut,
    424: ExecutionOut,
    429: ExecutionOut,
    500: ExecutionOut,
    502: ExecutionOut,
    503: ExecutionOut,
    504: ExecutionOut,
}


def execution_http_status(execution: Execution) -> int:
    if execution.status == ExecutionStatus.SUCCESS:
        return 200
    if execution.status != ExecutionStatus.ERROR:
        return 202
    return status_for(execution.error_code)


def vendor_page_keys(definition: ConnectorDefinition, execution: Execution) -> dict[str, Any]:
    """The vendor's own pagination keys beside ours (Stripe's `has_more`), where the manifest names a key our
    normalised values were read from: the same facts under the vendor's names, not a second reading of the body."""
    try:
        pagination = manifest_for(definition).action(execution.entity, execution.action).pagination
    except UnknownOperation:
        return {}
    meta = execution.connector_metadata or {}
    has_next = bool(meta.get("has_next_page", False))
    keys: dict[str, Any] = {}
    if pagination.type == "cursor":
        if pagination.has_more:
            keys[pagination.has_more.rsplit(".", 1)[-1]] = has_next
        if "." not in pagination.next_cursor:
            keys[pagination.next_cursor] = meta.get("end_cursor")
    elif pagination.type == "next_url" and pagination.done:
        keys[pagination.done.rsplit(".", 1)[-1]] = not has_next
    elif pagination.type in ("offset", "page") and pagination.is_last:
        keys[pagination.is_last.rsplit(".", 1)[-1]] = not has_next
    return {k: v for k, v in keys.items() if k not in ("has_next_page", "end_cursor")}


def execution_body(
    execution: Execution,
    *,
    definition: ConnectorDefinition | None = None,
    shape: ExecuteIn | None = None,
    airbyte: bool = False,
) -> dict[str, Any]:
    """The answer for one execution. `shape` (the execute request) projects and truncates the result; `airbyte`
    adds the hosted product's keys (the vendor's pagination keys, presentable field errors) for Airbyte's SDK."""
    done = execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR)
    succeeded = execution.status == ExecutionStatus.SUCCESS
    result = execution.result if succeeded else None
    if succeeded and shape is not None:
        result = shape_result(
            result, select=shape.select_fields, exclude=shape.exclude_fields, skip_truncation=shape.skip_truncation
        )
    metadata: dict[str, Any] = {
        "has_next_page": bool((execution.connector_metadata or {}).get("has_next_page", False)),
        "end_cursor": (execution.connector_metadata or {}).get("end_cursor"),
    }
    if succeeded and airbyte:
        metadata.update(vendor_page_keys(definition or execution.connector.definition, execution))
    body: dict[str, Any] = {
        "status": execution.status,
        "result": result,
        "connector_metadata": metadata,
        "execution_metadata": {
            "execution_id": str(execution.pk),
            "execution_time_ms": execution.duration_ms,
            "attempts": execution.attempts,
        },
    }
    if execution.status == ExecutionStatus.ERROR:
        body.update(
            message=execution.error_message,
            errors=[presentable(e) if airbyte else e for e in execution.error_fields or []],
            error_code=execution.error_code,
        )
        if execution.upstream_status:
            body["upstream_status"] = execution.upstream_status
        if execution.retry_after is not None:
            body["retry_after"] = execution.retry_after
    elif not done:
        body.update(message=f"Still running: poll GET /api/v1/integrations/executions/{execution.pk}.")
    return body


def json_response(request: HttpRequest, body: Any, status: int, retry_after: int | None = None) -> HttpResponse:
    """A response rendered as the API renders every other one (nothing here imports config.api)."""
    response = HttpResponse(
        RENDERER.render(request, body, response_status=status),
        status=status,
        content_type=f"{RENDERER.media_type}; charset={RENDERER.charset}",
    )
    if retry_after and status in (429, 503):
        response["Retry-After"] = str(retry_after)
    return response


def execution_response(
    request: HttpRequest,
    execution: Execution,
    *,
    definition: ConnectorDefinition | None = None,
    shape: ExecuteIn | None = None,
) -> HttpResponse:
    body = execution_body(execution, definition=definition, shape=shape, airbyte=airbyte_shapes(request))
    return json_response(request, body, execution_http_status(execution), execution.retry_after)


@router.post("/connectors/{connector_id}/execute", response=EXECUTION_RESPONSES, summary="Run an operation")
def execute(request: HttpRequest, connector_id: str, payload: ExecuteIn) -> HttpResponse:
    """Validate params, record an Execution, run it on a worker and wait for the answer (or 202 with `async`)."""
    connector = _connector(request, connector_id)  # type: ignore[attr-defined]
    execution = execution_start(
        connector=connector,
        entity=payload.entity,
        action=payload.action,
        params=payload.params,
        actor=actor_from(request),
        run_async=payload.run_async,
        intent=payload.intent,
    )
    if payload.run_async:
        return Status(202, {"execution_id": str(execution.pk), "status": execution.status})  # type: ignore[return-value]
    return execution_response(request, execution_wait(execution), definition=connector.definition, shape=payload)


@router.get("/executions/{execution_id}", response=EXECUTION_RESPONSES, summary="Get an execution")
def get_execution(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_selectors.execution_get(workspace=request.workspace, execution_id=execution_id)  # type: ignore[attr-defined]
    check_connector(request.auth, execution.connector)
    return execution_response(request, execution)


@router.post("/connectors/{connector_id}/check", response={200: CheckOut, **ERRORS}, summary="Check credentials")
def check(request: HttpRequest, connector_id: str) -> dict[str, Any]:
    """Runs the connector type's check operation; `ok` says whether the service accepted the credentials."""
    connector = _connector(request, connector_id)  # type: ignore[attr-defined]
    result = check_credentials(connector=connector, actor=actor_from(request))
    return {"ok": result.ok, "message": result.message, "execution_id": result.execution_id}


# --- The agent surface: proxy and tool definitions ----------------------------------------------------------------


@router.post(
    "/connectors/{connector_id}/proxy",
    response={200: dict, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 502: ExecutionOut},
    summary="Send one request to the connector's API",
)
def proxy(request: HttpRequest, connector_id: str, payload: ProxyIn) -> HttpResponse:
    """One request to the connector's own base URL with its credentials applied (OAuth refreshed as for execute),
    retried and bounded like an operation and recorded as an execution. The vendor's status, headers (minus
    hop-by-hop and auth) and body come back as they are, with `X-Patchbay-Execution-Id`."""
    connector = _connector(request, connector_id)
    outcome = proxy_run(
        connector=connector,
        request=ProxyRequest(payload.method, payload.path, payload.query, payload.headers, payload.body),
        actor=actor_from(request),
        intent=payload.intent,
    )
    if outcome.response is None:  # no answer: timeout, connection error, too large, token unavailable
        return execution_response(request, outcome.execution, definition=connector.definition)
    answer = outcome.response
    response = HttpResponse(answer.content, status=answer.status_code)
    for name, value in answer.headers:
        response[name] = value
    response["X-Patchbay-Execution-Id"] = str(outcome.execution.pk)
    return response


@router.get("/tools", response={200: ToolsOut, **ERRORS, 403: ErrorOut}, summary="Tool definitions for LLM APIs")
def tools(
    request: HttpRequest,
    connectors: str | None = Query(None, description="Comma-separated connector ids or types; omitted: all."),  # noqa: B008
    format: str = Query("openai", description="openai | anthropic | mcp | jsonschema"),  # noqa: A002, B008
) -> dict[str, Any]:
    """One tool per action of each chosen connector, in the provider's own format, and the routes that turn a
    model's tool call into `execute` (the SDK's `patchbay.tools` does it for you)."""
    if format not in TOOL_FORMATS:
        message = f"format must be one of {', '.join(TOOL_FORMATS)}."
        raise InvalidInput(message, [FieldError("format", message, "invalid_value")])
    refs = [r.strip() for r in (connectors or "").split(",") if r.strip()]
    chosen = selectors.connector_select(workspace=request.workspace, refs=refs, principal=request.auth)  # type: ignore[attr-defined]
    specs = connector_tools(chosen, principal=request.auth)
    return {"tools": [render_tool(t, format) for t in specs], "routes": {t.name: t.route() for t in specs}}


# --- OAuth -----------------------------------------------------------------------------------------------------


@router.post("/connectors/oauth/initiate", response={200: OAuthInitiateOut, **ERRORS}, summary="Start OAuth")
def oauth_initiate_endpoint(request: HttpRequest, payload: OAuthInitiateIn) -> dict[str, Any]:
    """Returns the provider's consent URL. After consent the browser lands on `redirect_url?connector_id=…`."""
    workspace = request.workspace  # type: ignore[attr-defined]
    connector = None
    if payload.connector_id:
        connector = _connector(request, payload.connector_id)
        definition = connector.definition
    else:
        definition = selectors.definition_resolve(
            definition_id=payload.definition_id, connector_type=payload.connector_type
        )
    consent_url = oauth_services.oauth_initiate(
        workspace=workspace,
        definition=definition,
        redirect_url=payload.redirect_url,
        name=payload.name,
        replication_config=payload.replication_config,
        actor=actor_from(request),
        connector=connector,
        auth_scheme=payload.auth_scheme,
    )
    return {"consent_url": consent_url}


def _token_unavailable_response(request: HttpRequest, exc: TokenUnavailable) -> HttpResponse:
    body = error_body(exc.message, error_code=exc.code)
    return json_response(request, body, status_for(exc.code, 424), exc.retry_after)


@router.post(
    "/connectors/{connector_id}/refresh", response={200: ConnectorDetailOut, 424: ErrorOut, 503: ErrorOut, **ERRORS}
)
def refresh(request: HttpRequest, connector_id: str):  # noqa: ANN201
    """Force an access-token refresh now (audited)."""
    connector = _connector(request, connector_id)  # type: ignore[attr-defined]
    try:
        connector = oauth_services.token_refresh(connector=connector, actor=actor_from(request))
    except TokenUnavailable as exc:
        return _token_unavailable_response(request, exc)
    return connector_detail(connector)


@router.post("/connectors/{connector_id}/revoke", response={200: RevokeOut, **ERRORS}, summary="Revoke tokens")
def revoke(request: HttpRequest, connector_id: str) -> dict[str, Any]:
    """Revoke at the provider (where it has an endpoint), then wipe the stored tokens (audited)."""
    connector = _connector(request, connector_id)  # type: ignore[attr-defined]
    told = oauth_services.token_revoke(connector=connector, actor=actor_from(request))
    connector.refresh_from_db()
    return {"revoked_at_provider": told, "status": connector.status}


def oauth_app_out(app) -> dict[str, Any]:  # noqa: ANN001
    return {
        "connector_type": app.definition.slug,
        "definition_id": app.definition_id,
        "client_id": app.client_id,
        "scopes": app.scopes.split(),
        "created_at": app.created_at,
        "updated_at": app.updated_at,
    }


@router.get("/oauth-apps", response={200: list[OAuthAppOut], **ERRORS}, tags=["oauth apps"])
def list_oauth_apps(request: HttpRequest) -> list[dict[str, Any]]:
    return [oauth_app_out(a) for a in selectors.oauth_app_list(workspace=request.workspace)]  # type: ignore[attr-defined]


@router.put("/oauth-apps/{connector_type}", response={200: OAuthAppOut, **ERRORS}, tags=["oauth apps"])
def put_oauth_app(request: HttpRequest, connector_type: str, payload: OAuthAppIn) -> dict[str, Any]:
    """Create or update this workspace's OAuth client for a connector type. The secret is never returned."""
    definition = selectors.definition_resolve(connector_type=connector_type)
    app = oauth_services.oauth_app_upsert(
        workspace=request.workspace,
        definition=definition,
        client_id=payload.client_id,  # type: ignore[attr-defined]
        client_secret=payload.client_secret,
        scopes=payload.scopes,
        actor=actor_from(request),
    )
    return oauth_app_out(app)


@router.delete("/oauth-apps/{connector_type}", response={204: None, **ERRORS}, tags=["oauth apps"])
def delete_oauth_app(request: HttpRequest, connector_type: str) -> HttpResponse:
    app = selectors.oauth_app_get(workspace=request.workspace, connector_type=connector_type)  # type: ignore[attr-defined]
    oauth_services.oauth_app_delete(oauth_app=app, actor=actor_from(request))
    return HttpResponse(status=204)

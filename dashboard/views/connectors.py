"""Connectors: table, catalog, the schema-driven add/edit form, OAuth connect, detail, checks and deletion."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from connectors.catalog import manifest_for
from connectors.catalog.manifest import AuthScheme, Manifest
from connectors.executions.selectors import execution_list
from connectors.executions.services import check_credentials
from connectors.models import Connector, ConnectorDefinition, ConnectorStatus
from connectors.oauth.apps import oauth_client_for
from connectors.oauth.services import oauth_initiate, token_refresh
from connectors.selectors import (
    connector_credential_fields,
    connector_credentials,
    connector_get,
    definition_get_by_slug,
    definition_list,
)
from connectors.services import connector_create, connector_delete, connector_update
from core.errors import FieldError, InvalidInput, PatchbayError, TokenUnavailable
from workspaces.models import Membership, Role

from ..access import actor_for, workspace_for
from ..playground import playground_context
from ..schema_forms import build_fields, errors_by_field, non_secret_values, parse_submission
from ..selectors import connector_table, definitions_in_use
from .common import domain_errors, go, page, paginate, query_without_page, toast

# --- Table ----------------------------------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def connector_list_view(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    request.session["dashboard.workspace"] = slug
    workspace = membership.workspace
    q = request.GET.get("q", "").strip()
    connector_type = request.GET.get("type", "")
    status = request.GET.get("status", "")
    connectors = connector_table(workspace=workspace, q=q, connector_type=connector_type, status=status)
    context = {
        "workspace": workspace,
        "membership": membership,
        "page_obj": paginate(request, connectors, 15),
        "query": query_without_page(request),
        "filters": {"q": q, "type": connector_type, "status": status},
        "filtered": bool(q or connector_type or status),
        "types": definitions_in_use(workspace=workspace),
        "statuses": ConnectorStatus.choices,
        "has_any": workspace.connectors.exists(),
    }
    return page(request, "dashboard/connectors/list.html", context, partial="results")


# --- Catalog and the add/edit form -------------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def catalog(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    q = request.GET.get("q", "").strip()
    definitions = definition_list()
    if q:
        definitions = definitions.filter(Q(name__icontains=q) | Q(slug__icontains=q))
    entries = [_catalog_entry(d, manifest_for(d)) for d in definitions]
    context = {"workspace": membership.workspace, "membership": membership, "entries": entries, "q": q}
    return page(request, "dashboard/connectors/catalog.html", context, partial="grid")


def _catalog_entry(definition: ConnectorDefinition, manifest: Manifest) -> dict[str, Any]:
    return {
        "definition": definition,
        "description": manifest.description,
        "schemes": [s.title for s in manifest.auth_schemes],
        "oauth": manifest.oauth_scheme() is not None,
    }


def _form_context(
    *,
    membership: Membership,
    definition: ConnectorDefinition,
    scheme_key: str | None,
    name: str = "",
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    message: str = "",
    connector: Connector | None = None,
    reenter: list[str] | None = None,
) -> dict[str, Any]:
    manifest = manifest_for(definition)
    schemes = manifest.auth_schemes
    scheme = manifest.find_scheme(scheme_key) or schemes[0]
    by_field = errors_by_field(errors or [])
    secrets_set = connector_credential_fields(connector) if connector else []
    credential_fields = build_fields(
        scheme.credentials_schema,
        prefix="credentials",
        values=credentials,
        errors=by_field,
        secrets_set=secrets_set,
        use_defaults=connector is None,
        reenter=reenter or (),
    )
    config_fields = build_fields(manifest.config_schema, prefix="replication_config", values=config, errors=by_field)
    claimed = {"name", "auth_scheme"} | {f.name for f in credential_fields} | {f.name for f in config_fields}
    other_errors = [m for field, ms in by_field.items() if field not in claimed for m in ms]
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "definition": definition,
        "manifest": manifest,
        "schemes": schemes,
        "scheme": scheme,
        "is_oauth": scheme.uses_consent,  # the "Sign in with" flow; client-credentials/JWT schemes take fields
        "name": name,
        "name_errors": by_field.get("name", []),
        "credential_fields": credential_fields,
        "config_fields": config_fields,
        "other_errors": other_errors,
        "message": message,
        "connector": connector,
        "has_errors": bool(errors) or bool(message),
        # "Connect <Service>" needs an OAuth client: without one the button says where to add it.
        "oauth_app_configured": oauth_client_for(workspace=membership.workspace, definition=definition) is not None
        if scheme.uses_consent
        else True,
    }


def _parse(
    request: HttpRequest, manifest: Manifest, scheme: AuthScheme | None
) -> tuple[dict[str, Any], dict[str, Any], list[FieldError]]:
    credentials, problems = (
        ({}, []) if scheme is None else parse_submission(scheme.credentials_schema, request.POST, prefix="credentials")
    )
    config, config_problems = parse_submission(manifest.config_schema, request.POST, prefix="replication_config")
    return credentials, config, problems + config_problems


def _typed_secrets(scheme: AuthScheme | None, credentials: dict[str, Any]) -> list[str]:
    """Secret fields that held a value in a submit that failed: they are not sent back, so they must be pasted again."""
    if scheme is None:
        return []
    kept = non_secret_values(scheme.credentials_schema, credentials)
    return [key for key, value in credentials.items() if key not in kept and value not in (None, "")]


def _non_secret(scheme: AuthScheme, credentials: dict[str, Any]) -> dict[str, Any]:
    # build_fields drops secrets too; this keeps them out of the template context altogether.
    return non_secret_values(scheme.credentials_schema, credentials)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def connector_new(request: HttpRequest, slug: str, type_slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    definition = definition_get_by_slug(slug=type_slug)
    manifest = manifest_for(definition)
    if request.method == "GET":
        # Re-rendering for another auth scheme carries the name and config over (never credentials).
        config, _ = parse_submission(manifest.config_schema, request.GET, prefix="replication_config")
        context = _form_context(
            membership=membership,
            definition=definition,
            scheme_key=request.GET.get("auth_scheme"),
            name=request.GET.get("name", definition.name),
            config=config or None,
        )
        return page(request, "dashboard/connectors/form.html", context, partial="connector-form")

    scheme_key = request.POST.get("auth_scheme") or manifest.auth_schemes[0].key
    scheme = manifest.find_scheme(scheme_key)
    credentials, config, problems = _parse(request, manifest, scheme)
    name = request.POST.get("name", "")
    try:
        if problems:
            raise InvalidInput("Some fields need attention.", problems)
        connector = connector_create(
            workspace=membership.workspace,
            definition=definition,
            name=name,
            credentials=credentials,
            replication_config=config,
            auth_scheme=scheme_key,
            actor=actor_for(request),
        )
    except InvalidInput as exc:
        context = _form_context(
            membership=membership,
            definition=definition,
            scheme_key=scheme_key,
            name=name,
            credentials=_non_secret(scheme, credentials) if scheme else None,
            config=config,
            errors=exc.errors,
            message=exc.message,
            reenter=_typed_secrets(scheme, credentials),
        )
        return page(request, "dashboard/connectors/form.html", context, partial="connector-form", status=422)
    messages.success(request, f"Connector “{connector.name}” created.")
    return go(request, reverse("dashboard:connector_detail", kwargs={"slug": slug, "connector_id": connector.pk}))


def _oauth_return_url(request: HttpRequest, slug: str) -> str:
    return request.build_absolute_uri(reverse("dashboard:oauth_return", kwargs={"slug": slug}))


def _redirect_browser(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@login_required
@domain_errors
def connector_connect(request: HttpRequest, slug: str, type_slug: str) -> HttpResponse:
    """'Connect <Service>': start the OAuth flow for a new connector and send the browser to the consent page."""
    membership = workspace_for(request, slug, Role.ADMIN)
    definition = definition_get_by_slug(slug=type_slug)
    manifest = manifest_for(definition)
    scheme = manifest.oauth_scheme()
    name = request.POST.get("name", "")
    _, config, problems = _parse(request, manifest, None)
    try:
        if scheme is None:
            raise InvalidInput(f"{definition.name} has no OAuth sign-in.", [])
        if problems:
            raise InvalidInput("Some fields need attention.", problems)
        if not name.strip():
            raise InvalidInput("A connector needs a name.", [FieldError("name", "This field is required.", "required")])
        consent_url = oauth_initiate(
            workspace=membership.workspace,
            definition=definition,
            redirect_url=_oauth_return_url(request, slug),
            name=name.strip(),
            replication_config=config,
            actor=actor_for(request),
            auth_scheme=scheme.key,
        )
    except PatchbayError as exc:
        errors = exc.errors if isinstance(exc, InvalidInput) else []
        context = _form_context(
            membership=membership,
            definition=definition,
            scheme_key=scheme.key if scheme else None,
            name=name,
            config=config,
            errors=errors,
            message=exc.message,
        )
        return page(request, "dashboard/connectors/form.html", context, partial="connector-form", status=422)
    return _redirect_browser(request, consent_url)


@require_GET
@login_required
@domain_errors
def oauth_return(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the OAuth callback sends the browser back: say what happened, then show the connector."""
    membership = workspace_for(request, slug, Role.VIEWER)
    error = request.GET.get("error")
    connector_id = request.GET.get("connector_id")
    if error or not connector_id:
        description = request.GET.get("error_description") or error or "The provider returned no connector."
        messages.error(request, f"Connecting failed: {description}")
        return redirect("dashboard:connectors", slug=slug)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    messages.success(request, f"{connector.definition.name} connected: “{connector.name}” is ready.")
    return redirect("dashboard:connector_detail", slug=slug, connector_id=connector.pk)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def connector_edit(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    manifest = manifest_for(connector.definition)
    scheme = manifest.find_scheme(connector.auth_scheme)
    if request.method == "GET":
        try:
            stored = _non_secret(scheme, connector_credentials(connector)) if scheme else {}
        except Exception:  # noqa: BLE001 - undecryptable credentials still leave the rest editable
            stored = {}
        context = _form_context(
            membership=membership,
            definition=connector.definition,
            scheme_key=connector.auth_scheme,
            name=connector.name,
            credentials=stored,
            config=connector.replication_config,
            connector=connector,
        )
        return page(request, "dashboard/connectors/form.html", context, partial="connector-form")

    credentials, config, problems = _parse(request, manifest, scheme)
    name = request.POST.get("name", "")
    try:
        if problems:
            raise InvalidInput("Some fields need attention.", problems)
        connector = connector_update(
            connector=connector,
            actor=actor_for(request),
            name=name,
            credentials=credentials,
            replication_config=config,
        )
    except InvalidInput as exc:
        context = _form_context(
            membership=membership,
            definition=connector.definition,
            scheme_key=connector.auth_scheme,
            name=name,
            credentials=_non_secret(scheme, credentials) if scheme else None,
            config=config,
            errors=exc.errors,
            message=exc.message,
            connector=connector,
            reenter=_typed_secrets(scheme, credentials),
        )
        return page(request, "dashboard/connectors/form.html", context, partial="connector-form", status=422)
    messages.success(request, f"Connector “{connector.name}” saved.")
    return go(request, reverse("dashboard:connector_detail", kwargs={"slug": slug, "connector_id": connector.pk}))


# --- Detail and actions ----------------------------------------------------------------------------------------


def detail_context(request: HttpRequest, membership: Membership, connector: Connector) -> dict[str, Any]:
    """The connector page's context (the playground's views render the whole page with it too)."""
    manifest = manifest_for(connector.definition)
    scheme = manifest.find_scheme(connector.auth_scheme)
    properties = scheme.credential_properties if scheme else {}
    executions = execution_list(workspace=membership.workspace, connector_id=connector.pk)
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "connector": connector,
        "manifest": manifest,
        "scheme": scheme,
        "is_oauth": bool(scheme and scheme.is_oauth),
        # Client-credentials and JWT schemes have no consent to repeat: new credentials fix them, not a sign-in.
        "can_reauthorise": bool(scheme and scheme.uses_consent),
        "scopes": connector.token_scopes.split() if connector.token_scopes else [],
        "credential_fields": [
            name for name in connector_credential_fields(connector) if "const" not in (properties.get(name) or {})
        ],
        "config_fields": build_fields(
            manifest.config_schema, prefix="replication_config", values=connector.replication_config
        ),
        "executions_page": paginate(request, executions, 10),
        "now": timezone.now(),
        **playground_context(connector=connector, manifest=manifest),
    }


@require_GET
@login_required
@domain_errors
def connector_detail(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    return page(request, "dashboard/connectors/detail.html", detail_context(request, membership, connector))


@require_GET
@login_required
@domain_errors
def connector_executions(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "connector": connector,
        "executions_page": paginate(
            request, execution_list(workspace=membership.workspace, connector_id=connector.pk), 10
        ),
    }
    return page(request, "dashboard/connectors/detail.html", context, partial="recent-executions")


def _status_response(
    request: HttpRequest, membership: Membership, connector: Connector, message: str, level: str
) -> HttpResponse:
    if not request.htmx:
        getattr(messages, level)(request, message)
        return redirect("dashboard:connector_detail", slug=membership.workspace.slug, connector_id=connector.pk)
    connector.refresh_from_db()
    context = detail_context(request, membership, connector)
    return toast(page(request, "dashboard/connectors/detail.html", context, partial="status-card"), message, level)


@require_POST
@login_required
@domain_errors
def connector_check(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.OPERATOR)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    try:
        result = check_credentials(connector=connector, actor=actor_for(request))
    except PatchbayError as exc:
        return _status_response(request, membership, connector, f"Check failed: {exc.message}", "error")
    if result.ok:
        return _status_response(request, membership, connector, result.message or "Credentials work.", "success")
    return _status_response(request, membership, connector, f"Check failed: {result.message}", "error")


@require_POST
@login_required
@domain_errors
def connector_refresh(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    try:
        token_refresh(connector=connector, actor=actor_for(request), force=True)
    except PatchbayError as exc:
        return _status_response(request, membership, connector, f"Refresh failed: {exc.message}", "error")
    except TokenUnavailable as exc:  # needs_reauth / cooling down: written for people, no secrets in it
        return _status_response(request, membership, connector, f"Refresh failed: {exc.message}", "error")
    return _status_response(request, membership, connector, "Token refreshed.", "success")


@require_POST
@login_required
@domain_errors
def connector_reauthorise(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    try:
        consent_url = oauth_initiate(
            workspace=membership.workspace,
            definition=connector.definition,
            redirect_url=_oauth_return_url(request, slug),
            name=connector.name,
            replication_config=connector.replication_config,
            actor=actor_for(request),
            connector=connector,
        )
    except PatchbayError as exc:
        return _status_response(request, membership, connector, f"Re-authorisation failed: {exc.message}", "error")
    return _redirect_browser(request, consent_url)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def connector_delete_view(request: HttpRequest, slug: str, connector_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    connector = connector_get(workspace=membership.workspace, connector_id=connector_id)
    if request.method == "GET":
        context = {
            "workspace": membership.workspace,
            "membership": membership,
            "connector": connector,
            "execution_count": connector.executions.count(),
        }
        return page(request, "dashboard/connectors/delete.html", context)
    name = connector.name
    connector_delete(connector=connector, actor=actor_for(request))
    messages.success(request, f"Connector “{name}” deleted.")
    return go(request, reverse("dashboard:connectors", kwargs={"slug": slug}))

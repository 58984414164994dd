"""Workspace administration: API keys, OAuth apps and the audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from connectors.catalog import manifest_for
from connectors.models import ConnectorDefinition, OAuthApp
from connectors.oauth.services import oauth_app_delete, oauth_app_upsert
from connectors.selectors import definition_list
from core.errors import FieldError, InvalidInput, PatchbayError
from workspaces.access import get_scoped, scoped
from workspaces.models import ApiKey, ApplicationCredential, Membership, Role
from workspaces.services import (
    api_key_create,
    api_key_get,
    api_key_revoke,
    application_credential_create,
    application_credential_get,
    application_credential_revoke,
)

from ..access import actor_for, workspace_for
from ..selectors import audit_actions, audit_list
from .common import domain_errors, go, keyset_page, page, toast

# --- API keys ---------------------------------------------------------------------------------------------------


def _keys_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    keys = scoped(ApiKey.objects.select_related("created_by"), membership.workspace).order_by(
        "revoked_at", "-created_at"
    )
    types = definition_list().values_list("slug", flat=True)
    applications = scoped(ApplicationCredential.objects.select_related("created_by"), membership.workspace).order_by(
        "revoked_at", "-created_at"
    )
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "keys": keys,
        "applications": applications,
        "types": types,
        **extra,
    }


def _limits_from(request: HttpRequest) -> dict[str, Any]:
    return {
        "connectors": request.POST.get("connectors", ""),
        "read_only": request.POST.get("read_only") == "on",
        "agent_only": request.POST.get("agent_only") == "on",
    }


@require_GET
@login_required
@domain_errors
def api_keys(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    return page(request, "dashboard/api_keys.html", _keys_context(membership), partial="keys")


@require_POST
@login_required
@domain_errors
def api_key_new(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    name = request.POST.get("name", "")
    limits = _limits_from(request)
    try:
        key, raw = api_key_create(
            workspace=membership.workspace, name=name, created_by=request.user, actor=actor_for(request), **limits
        )
    except InvalidInput as exc:
        context = _keys_context(membership, errors={e.field: e.message for e in exc.errors}, name=name, form=limits)
        return page(request, "dashboard/api_keys.html", context, partial="keys", status=422)
    # Rendered straight away (not via a redirect) so the plaintext never passes through the session.
    response = page(
        request, "dashboard/api_keys.html", _keys_context(membership, new_key=key, new_raw=raw), partial="keys"
    )
    response["Cache-Control"] = "no-store"
    return toast(response, f"API key “{key.name}” created. Copy it now: it is shown only once.")


@require_POST
@login_required
@domain_errors
def api_key_revoke_view(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    key = api_key_get(workspace=membership.workspace, key_id=key_id)
    api_key_revoke(api_key=key, actor=actor_for(request))
    message = f"API key “{key.name}” revoked."
    if not request.htmx:
        messages.success(request, message)
        return redirect("dashboard:api_keys", slug=slug)
    return toast(page(request, "dashboard/api_keys.html", _keys_context(membership), partial="keys"), message)


@require_POST
@login_required
@domain_errors
def application_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Application credentials (client id + secret) for Airbyte's SDK, with the same limits as API keys."""
    membership = workspace_for(request, slug, Role.ADMIN)
    name = request.POST.get("name", "")
    limits = _limits_from(request)
    try:
        credential, secret = application_credential_create(
            workspace=membership.workspace, name=name, created_by=request.user, actor=actor_for(request), **limits
        )
    except InvalidInput as exc:
        context = _keys_context(
            membership, app_errors={e.field: e.message for e in exc.errors}, app_name=name, app_form=limits
        )
        return page(request, "dashboard/api_keys.html", context, partial="keys", status=422)
    context = _keys_context(membership, new_app=credential, new_secret=secret)
    response = page(request, "dashboard/api_keys.html", context, partial="keys")
    response["Cache-Control"] = "no-store"
    return toast(response, f"Application “{credential.name}” created. Copy the secret now: it is shown only once.")


@require_POST
@login_required
@domain_errors
def application_revoke_view(request: HttpRequest, slug: str, client_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    credential = application_credential_get(workspace=membership.workspace, client_id=client_id)
    application_credential_revoke(credential=credential, actor=actor_for(request))
    message = f"Application “{credential.name}” revoked: its tokens stop working now."
    if not request.htmx:
        messages.success(request, message)
        return redirect("dashboard:api_keys", slug=slug)
    return toast(page(request, "dashboard/api_keys.html", _keys_context(membership), partial="keys"), message)


# --- OAuth apps -------------------------------------------------------------------------------------------------


def _oauth_definitions() -> list[ConnectorDefinition]:
    return [d for d in definition_list() if manifest_for(d).oauth_scheme() is not None]


def _default_scopes(definition: ConnectorDefinition) -> str:
    scheme = manifest_for(definition).oauth_scheme()
    return " ".join(scheme.oauth.scopes) if scheme and scheme.oauth else ""


def _apps_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    apps = scoped(OAuthApp.objects.select_related("definition"), membership.workspace).order_by("definition__name")
    definitions = _oauth_definitions()
    default_scopes = {str(d.pk): _default_scopes(d) for d in definitions}
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "apps": apps,
        "definitions": definitions,
        "default_scopes": default_scopes,
        "callback_url": None,
        "form": extra.pop("form", {}),
        "errors": extra.pop("errors", {}),
        **extra,
    }


@require_GET
@login_required
@domain_errors
def oauth_apps(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    context = _apps_context(membership)
    # "Add a HubSpot OAuth app" links from the connector form arrive with ?type=hubspot: start the form on it.
    chosen = next((d for d in context["definitions"] if d.slug == request.GET.get("type")), None)
    if chosen is not None:
        context["form"] = {"definition": str(chosen.pk), "client_id": "", "scopes": ""}
    context["callback_url"] = request.build_absolute_uri("/oauth/callback")
    return page(request, "dashboard/oauth_apps.html", context, partial="apps")


@require_POST
@login_required
@domain_errors
def oauth_app_save(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    form = {
        "definition": request.POST.get("definition", ""),
        "client_id": request.POST.get("client_id", "").strip(),
        "scopes": request.POST.get("scopes", "").strip(),
    }
    client_secret = request.POST.get("client_secret", "").strip()
    definition = next((d for d in _oauth_definitions() if str(d.pk) == form["definition"]), None)
    try:
        problems = []
        if definition is None:
            problems.append(FieldError("definition", "Choose a connector type with OAuth sign-in.", "required"))
        if not form["client_id"]:
            problems.append(FieldError("client_id", "This field is required.", "required"))
        existing = (
            scoped(OAuthApp.objects.all(), membership.workspace).filter(definition=definition).first()
            if definition
            else None
        )
        if not client_secret and existing is None:
            problems.append(FieldError("client_secret", "This field is required.", "required"))
        if problems:
            raise InvalidInput("Some fields need attention.", problems)
        app = oauth_app_upsert(
            workspace=membership.workspace,
            definition=definition,
            client_id=form["client_id"],
            client_secret=client_secret or None,
            scopes=form["scopes"],
            actor=actor_for(request),
        )
    except PatchbayError as exc:
        errors = {e.field: e.message for e in exc.errors} if isinstance(exc, InvalidInput) else {}
        context = _apps_context(membership, form=form, errors=errors, message=exc.message)
        context["callback_url"] = request.build_absolute_uri("/oauth/callback")
        return page(request, "dashboard/oauth_apps.html", context, partial="apps", status=422)
    messages.success(request, f"OAuth app for {app.definition.name} saved.")
    return go(request, reverse("dashboard:oauth_apps", kwargs={"slug": slug}))


@require_POST
@login_required
@domain_errors
def oauth_app_delete_view(request: HttpRequest, slug: str, app_id: int) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    app = get_scoped(OAuthApp.objects.select_related("definition"), membership.workspace, what="OAuth app", pk=app_id)
    name = app.definition.name
    oauth_app_delete(oauth_app=app, actor=actor_for(request))
    messages.success(request, f"OAuth app for {name} deleted.")
    return go(request, reverse("dashboard:oauth_apps", kwargs={"slug": slug}))


# --- Audit log --------------------------------------------------------------------------------------------------


def _date(value: str) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - made aware below
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


@require_GET
@login_required
@domain_errors
def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    filters = {k: request.GET.get(k, "").strip() for k in ("action", "actor", "since", "until")}
    since = _date(filters["since"])
    until = _date(filters["until"])
    events = audit_list(
        workspace=membership.workspace,
        action=filters["action"],
        actor=filters["actor"],
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "page_obj": keyset_page(request, events, 30),
        "filters": filters,
    }
    if not request.htmx:
        context["actions"] = audit_actions(workspace=membership.workspace)
    return page(request, "dashboard/audit.html", context, partial="results")

"""The hosted connect page: no dashboard login, the session token in the URL is the end user's only credential.

Plain HTML forms (it works without JavaScript); static/connect/connect.js marks a page opened in a popup or an
iframe (`embedded=1`) so the outcome is posted to the opener instead of redirecting (docs/connect.md).
CSRF tokens are not used here: every form is bound to the unguessable session token in its URL, and an iframe on
the app's origin would not send our CSRF cookie anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.catalog import manifest_for
from connectors.models import ConnectorDefinition
from connectors.oauth.apps import oauth_client_for
from connectors.oauth.services import with_query
from core.errors import FieldError, InvalidInput, PatchbayError, SessionUnavailable
from core.http import status_of
from dashboard.schema_forms import build_fields, errors_by_field, parse_submission

from . import ratelimit
from .models import ConnectSession
from .services import (
    allowed_origins,
    connect_with_credentials,
    connect_with_oauth,
    session_definition,
    session_definitions,
    session_from_token,
    session_offers_several,
    token_hash,
)


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _embedded(request: HttpRequest) -> bool:
    return (request.POST.get("embedded") or request.GET.get("embedded")) == "1"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200, session: Any = None
) -> HttpResponse:
    # The dashboard's chrome and messages stay out, even for a signed-in operator opening the link.
    context = {"user": AnonymousUser(), "messages": [], **context}
    response = render(request, template, context, status=status)
    return _frame_policy(response, session)


def _frame_policy(response: HttpResponse, session: ConnectSession | None) -> HttpResponse:
    """Only the workspace's own app origins may show the page in an iframe (xframe middleware is exempted)."""
    ancestors = " ".join(["'self'", *(allowed_origins(session.workspace) if session is not None else [])])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def hosted(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Headers for every answer of the hosted page, redirects included."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"  # the token is in the URL: never send it on
        # Opened with window.open from the app's origin: Django's default (same-origin), on this page or on a
        # redirect to it, would cut the popup off from its opener, and the outcome could not be posted back.
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        response["Cache-Control"] = "no-store"
        return response

    return xframe_options_exempt(wrapped)


def _limited(request: HttpRequest, *, token: str | None = None) -> HttpResponse | None:
    """429 with Retry-After when this IP (or, on a submit, this session) is over its limit."""
    wait = ratelimit.hit("ip", _ip(request), settings.PATCHBAY_CONNECT_RATE_IP)
    if wait is None and token is not None:
        wait = ratelimit.hit("session", token_hash(token), settings.PATCHBAY_CONNECT_RATE_SESSION)
    if wait is None:
        return None
    response = _render(
        request,
        "connect/unavailable.html",
        {"title": "Too many attempts", "message": f"Too many attempts. Wait {wait} seconds, then try again."},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def _unavailable(request: HttpRequest, exc: SessionUnavailable) -> HttpResponse:
    titles = {"session_expired": "This link has expired", "session_used": "This link was already used"}
    return _render(
        request,
        "connect/unavailable.html",
        {"title": titles.get(exc.code, "This link is not valid"), "message": exc.message, "code": exc.code},
        status=status_of(exc),
    )


def _page(
    request: HttpRequest, token: str, connector_type: str | None = None
) -> HttpResponse | tuple[ConnectSession, ConnectorDefinition | None]:
    """The open session (and the service it offers under `connector_type`), or the page that refuses."""
    limited = _limited(request, token=token if request.method == "POST" else None)
    if limited is not None:
        return limited
    try:
        session = session_from_token(token)
    except SessionUnavailable as exc:
        return _unavailable(request, exc)
    if connector_type is None:
        return session, None
    try:
        return session, session_definition(session, connector_type)
    except InvalidInput as exc:
        return _render(
            request, "connect/unavailable.html", {"title": "Not available", "message": exc.message}, status=404
        )


# --- Pages ------------------------------------------------------------------------------------------------------


@hosted
@require_GET
def start(request: HttpRequest, token: str) -> HttpResponse:
    """Pick a service (straight to its form when the session offers one, or re-connects a connector)."""
    page = _page(request, token)
    if isinstance(page, HttpResponse):
        return page
    session = page[0]
    definitions = session_definitions(session)
    if len(definitions) == 1:
        url = reverse("connect:service", kwargs={"token": token, "connector_type": definitions[0].slug})
        return HttpResponseRedirect(url + ("?embedded=1" if _embedded(request) else ""))
    entries = [{"definition": d, "description": manifest_for(d).description} for d in definitions]
    return _render(
        request, "connect/choose.html", {"session": session, "token": token, "entries": entries}, session=session
    )


def _form_context(
    session: ConnectSession,
    token: str,
    definition: ConnectorDefinition,
    *,
    scheme_key: str | None,
    config: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    message: str = "",
    reenter: list[str] | None = None,
) -> dict[str, Any]:
    manifest = manifest_for(definition)
    schemes = manifest.auth_schemes
    if session.connector is not None:  # re-connecting keeps the connector's scheme
        scheme_key = session.connector.auth_scheme
    scheme = manifest.find_scheme(scheme_key) or schemes[0]
    by_field = errors_by_field(errors or [])
    credential_fields = (
        []
        if scheme.uses_consent
        else build_fields(
            # build_fields never shows a secret value back: only the non-secret ones (a subdomain, a username) stay.
            scheme.credentials_schema,
            prefix="credentials",
            values=credentials,
            errors=by_field,
            reenter=reenter or (),
        )
    )
    config_fields = (
        []
        if session.connector is not None
        else build_fields(manifest.config_schema, prefix="replication_config", values=config, errors=by_field)
    )
    claimed = {f.name for f in credential_fields} | {f.name for f in config_fields}
    return {
        "session": session,
        "token": token,
        "definition": definition,
        "manifest": manifest,
        "schemes": schemes if session.connector is None else [scheme],
        "scheme": scheme,
        "credential_fields": credential_fields,
        "config_fields": config_fields,
        "other_errors": [m for field, ms in by_field.items() if field not in claimed for m in ms],
        "message": message,
        "has_errors": bool(errors) or bool(message),
        "oauth_ready": not scheme.uses_consent
        or oauth_client_for(workspace=session.workspace, definition=definition) is not None,
        "several": session_offers_several(session),
    }


@csrf_exempt
@hosted
@require_http_methods(["GET", "POST"])
def service(request: HttpRequest, token: str, connector_type: str) -> HttpResponse:
    """One service's form: fields from its credential schema, or its OAuth button. POST stores the connector."""
    page = _page(request, token, connector_type)
    if isinstance(page, HttpResponse):
        return page
    session, definition = page[0], cast(ConnectorDefinition, page[1])  # found under connector_type
    manifest = manifest_for(definition)
    if request.method == "GET":
        context = _form_context(session, token, definition, scheme_key=request.GET.get("auth_scheme"))
        return _render(request, "connect/form.html", context, session=session)

    scheme_key = request.POST.get("auth_scheme") or None
    scheme = manifest.find_scheme(scheme_key) if scheme_key else None
    credentials, problems = (
        parse_submission(scheme.credentials_schema, request.POST, prefix="credentials") if scheme else ({}, [])
    )
    config, config_problems = parse_submission(manifest.config_schema, request.POST, prefix="replication_config")
    try:
        if problems or config_problems:
            raise InvalidInput("Some fields need attention.", problems + config_problems)
        session, connector = connect_with_credentials(
            token=token,
            connector_type=definition.slug,
            auth_scheme=scheme_key,
            credentials=credentials,
            replication_config=config if session.connector is None else None,
            ip=_ip(request),
        )
    except SessionUnavailable as exc:
        return _unavailable(request, exc)
    except InvalidInput as exc:
        typed = [k for k, v in credentials.items() if v not in (None, "")]
        context = _form_context(
            session,
            token,
            definition,
            scheme_key=scheme_key,
            config=config,
            credentials=credentials,
            errors=exc.errors,
            message=exc.message,
            reenter=typed,
        )
        return _render(request, "connect/form.html", context, status=422, session=session)
    return _outcome(request, session, connector_id=str(connector.pk), connector_type=definition.slug)


@csrf_exempt
@hosted
@require_POST
def oauth_start(request: HttpRequest, token: str, connector_type: str) -> HttpResponse:
    """ "Connect <Service>": on to the provider's consent page; the callback comes back to `finish`."""
    page = _page(request, token, connector_type)
    if isinstance(page, HttpResponse):
        return page
    session, definition = page[0], cast(ConnectorDefinition, page[1])  # found under connector_type
    manifest = manifest_for(definition)
    config, problems = parse_submission(manifest.config_schema, request.POST, prefix="replication_config")
    finish = settings.PATCHBAY_PUBLIC_URL.rstrip("/") + reverse("connect:finish", kwargs={"token": token})
    try:
        if problems:
            raise InvalidInput("Some fields need attention.", problems)
        consent_url = connect_with_oauth(
            token=token,
            connector_type=definition.slug,
            replication_config=config if session.connector is None else None,
            finish_url=finish + ("?embedded=1" if _embedded(request) else ""),
            ip=_ip(request),
        )
    except SessionUnavailable as exc:
        return _unavailable(request, exc)
    except PatchbayError as exc:
        errors = exc.errors if isinstance(exc, InvalidInput) else []
        scheme = manifest.oauth_scheme()
        context = _form_context(
            session,
            token,
            definition,
            scheme_key=scheme.key if scheme else None,
            config=config,
            errors=errors,
            message=exc.message,
        )
        return _render(request, "connect/form.html", context, status=422, session=session)
    return HttpResponseRedirect(consent_url)


@hosted
@require_GET
def finish(request: HttpRequest, token: str) -> HttpResponse:
    """Where the OAuth callback sends the end user: `connector_id=...` on success, `error=...` otherwise."""
    limited = _limited(request)
    if limited is not None:
        return limited
    session = ConnectSession.objects.select_related("workspace").filter(token_hash=token_hash(token)).first()
    if session is None:
        return _unavailable(request, SessionUnavailable("invalid_session", "This connect link is not valid."))
    connector_id = request.GET.get("connector_id", "")
    if connector_id and str(session.result_connector_id) == connector_id:
        connector = session.result_connector
        return _outcome(request, session, connector_id=connector_id, connector_type=connector.definition.slug)
    error = request.GET.get("error") or "connect_failed"
    description = request.GET.get("error_description") or "The service did not grant access."
    return _outcome(request, session, error=error[:100], description=description[:300])


def _outcome(
    request: HttpRequest,
    session: ConnectSession,
    *,
    connector_id: str | None = None,
    connector_type: str | None = None,
    error: str | None = None,
    description: str | None = None,
) -> HttpResponse:
    """Tell the app: postMessage to the opener/parent when embedded, else back to `redirect_url` with the result."""
    result = (
        {"connector_id": connector_id}
        if connector_id
        else {"error": error or "", "error_description": description or ""}
    )
    if session.redirect_url and not _embedded(request):
        return HttpResponseRedirect(with_query(session.redirect_url, result))
    message = {
        "type": "patchbay:connect",
        "status": "success" if connector_id else "error",
        "connect_session_id": str(session.pk),
        "end_user_id": session.end_user_id,
        **({"connector_type": connector_type} if connector_type else {}),
        **result,
    }
    context = {
        "session": session,
        "message": message,
        "origins": allowed_origins(session.workspace),
        "ok": bool(connector_id),
        "description": description,
        "retry_url": reverse("connect:start", kwargs={"token": request.resolver_match.kwargs["token"]})
        if not connector_id and session.completed_at is None
        else "",
        "redirect_to": with_query(session.redirect_url, result) if session.redirect_url else "",
    }
    return _render(request, "connect/done.html", context, status=200 if connector_id else 400, session=session)

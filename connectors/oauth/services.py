"""The OAuth redirect flow and token operations. The API, the dashboard's Connect button and tasks call these."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from connectors import crypto
from connectors.catalog import manifest_for
from connectors.catalog.manifest import AuthScheme, Manifest
from connectors.hosts import host_errors
from connectors.models import Connector, ConnectorDefinition, ConnectorStatus, OAuthApp, OAuthState
from connectors.selectors import auth_scheme_of, connector_credentials
from connectors.status import connector_set_status
from connectors.validation import normalise_credentials, validate_replication_config
from core.errors import FieldError, InvalidInput, SessionUnavailable
from workspaces.models import Workspace
from workspaces.services import Actor, audit

from . import client as oauth_client
from .apps import OAuthClient, env_prefix, oauth_client_for, oauth_endpoints
from .tokens import HostRefused, refresh_token, store_token, vet_token

logger = logging.getLogger("patchbay.oauth")
STATE_TTL = timedelta(minutes=10)


class OAuthFlowError(Exception):
    """A callback that cannot be honoured. `redirect_url` is set when we may send the user back with the error."""

    def __init__(self, error: str, description: str, *, redirect_url: str | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect_url = redirect_url


def callback_url() -> str:
    """The exact redirect URI registered with providers."""
    return settings.PATCHBAY_PUBLIC_URL.rstrip("/") + reverse("oauth-callback")


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def oauth_scheme(manifest: Manifest, requested: str | None = None) -> AuthScheme:
    """The OAuth scheme (the one called `requested`, when given), or InvalidInput naming the field."""
    scheme = manifest.oauth_scheme(requested)
    if scheme is None:
        raise InvalidInput(
            f"{manifest.name} has no OAuth auth scheme" + (f" called {requested!r}." if requested else "."),
            [FieldError("auth_scheme" if requested else "connector_type", "OAuth is not available here.", "no_oauth")],
        )
    return scheme


def _validate_redirect_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            "redirect_url must be an absolute http(s) URL.",
            [FieldError("redirect_url", "Must be an absolute http(s) URL.", "invalid_value")],
        )
    return url


def oauth_initiate(
    *,
    workspace: Workspace,
    definition: ConnectorDefinition,
    redirect_url: str,
    name: str | None,
    replication_config: dict[str, Any] | None,
    actor: Actor,
    connector: Connector | None = None,
    auth_scheme: str | None = None,
    connect_session: Any = None,
) -> str:
    """Start "Connect <Service>": returns the provider's consent URL. `connector` = re-authorise it, same id.
    `connect_session`: an end user's hosted connect page started it; the callback completes that session."""
    manifest = manifest_for(definition)
    scheme = oauth_scheme(manifest, auth_scheme or (connector.auth_scheme if connector else None))
    errors: list[FieldError] = []
    try:
        _validate_redirect_url(redirect_url)
    except InvalidInput as exc:
        errors += exc.errors
    config: dict[str, Any] = connector.replication_config if connector else {}
    if connector is None:
        try:
            config = validate_replication_config(manifest, replication_config)
            errors += host_errors(manifest, config=config, credentials={}, scheme_key=scheme.key)
        except InvalidInput as exc:
            errors += exc.errors
        if not (name or "").strip():
            errors.append(FieldError("name", "This field is required.", "required"))
    if errors:
        raise InvalidInput("Cannot start the OAuth flow: " + ", ".join(e.field for e in errors) + ".", errors)
    existing = connector_credentials(connector) if connector else None
    app = oauth_client_for(workspace=workspace, definition=definition, credentials=existing)
    if app is None:
        raise InvalidInput(
            f"No OAuth app is configured for {definition.name}. Add one for this workspace "
            f"(PUT /api/v1/integrations/oauth-apps/{definition.slug} or the dashboard) or set "
            f"{env_prefix(definition)}_CLIENT_ID and _CLIENT_SECRET.",
            [FieldError("connector_type", "No OAuth app configured.", "no_oauth_app")],
        )
    state = oauth_client.new_state()
    verifier, challenge = oauth_client.generate_pkce_pair() if scheme.oauth.pkce else (None, None)
    OAuthState.objects.create(
        state_hash=_state_hash(state),
        workspace=workspace,
        definition=definition,
        auth_scheme=scheme.key,
        connector=connector,
        name=(name or (connector.name if connector else "")).strip()[:200],
        replication_config=config,
        redirect_url=redirect_url,
        code_verifier_encrypted=crypto.encrypt_text(verifier) if verifier else "",
        actor_user=actor.user if actor.user is not None and actor.user.is_authenticated else None,
        actor_api_key=actor.api_key,
        connect_session=connect_session,
        expires_at=timezone.now() + STATE_TTL,
    )
    audit(
        workspace=workspace,
        actor=actor,
        action="oauth.initiate",
        target=connector or definition,
        metadata={
            "connector_type": definition.slug,
            "reauthorize": connector is not None,
            **({"connect_session_id": str(connect_session.pk)} if connect_session is not None else {}),
        },
    )
    return oauth_client.build_authorization_url(
        oauth_endpoints(scheme, manifest, config, existing),
        client_id=app.client_id,
        redirect_uri=callback_url(),
        state=state,
        scopes=app.scopes or list(scheme.oauth.scopes),
        code_challenge=challenge,
    )


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class CallbackOutcome:
    redirect_to: str
    connector: Connector | None


def _claim_state(state: str, *, user: Any) -> OAuthState:
    """Single use: the first callback to claim a state wins; everything else is rejected before any I/O."""
    if not state:
        raise OAuthFlowError("invalid_state", "The authorization response carries no state.")
    record = (
        OAuthState.objects.select_related("workspace", "definition", "connector", "connect_session")
        .filter(state_hash=_state_hash(state))
        .first()
    )
    if record is None:
        raise OAuthFlowError("invalid_state", "This authorization link is not one Patchbay issued.")
    if record.used_at is not None:
        raise OAuthFlowError("state_used", "This authorization response was already used. Start again.")
    if record.expires_at <= timezone.now():
        raise OAuthFlowError("state_expired", "This authorization link expired (10 minutes). Start again.")
    # Started from the dashboard: only the same signed-in user may finish it, and only while still a member.
    if record.actor_user_id is not None and (
        getattr(user, "pk", None) != record.actor_user_id
        or not record.workspace.memberships.filter(user_id=record.actor_user_id).exists()
    ):
        raise OAuthFlowError("state_mismatch", "This authorization was started by another user or workspace.")
    if record.connector is not None and record.connector.workspace_id != record.workspace_id:
        raise OAuthFlowError("state_mismatch", "This authorization belongs to another workspace.")
    claimed = OAuthState.objects.filter(pk=record.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not claimed:
        raise OAuthFlowError("state_used", "This authorization response was already used. Start again.")
    return record


def oauth_callback(
    *, state: str, code: str | None, error: str | None, error_description: str | None, user: Any = None
) -> CallbackOutcome:
    record = _claim_state(state, user=user)
    back = record.redirect_url
    if error:
        return CallbackOutcome(
            with_query(back, {"error": error[:100], "error_description": (error_description or error)[:300]}), None
        )
    if not code:
        return CallbackOutcome(
            with_query(back, {"error": "invalid_request", "error_description": "The provider sent no code."}), None
        )
    definition = record.definition
    manifest = manifest_for(definition)
    scheme = oauth_scheme(manifest, record.auth_scheme)
    existing = connector_credentials(record.connector) if record.connector else {}
    app = oauth_client_for(workspace=record.workspace, definition=definition, credentials=existing)
    if app is None:
        return CallbackOutcome(
            with_query(back, {"error": "no_oauth_app", "error_description": "The OAuth app was removed."}), None
        )
    verifier = (
        crypto.decrypt_text(record.code_verifier_encrypted, owner="OAuth state")
        if record.code_verifier_encrypted
        else None
    )
    endpoints = oauth_endpoints(scheme, manifest, record.replication_config, existing)
    try:
        token = oauth_client.exchange_code(
            endpoints,
            client_id=app.client_id,
            client_secret=app.client_secret,
            code=code,
            redirect_uri=callback_url(),
            code_verifier=verifier,
            timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT,
        )
    except oauth_client.OAuthError as exc:
        logger.warning("OAuth code exchange for %s failed: %s", definition.slug, exc.error)
        return CallbackOutcome(
            with_query(
                back,
                {
                    "error": exc.error or "token_exchange_failed",
                    "error_description": f"{definition.name} refused the authorization code.",
                },
            ),
            None,
        )
    try:
        account = oauth_client.fetch_account(endpoints, token.access_token, timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT)
    except oauth_client.OAuthError as exc:
        logger.warning("OAuth account lookup for %s failed: %s", definition.slug, exc.error)
        return CallbackOutcome(
            with_query(
                back,
                {
                    "error": "account_lookup_failed",
                    "error_description": f"{definition.name} did not say which account was authorised ({exc.error}"
                    + (f": {exc.description})" if exc.description else ")"),
                },
            ),
            None,
        )
    if account:  # stored with the token, and vetted with its other extra fields
        token = dataclasses.replace(token, extra={**token.extra, **account})
    actor = Actor(user=record.actor_user, api_key=record.actor_api_key)
    try:
        # Checked before the transaction that stores it, so the refusal's audit entry survives.
        probe = record.connector or Connector(
            workspace=record.workspace, definition=definition, replication_config=record.replication_config
        )
        token = vet_token(probe, scheme, existing, token, actor=actor)
        connector = _save_authorized_connector(record, scheme, app, token, actor)
    except HostRefused as exc:
        return CallbackOutcome(with_query(back, {"error": "host_not_allowed", "error_description": exc.message}), None)
    except SessionUnavailable as exc:  # the connect session it belongs to was completed meanwhile
        return CallbackOutcome(with_query(back, {"error": exc.code, "error_description": exc.message}), None)
    return CallbackOutcome(with_query(back, {"connector_id": str(connector.pk)}), connector)


@transaction.atomic
def _save_authorized_connector(
    record: OAuthState, scheme: AuthScheme, app: OAuthClient, token: oauth_client.TokenResponse, actor: Actor
) -> Connector:
    credentials: dict[str, Any] = {}
    if record.connector is not None:
        connector = Connector.objects.select_for_update().get(pk=record.connector.pk)
        credentials = connector_credentials(connector)
        credentials.pop("refresh_token", None)
        action = "connector.reauthorize"
    else:
        connector = Connector(
            workspace=record.workspace,
            definition=record.definition,
            name=record.name or record.definition.name,
            auth_scheme=scheme.key,
            replication_config=record.replication_config,
        )
        action = "connector.create"
    credentials = normalise_credentials(scheme, credentials)  # the option_title-style discriminator, if any
    if app.source == "connector":
        credentials.update(client_id=app.client_id, client_secret=app.client_secret)
    if record.connect_session_id is not None:
        connector.end_user_id = record.connect_session.end_user_id
    store_token(connector, credentials, token, scheme=scheme, actor=actor)
    audit(
        workspace=record.workspace,
        actor=actor,
        action=action,
        target=connector,
        metadata={"connector_type": record.definition.slug, "auth_scheme": scheme.key, "via": "oauth"},
    )
    if record.connect_session_id is not None:
        from connect.services import complete_session  # the connect app builds on this one, not the reverse

        complete_session(session_id=record.connect_session_id, connector=connector, actor=actor)
    return connector


def token_refresh(*, connector: Connector, actor: Actor, force: bool = True) -> Connector:
    if not auth_scheme_of(connector).is_oauth:
        raise InvalidInput(
            "Only OAuth connectors have tokens to refresh.",
            [FieldError("connector_id", "This connector does not use OAuth.", "not_oauth")],
        )
    refresh_token(connector_id=connector.pk, force=force, actor=actor)
    connector.refresh_from_db()
    return connector


def token_revoke(*, connector: Connector, actor: Actor) -> bool:
    """Revoke at the provider where it has an endpoint, then wipe the tokens. Returns whether the provider was told."""
    scheme = auth_scheme_of(connector)
    if not scheme.is_oauth:
        raise InvalidInput(
            "Only OAuth connectors have tokens to revoke.",
            [FieldError("connector_id", "This connector does not use OAuth.", "not_oauth")],
        )
    with transaction.atomic():
        connector = (
            Connector.objects.select_for_update(of=("self",))
            .select_related("definition", "workspace")
            .get(pk=connector.pk)
        )
        credentials = connector_credentials(connector)
        told = False
        app = oauth_client_for(workspace=connector.workspace, definition=connector.definition, credentials=credentials)
        token = credentials.get("refresh_token") or credentials.get("access_token")
        if app and token and scheme.oauth.revoke_url:
            try:
                told = oauth_client.revoke_token(
                    oauth_endpoints(
                        scheme, manifest_for(connector.definition), connector.replication_config, credentials
                    ),
                    client_id=app.client_id,
                    client_secret=app.client_secret,
                    token=token,
                    token_type_hint="refresh_token" if credentials.get("refresh_token") else "access_token",
                    timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT,
                )
            except oauth_client.OAuthError as exc:
                logger.warning("revoking tokens of connector %s at the provider failed: %s", connector.pk, exc.error)
        for key in ("access_token", "refresh_token"):
            credentials.pop(key, None)
        connector.credentials_encrypted = crypto.encrypt_json(credentials)
        connector.token_expires_at = None
        connector.save()
        connector_set_status(
            connector=connector,
            status=ConnectorStatus.NEEDS_REAUTH,
            detail="Tokens revoked: re-authorise to use this connector again.",
            actor=actor,
        )
        audit(
            workspace=connector.workspace,
            actor=actor,
            action="connector.revoke",
            target=connector,
            metadata={"provider_revoked": told},
        )
    return told


@transaction.atomic
def oauth_app_upsert(
    *,
    workspace: Workspace,
    definition: ConnectorDefinition,
    client_id: str,
    client_secret: str | None,
    scopes: str | list[str] | None,
    actor: Actor,
) -> OAuthApp:
    oauth_scheme(manifest_for(definition))
    errors = []
    if not (client_id or "").strip():
        errors.append(FieldError("client_id", "This field is required.", "required"))
    existing = OAuthApp.objects.filter(workspace=workspace, definition=definition).first()
    if not client_secret and existing is None:
        errors.append(FieldError("client_secret", "This field is required.", "required"))
    if errors:
        raise InvalidInput("Invalid OAuth app.", errors)
    scope_text = " ".join(scopes) if isinstance(scopes, list) else (scopes or "")
    app = existing or OAuthApp(workspace=workspace, definition=definition)
    app.client_id = client_id.strip()
    if client_secret:
        app.client_secret_encrypted = crypto.encrypt_text(client_secret)
    app.scopes = scope_text.strip()
    app.save()
    audit(
        workspace=workspace,
        actor=actor,
        action="oauth_app.update" if existing else "oauth_app.create",
        target=app,
        metadata={"connector_type": definition.slug, "secret_changed": bool(client_secret)},
    )
    return app


@transaction.atomic
def oauth_app_delete(*, oauth_app: OAuthApp, actor: Actor) -> None:
    audit(
        workspace=oauth_app.workspace,
        actor=actor,
        action="oauth_app.delete",
        target=oauth_app,
        metadata={"connector_type": oauth_app.definition.slug},
    )
    oauth_app.delete()

"""The access-token lifecycle: refresh when near expiry, exactly once across processes, rotation-safe.

Concurrency: the connector row is locked (SELECT … FOR UPDATE) for the whole refresh; whoever gets the lock
second re-reads and finds a fresh token, so N concurrent executions cause one token request. A rotated refresh
token is written in the same transaction as the access token, before anything uses it.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import crypto, metrics
from connectors.catalog import manifest_for
from connectors.catalog.manifest import AuthScheme
from connectors.hosts import split_token_fields
from connectors.models import Connector, ConnectorStatus
from connectors.selectors import auth_scheme_of, connector_credentials
from connectors.status import connector_set_status
from core.errors import NotFound, TokenUnavailable
from core.prepared import PreparedQuery, PreparedUpdate
from workspaces.services import Actor, audit

from . import client as oauth_client
from . import grants
from .apps import OAuthClient, oauth_client_for, oauth_endpoints

logger = logging.getLogger("patchbay.oauth")

COOLDOWN_BASE_SECONDS = 30
COOLDOWN_MAX_SECONDS = 3600
# What store_token writes: the rest of the row (name, config, status...) is left to its owners.
TOKEN_FIELDS = [
    "credentials_encrypted",
    "token_expires_at",
    "token_refreshed_at",
    "token_scopes",
    "refresh_failures",
    "refresh_cooldown_until",
    "refresh_queued_at",
    "updated_at",
]
# Every refresh writes these: compiled once per connection (core.prepared).
TOKEN_UPDATE = PreparedUpdate(Connector, TOKEN_FIELDS)


def _margin() -> timedelta:
    return timedelta(seconds=settings.PATCHBAY_TOKEN_REFRESH_MARGIN_SECONDS)


def token_is_fresh(connector: Connector, credentials: dict[str, Any]) -> bool:
    if not credentials.get("access_token"):
        return False
    if connector.token_expires_at is None:
        # No expiry known: long-lived token (GitHub OAuth apps, Intercom) unless we could refresh it anyway.
        return True
    return connector.token_expires_at > timezone.now() + _margin()


def credentials_with_fresh_token(connector: Connector) -> dict[str, Any]:
    """Credentials whose access token stays valid for the whole call; refreshes first when it would not."""
    if connector.status == ConnectorStatus.NEEDS_REAUTH:
        raise TokenUnavailable("needs_reauth", _reauth_message(connector))
    credentials = connector_credentials(connector)
    if token_is_fresh(connector, credentials):
        return credentials
    return refresh_token(connector_id=connector.pk)


def _reauth_message(connector: Connector) -> str:
    if _mints_tokens(connector):
        return (
            f"{connector.definition.name} no longer accepts this connector's credentials "
            f"({connector.status_detail or 'invalid_client'}). Update its credentials to continue."
        )
    return (
        f"{connector.definition.name} no longer accepts this connector's refresh token "
        f"({connector.status_detail or 'invalid_grant'}). Re-authorise the connector to continue."
    )


def _mints_tokens(connector: Connector) -> bool:
    """Client-credentials and JWT-bearer connectors: their tokens come from stored credentials, not a consent."""
    try:
        return auth_scheme_of(connector).mints_tokens
    except NotFound:  # a scheme gone from the catalog reads as the ordinary refresh-token kind
        return False


# The refresh's locking read, compiled once per connection (core.prepared). FOR UPDATE OF the connector row only:
# the workspace and definition rows are shared by every connector. The manifest text is most of the definition
# row; manifest_for reads it once per process.
LOCKED_FOR_REFRESH = PreparedQuery(
    lambda: (
        Connector.objects.select_for_update(of=("self",))
        .select_related("definition", "workspace")
        .defer("definition__manifest_json")
    ),
    "pk",
)


def refresh_token(*, connector_id: Any, force: bool = False, actor: Actor | None = None) -> dict[str, Any]:
    """Refresh under the row lock. Returns fresh credentials or raises TokenUnavailable (after committing state)."""
    failure: TokenUnavailable | None = None
    with transaction.atomic():
        connector = LOCKED_FOR_REFRESH.get(pk=connector_id)
        credentials = connector_credentials(connector)
        now = timezone.now()
        if connector.status == ConnectorStatus.NEEDS_REAUTH:
            raise TokenUnavailable("needs_reauth", _reauth_message(connector))
        if not force and token_is_fresh(connector, credentials):
            return credentials  # another worker refreshed while we waited for the lock
        if connector.refresh_cooldown_until and now < connector.refresh_cooldown_until and not force:
            raise TokenUnavailable(
                "token_refresh_failed",
                f"Refreshing the access token failed recently; next attempt after "
                f"{connector.refresh_cooldown_until:%H:%M:%S} UTC.",
                retry_after=max(1, int((connector.refresh_cooldown_until - now).total_seconds())),
            )
        # Client-credentials and JWT-bearer schemes (grants.py) mint a new token instead of refreshing one.
        if not credentials.get("refresh_token") and not auth_scheme_of(connector).mints_tokens:
            if credentials.get("access_token") and not force:
                return credentials
            raise TokenUnavailable("needs_reauth", "This connector has no refresh token. Re-authorise it.")
        scheme = auth_scheme_of(connector)
        app = oauth_client_for(workspace=connector.workspace, definition=connector.definition, credentials=credentials)
        if app is None and not scheme.mints_tokens:
            raise TokenUnavailable(
                "token_refresh_failed",
                f"No OAuth client is configured for {connector.definition.name}: add an OAuth app to the workspace.",
            )
        try:
            token = request_refresh(connector, scheme, credentials, app)
        except oauth_client.OAuthError as exc:
            failure = _record_failure(connector, exc, actor=actor)
            metrics.record_refresh(outcome="invalid_grant" if exc.permanent else "failed")
        else:
            credentials = store_token(connector, credentials, token, scheme=scheme, actor=actor)
            metrics.record_refresh(outcome="ok")
            audit(
                workspace=connector.workspace,
                actor=actor or Actor.system(),
                action="connector.token_refresh",
                target=connector,
                metadata={"forced": force, "rotated": bool(token.refresh_token)},
            )
    if failure is not None:
        raise failure
    return credentials


def request_refresh(
    connector: Connector, scheme: AuthScheme, credentials: dict[str, Any], app: OAuthClient | None
) -> oauth_client.TokenResponse:
    """One refresh_token grant at the provider (no locking, no storing: callers decide both); a new token from the
    stored credentials for schemes that mint their own (client credentials, JWT bearer)."""
    if scheme.mints_tokens:
        oauth = oauth_endpoints(scheme, manifest_for(connector.definition), connector.replication_config, credentials)
        return grants.request_token(oauth, credentials, timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT)
    if app is None:
        raise oauth_client.OAuthError("invalid_client", "no OAuth client is configured", None, False)
    return oauth_client.refresh_access_token(
        oauth_endpoints(scheme, manifest_for(connector.definition), connector.replication_config, credentials),
        client_id=app.client_id,
        client_secret=app.client_secret,
        refresh_token=credentials["refresh_token"],
        timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT,
    )


def merge_token(credentials: dict[str, Any], token: Any) -> dict[str, Any]:
    """Credentials with the new access token; a response without refresh_token keeps the old one."""
    merged = {**credentials, "access_token": token.access_token}
    if token.refresh_token:
        merged["refresh_token"] = token.refresh_token
    merged.update({k: v for k, v in (token.extra or {}).items() if v})
    return merged


class HostRefused(Exception):
    """A token response named a host this connector may not use, and there is no earlier value to keep."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def vet_token(
    connector: Connector, scheme: AuthScheme, credentials: dict[str, Any], token: Any, *, actor: Actor | None
) -> Any:
    """The token without any extra value (Salesforce's instance_url) that fails the definition's rules.

    A refused value is audited and never stored; the stored one stays. With none stored, HostRefused: the
    connector could not be used, and the access token must not go to the host the provider named."""
    if not token.extra:
        return token
    accepted, refused = split_token_fields(
        manifest_for(connector.definition),
        scheme,
        config=connector.replication_config or {},
        credentials=credentials,
        extra=token.extra,
    )
    if not refused:
        return token
    audit(
        workspace=connector.workspace,
        actor=actor or Actor.system(),
        action="connector.host_refused",
        target=connector if connector.pk and not connector._state.adding else None,
        metadata={"fields": sorted(refused), "reasons": refused, "connector_type": connector.definition.slug},
    )
    logger.warning("token response for connector %s named a host outside the rules: %s", connector.pk, sorted(refused))
    metrics.record_refresh(outcome="host_refused")
    missing = [name for name in refused if not credentials.get(name)]
    if missing:
        raise HostRefused(
            f"{connector.definition.name} returned a {', '.join(missing)} outside the hosts this connector type may "
            "call; nothing was stored."
        )
    return dataclasses.replace(token, extra=accepted)


def store_token(
    connector: Connector,
    credentials: dict[str, Any],
    token: Any,
    *,
    scheme: AuthScheme | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Write the new access token — and a rotated refresh token — in the caller's transaction."""
    now = timezone.now()
    token = vet_token(connector, scheme or auth_scheme_of(connector), credentials, token, actor=actor)
    credentials = merge_token(credentials, token)
    connector.credentials_encrypted = crypto.encrypt_json(credentials)
    connector.token_expires_at = now + timedelta(seconds=token.expires_in) if token.expires_in else None
    connector.token_refreshed_at = now
    if token.scope:
        connector.token_scopes = token.scope[:1000]
    connector.refresh_failures = 0
    connector.refresh_cooldown_until = None
    connector.refresh_queued_at = None
    if connector._state.adding:
        connector.status = ConnectorStatus.HEALTHY  # authorised just now: its first status, not a transition
        connector.save()
    else:
        TOKEN_UPDATE.save(connector)
        # Fresh tokens from the provider: whatever was wrong (revoked, refused) is over.
        connector_set_status(connector=connector, status=ConnectorStatus.HEALTHY, actor=actor)
    return credentials


def _record_failure(connector: Connector, exc: Any, *, actor: Actor | None) -> TokenUnavailable:
    if exc.permanent:
        connector_set_status(
            connector=connector,
            status=ConnectorStatus.NEEDS_REAUTH,
            detail=f"{exc.error}: the provider refused the "
            + ("credentials" if _mints_tokens(connector) else "refresh token"),
            actor=actor,
            metadata={"error": exc.error, "status_code": exc.status_code},
        )
        logger.warning("connector %s needs re-authorisation: %s", connector.pk, exc.error)
        return TokenUnavailable("needs_reauth", _reauth_message(connector))
    connector.refresh_failures += 1
    backoff = min(COOLDOWN_BASE_SECONDS * 2 ** (connector.refresh_failures - 1), COOLDOWN_MAX_SECONDS)
    connector.refresh_cooldown_until = timezone.now() + timedelta(seconds=backoff)
    connector.refresh_queued_at = None
    connector.save(update_fields=["refresh_failures", "refresh_cooldown_until", "refresh_queued_at", "updated_at"])
    audit(
        workspace=connector.workspace,
        actor=actor or Actor.system(),
        action="connector.refresh_failed",
        target=connector,
        metadata={"error": exc.error, "failures": connector.refresh_failures, "retry_after": backoff},
    )
    logger.warning("token refresh for connector %s failed (%s); cooling down %ss", connector.pk, exc.error, backoff)
    return TokenUnavailable(
        "token_refresh_failed",
        f"{connector.definition.name}'s token endpoint failed ({exc.error}); Patchbay retries after {backoff}s.",
        retry_after=backoff,
    )

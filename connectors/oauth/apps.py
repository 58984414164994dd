"""Which OAuth client a connector uses: its own pasted client_id/secret, the workspace's OAuthApp, or the
deployment default from the environment (PATCHBAY_OAUTH_<SLUG>_CLIENT_ID / _CLIENT_SECRET)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from connectors import crypto
from connectors.catalog.manifest import AuthScheme, Manifest, OAuthSpec
from connectors.engine.urls import resolve_base_url
from connectors.hosts import allow_http_hosts
from connectors.models import ConnectorDefinition, OAuthApp
from workspaces.models import Workspace


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    scopes: list[str] | None
    source: str  # "connector" | "workspace" | "environment"

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r}, source={self.source!r})"


def env_prefix(definition: ConnectorDefinition) -> str:
    return "PATCHBAY_OAUTH_" + definition.slug.upper().replace("-", "_")


def oauth_client_for(
    *, workspace: Workspace, definition: ConnectorDefinition, credentials: dict[str, Any] | None = None
) -> OAuthClient | None:
    credentials = credentials or {}
    if credentials.get("client_id") and credentials.get("client_secret"):
        return OAuthClient(credentials["client_id"], credentials["client_secret"], None, "connector")
    app = OAuthApp.objects.filter(workspace=workspace, definition=definition).first()
    if app is not None:
        secret = crypto.decrypt_text(app.client_secret_encrypted, owner=f"OAuth app {app.pk}")
        return OAuthClient(app.client_id, secret, app.scopes.split() or None, "workspace")
    prefix = env_prefix(definition)
    client_id, client_secret = os.environ.get(f"{prefix}_CLIENT_ID"), os.environ.get(f"{prefix}_CLIENT_SECRET")
    if client_id and client_secret:
        scopes = os.environ.get(f"{prefix}_SCOPES")
        return OAuthClient(client_id, client_secret, scopes.split() if scopes else None, "environment")
    return None


def oauth_endpoints(
    scheme: AuthScheme, manifest: Manifest, config: dict[str, Any], credentials: dict[str, Any] | None = None
) -> OAuthSpec:
    """The scheme's OAuth block with per-connection placeholders filled (Zendesk's {config.subdomain})."""
    if scheme.oauth is None:
        raise ValueError(f"auth scheme {scheme.key!r} has no OAuth block")
    filled = {
        key: resolve_base_url(
            url,
            config=config or {},
            credentials=credentials or {},
            config_defaults=manifest.config_fallbacks(credentials or {}, config or {}),
            allow_http_hosts=allow_http_hosts(),
        )
        for key, url in scheme.oauth.urls().items()
        if "{" in url
    }
    return dataclasses.replace(scheme.oauth, **filled)

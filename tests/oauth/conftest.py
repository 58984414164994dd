from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.catalog.sync import sync_catalog
from tests.oauth_server.fixture import clean_oauth_server, oauth_server  # noqa: F401

CATALOG = Path(__file__).resolve().parent / "catalog"
API = "/api/v1/integrations"


def use_oauthtest_type(settings, server, public_url: str) -> None:
    """Load the `oauthtest` connector type (tests/oauth/catalog) pointed at the loopback OAuth server."""
    settings.PATCHBAY_CATALOG_DIRS = [str(CATALOG)]
    settings.PATCHBAY_CATALOG_OVERRIDES = {
        "oauthtest": {
            "base_url": server.base_url,
            "authorization_url": server.authorization_url,
            "token_url": server.token_url,
            "revoke_url": server.revoke_url,
        }
    }
    settings.PATCHBAY_PUBLIC_URL = public_url
    sync_catalog(verbosity=0)


def serve_catalog_type(settings, api, client, slug: str, urls: dict[str, str]) -> None:
    """Point catalog type `slug` at the test server (`urls`: its PATCHBAY_CATALOG_OVERRIDES) and register the server's
    `client` as this workspace's OAuth app for it."""
    settings.PATCHBAY_CATALOG_OVERRIDES = {slug: urls}
    settings.PATCHBAY_PUBLIC_URL = "http://testserver"
    sync_catalog(verbosity=0)
    app = {"client_id": client.client_id, "client_secret": client.client_secret, "scopes": ["read"]}
    put = api.client.put(f"{API}/oauth-apps/{slug}", app, content_type="application/json", headers=api._headers(None))
    assert put.status_code == 200, put.json()


@pytest.fixture
def provider(settings, clean_oauth_server):  # noqa: F811
    """The loopback OAuth server as a Patchbay connector type, with this workspace's OAuth app registered."""
    use_oauthtest_type(settings, clean_oauth_server, "http://testserver")
    return clean_oauth_server


@pytest.fixture
def oauth_app(api, provider):
    response = api.client.put(
        f"{API}/oauth-apps/oauthtest",
        {"client_id": provider.client_id, "client_secret": provider.client_secret, "scopes": ["read"]},
        content_type="application/json",
        headers=api._headers(None),
    )
    assert response.status_code == 200, response.json()
    return response.json()


def connect(
    api,
    provider,
    *,
    name: str = "Test provider",
    redirect_url: str = "https://app.example.com/done",
    connector_id: str | None = None,
) -> str:
    """Run the whole redirect flow with the Django test client serving Patchbay's callback."""
    body = {"connector_type": "oauthtest", "name": name, "redirect_url": redirect_url}
    if connector_id:
        body = {"connector_id": connector_id, "redirect_url": redirect_url}
    started = api.post(f"{API}/connectors/oauth/initiate", body)
    assert started.status_code == 200, started.json()
    location = provider.consent(started.json()["consent_url"])
    callback = urlsplit(location)
    response = api.client.get(f"{callback.path}?{callback.query}")
    assert response.status_code == 302, response.content[:500]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert "connector_id" in query, response["Location"]
    return query["connector_id"][0]

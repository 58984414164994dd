"""A host named by a token response (Salesforce's instance_url) is checked before it is stored, against the real
OAuth server: a refused host is audited, never stored, and never receives the token (a listener proves it)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from connectors.catalog.sync import sync_catalog
from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.oauth.conftest import API, CATALOG
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance_provider(settings, clean_oauth_server, api):
    server = clean_oauth_server
    settings.PATCHBAY_CATALOG_DIRS = [str(CATALOG)]
    settings.PATCHBAY_CATALOG_OVERRIDES = {
        "oauthinstance": {"authorization_url": server.authorization_url, "token_url": server.token_url}
    }
    settings.PATCHBAY_PUBLIC_URL = "http://testserver"
    sync_catalog(verbosity=0)
    app = {"client_id": server.client_id, "client_secret": server.client_secret, "scopes": ["read"]}
    assert (
        api.client.put(
            f"{API}/oauth-apps/oauthinstance", app, content_type="application/json", headers=api._headers(None)
        ).status_code
        == 200
    )
    return server


@pytest.fixture
def listener():
    """Where a hostile token response would like the token to go: 127.0.0.2 is not a development host."""
    server = HTTPServer(host="127.0.0.2", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def run_flow(api, provider) -> dict[str, list[str]]:
    body = {"connector_type": "oauthinstance", "name": "CRM", "redirect_url": "https://app.example.com/done"}
    started = api.post(f"{API}/connectors/oauth/initiate", body)
    assert started.status_code == 200, started.json()
    callback = urlsplit(provider.consent(started.json()["consent_url"]))
    response = api.client.get(f"{callback.path}?{callback.query}")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)


def test_a_first_authorisation_naming_a_foreign_host_stores_nothing(api, instance_provider, listener):
    instance_provider.configure(extra_token_fields={"instance_url": listener.url_for("").rstrip("/")})
    outcome = run_flow(api, instance_provider)
    assert outcome["error"] == ["host_not_allowed"]
    assert "instance_url" in outcome["error_description"][0]
    assert not Connector.objects.filter(definition__slug="oauthinstance").exists()
    event = AuditEvent.objects.get(action="connector.host_refused")
    assert event.metadata["fields"] == ["instance_url"]
    assert listener.log == []


def test_a_refresh_naming_a_foreign_host_keeps_the_stored_one(api, instance_provider, listener):
    instance_provider.configure(extra_token_fields={"instance_url": "{base_url}"})
    connector_id = run_flow(api, instance_provider)["connector_id"][0]
    before = connector_credentials(Connector.objects.get(pk=connector_id))
    assert before["instance_url"] == instance_provider.base_url

    instance_provider.configure(extra_token_fields={"instance_url": listener.url_for("").rstrip("/")})
    refreshed = api.post(f"{API}/connectors/{connector_id}/refresh")
    assert refreshed.status_code == 200, refreshed.json()
    after = connector_credentials(Connector.objects.get(pk=connector_id))
    assert after["instance_url"] == instance_provider.base_url  # refused, not stored
    assert after["access_token"] != before["access_token"]  # the new tokens are kept
    assert after["refresh_token"] != before["refresh_token"]  # the rotated refresh token is not lost
    assert AuditEvent.objects.filter(action="connector.host_refused", target_id=connector_id).exists()

    run = api.post(f"{API}/connectors/{connector_id}/execute", {"entity": "me", "action": "get", "params": {}})
    assert run.status_code == 200, run.json()
    assert listener.log == []


def test_a_host_outside_allowed_hosts_is_refused_over_https_too(api, instance_provider, settings):
    settings.PATCHBAY_ALLOW_HTTP_HOSTS = []
    instance_provider.configure(extra_token_fields={"instance_url": "https://evil.example.com"})
    outcome = run_flow(api, instance_provider)
    assert outcome["error"] == ["host_not_allowed"]
    reasons = AuditEvent.objects.get(action="connector.host_refused").metadata["reasons"]
    assert "*.crm.example" in reasons["instance_url"]

"""The "Connect <Service>" redirect flow against a real OAuth 2.0 server (django-oauth-toolkit on loopback)."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection
from django.test import Client
from django.utils import timezone

from connectors.models import Connector, OAuthState
from connectors.selectors import connector_credentials
from tests.factories import MembershipFactory, UserFactory
from tests.oauth.conftest import API, connect
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_redirect_flow_over_real_http(live_server, transactional_db, settings, provider, workspace, caplog):
    """A real HTTP client: consent at the provider, follow the redirect to Patchbay's callback, land on redirect_url."""
    from tests.conftest import ApiClient
    from tests.factories import api_key_for

    caplog.set_level(logging.DEBUG)
    settings.PATCHBAY_PUBLIC_URL = live_server.url
    provider.add_redirect_uri(f"{live_server.url}/oauth/callback")
    key = api_key_for(workspace)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    assert (
        http.put(
            f"{live_server.url}{API}/oauth-apps/oauthtest",
            json={"client_id": provider.client_id, "client_secret": provider.client_secret},
            timeout=10,
        ).status_code
        == 200
    )
    started = http.post(
        f"{live_server.url}{API}/connectors/oauth/initiate",
        json={"connector_type": "oauthtest", "name": "Over HTTP", "redirect_url": f"{live_server.url}/healthz"},
        timeout=10,
    )
    consent_url = started.json()["consent_url"]
    query = parse_qs(urlsplit(consent_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == [f"{live_server.url}/oauth/callback"]

    browser = requests.Session()
    location = provider.consent(consent_url, session=browser)
    landed = browser.get(location, timeout=10)  # Patchbay's callback, then redirect_url
    assert landed.status_code == 200 and landed.url.startswith(f"{live_server.url}/healthz?connector_id=")
    connector_id = parse_qs(urlsplit(landed.url).query)["connector_id"][0]
    connector = Connector.objects.get(pk=connector_id)
    creds = connector_credentials(connector)
    assert creds["access_token"] and creds["refresh_token"]
    assert connector.token_expires_at > timezone.now()
    assert provider.me(creds["access_token"]).status_code == 200

    executed = ApiClient(key).post(f"{API}/connectors/{connector_id}/execute", {"entity": "me", "action": "get"})
    assert executed.status_code == 200, executed.json()
    assert executed.json()["result"]["username"] == provider.username
    for secret in (creds["access_token"], creds["refresh_token"], provider.client_secret):
        assert secret not in caplog.text


def test_denied_consent_redirects_with_error_and_stores_nothing(api, provider, oauth_app):
    started = api.post(
        f"{API}/connectors/oauth/initiate",
        {"connector_type": "oauthtest", "name": "x", "redirect_url": "https://app.example.com/done?tab=1"},
    )
    location = provider.consent(started.json()["consent_url"], allow=False)
    parts = urlsplit(location)
    response = api.client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.netloc == "app.example.com"
    query = parse_qs(target.query)
    assert query["tab"] == ["1"] and query["error"] == ["access_denied"] and query["error_description"]
    assert Connector.objects.count() == 0


def test_replayed_forged_and_expired_states_are_rejected(api, provider, oauth_app):
    started = api.post(
        f"{API}/connectors/oauth/initiate",
        {"connector_type": "oauthtest", "name": "x", "redirect_url": "https://app.example.com/done"},
    )
    location = urlsplit(provider.consent(started.json()["consent_url"]))
    first = api.client.get(f"{location.path}?{location.query}")
    assert first.status_code == 302
    assert Connector.objects.count() == 1

    replay = api.client.get(f"{location.path}?{location.query}")
    assert replay.status_code == 400
    assert b"already used" in replay.content and b"Nothing was saved" in replay.content

    forged = api.client.get("/oauth/callback?state=forged&code=abc")
    assert forged.status_code == 400 and b"not one Patchbay issued" in forged.content
    assert api.client.get("/oauth/callback").status_code == 400

    started = api.post(
        f"{API}/connectors/oauth/initiate",
        {"connector_type": "oauthtest", "name": "late", "redirect_url": "https://app.example.com/done"},
    )
    location = urlsplit(provider.consent(started.json()["consent_url"]))
    OAuthState.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = api.client.get(f"{location.path}?{location.query}")
    assert expired.status_code == 400 and b"expired" in expired.content
    assert Connector.objects.count() == 1
    assert provider.token_requests("authorization_code") == 1


def test_state_started_by_a_dashboard_user_cannot_be_finished_by_another(provider, workspace, user, settings):
    from connectors.models import ConnectorDefinition
    from connectors.oauth.services import oauth_app_upsert, oauth_initiate
    from workspaces.services import Actor

    definition = ConnectorDefinition.objects.get(slug="oauthtest")
    oauth_app_upsert(
        workspace=workspace,
        definition=definition,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scopes=None,
        actor=Actor.system(),
    )
    consent_url = oauth_initiate(
        workspace=workspace,
        definition=definition,
        redirect_url="https://x.example/done",
        name="mine",
        replication_config={},
        actor=Actor(user=user),
    )
    location = urlsplit(provider.consent(consent_url))
    intruder = Client()
    intruder.force_login(MembershipFactory(user=UserFactory()).user)
    rejected = intruder.get(f"{location.path}?{location.query}")
    assert rejected.status_code == 400 and b"another user" in rejected.content
    assert Connector.objects.count() == 0


def test_reauthorise_keeps_the_connector_id(api, provider, oauth_app):
    connector_id = connect(api, provider)
    old = connector_credentials(Connector.objects.get(pk=connector_id))
    Connector.objects.filter(pk=connector_id).update(status="needs_reauth")
    again = connect(api, provider, connector_id=connector_id)
    assert again == connector_id
    connector = Connector.objects.get(pk=connector_id)
    assert connector.status == "healthy"
    assert connector_credentials(connector)["refresh_token"] != old["refresh_token"]
    assert AuditEvent.objects.filter(action="connector.reauthorize", target_id=connector_id).exists()


def test_per_connection_fields_from_the_token_response_are_saved(api, provider, oauth_app):
    provider.configure(extra_token_fields={"instance_url": "{base_url}"})
    connector_id = connect(api, provider)
    assert connector_credentials(Connector.objects.get(pk=connector_id))["instance_url"] == provider.base_url


def test_initiate_validates_its_input(api, provider):
    no_app = api.post(
        f"{API}/connectors/oauth/initiate",
        {"connector_type": "oauthtest", "name": "x", "redirect_url": "https://x.example"},
    )
    assert no_app.status_code == 422 and "PATCHBAY_OAUTH_OAUTHTEST_CLIENT_ID" in no_app.json()["message"]
    bad = api.post(f"{API}/connectors/oauth/initiate", {"connector_type": "stripe", "redirect_url": "ftp://x"})
    assert bad.status_code == 422


def test_tokens_are_encrypted_at_rest(api, provider, oauth_app):
    connector_id = connect(api, provider)
    creds = connector_credentials(Connector.objects.get(pk=connector_id))
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM connectors_connector")
        raw = str(cursor.fetchall())
    assert creds["access_token"] not in raw and creds["refresh_token"] not in raw
    body = api.get(f"{API}/connectors/{connector_id}").content.decode()
    assert creds["access_token"] not in body and creds["refresh_token"] not in body


def test_deployment_wide_oauth_app_from_the_environment(api, provider, monkeypatch):
    monkeypatch.setenv("PATCHBAY_OAUTH_OAUTHTEST_CLIENT_ID", provider.client_id)
    monkeypatch.setenv("PATCHBAY_OAUTH_OAUTHTEST_CLIENT_SECRET", provider.client_secret)
    connector_id = connect(api, provider)  # no workspace OAuth app: the environment's is used
    assert provider.me(connector_credentials(Connector.objects.get(pk=connector_id))["access_token"]).status_code == 200
    assert api.get(f"{API}/oauth-apps").json() == []


def test_oauth_endpoints_never_cross_workspaces(api, other_api, provider, oauth_app):
    connector_id = connect(api, provider)
    reauth = other_api.post(
        f"{API}/connectors/oauth/initiate", {"connector_id": connector_id, "redirect_url": "https://evil.example/done"}
    )
    assert reauth.status_code == 404
    assert other_api.get(f"{API}/oauth-apps").json() == []
    assert other_api.delete(f"{API}/oauth-apps/oauthtest").status_code == 404
    assert api.get(f"{API}/oauth-apps").json()[0]["client_id"] == provider.client_id
    listed = api.get(f"{API}/oauth-apps").content.decode()
    assert provider.client_secret not in listed

"""Credentials are bound to their hosts: an API key alone can never send a stored token somewhere new.

Two real loopback servers: `vendor` is where the connector's requests belong, `listener` is where an attacker
would like them to go. Every test ends by proving the listener heard nothing.
"""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from connectors.models import Connector
from connectors.selectors import connector_credentials
from workspaces.models import AuditEvent

BASE = "/api/v1/integrations/connectors"
TOKEN = "ghp_SENTINEL_host_binding_0001"
pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/").respond_with_data("")  # never expected to be called
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def github(api, httpserver):
    body = {
        "connector_type": "github",
        "name": "GitHub",
        "credentials": {"personal_access_token": TOKEN},
        "replication_config": {"repositories": ["a/b"], "api_url": httpserver.url_for("").rstrip("/")},
    }
    response = api.post(BASE, body)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _heard_nothing(listener: HTTPServer) -> None:
    assert listener.log == [], "a request reached the listener"


def test_moving_the_host_with_only_an_api_key_is_refused(api, github, httpserver, listener):
    hostile = {"replication_config": {"repositories": ["a/b"], "api_url": listener.url_for("").rstrip("/")}}
    response = api.patch(f"{BASE}/{github}", hostile)
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"]: e["error_code"] for e in body["errors"]}
    assert fields == {
        "replication_config.api_url": "credentials_required",
        "credentials.personal_access_token": "required",
    }
    assert "credentials again" in body["message"]
    assert TOKEN not in response.content.decode()

    # The stored connector still points at the vendor, and an execute goes there, not to the listener.
    httpserver.expect_request("/repos/a/b/issues").respond_with_json([])
    params = {"owner": "a", "repo": "b"}
    run = api.post(f"{BASE}/{github}/execute", {"entity": "issues", "action": "list", "params": params})
    assert run.status_code == 200, run.json()
    assert httpserver.log[-1][0].headers["Authorization"] == f"Bearer {TOKEN}"
    _heard_nothing(listener)


def test_moving_the_host_with_the_credentials_again_is_allowed_and_audited(api, github, httpserver, listener):
    new_url = listener.url_for("").rstrip("/")
    body = {
        "replication_config": {"repositories": ["a/b"], "api_url": new_url},
        "credentials": {"personal_access_token": "ghp_NEW_TOKEN_for_the_new_host"},
    }
    response = api.patch(f"{BASE}/{github}", body)
    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.get(action="connector.host_change", target_id=github)
    assert event.metadata["fields"] == ["replication_config.api_url"]
    assert event.metadata["to"] == {"replication_config.api_url": new_url}
    assert event.metadata["from"] == {"replication_config.api_url": httpserver.url_for("").rstrip("/")}


def test_a_patch_that_keeps_the_host_needs_no_credentials(api, github, httpserver):
    same = {"replication_config": {"repositories": ["a/b", "c/d"], "api_url": httpserver.url_for("").rstrip("/")}}
    assert api.patch(f"{BASE}/{github}", same).status_code == 200
    assert not AuditEvent.objects.filter(action="connector.host_change").exists()


@pytest.mark.parametrize(
    "api_url",
    [
        "http://evil.example.com",  # plain http to anything but the allowed development hosts
        "ftp://evil.example.com",
        "https://user:pw@evil.example.com",
        "https://evil.example.com?x=1",
        "https://evil.example.com#frag",
        "javascript:alert(1)",
    ],
)
def test_hosts_that_can_never_be_used_are_refused_even_with_credentials(api, github, api_url, listener):
    body = {
        "replication_config": {"repositories": ["a/b"], "api_url": api_url},
        "credentials": {"personal_access_token": TOKEN},
    }
    response = api.patch(f"{BASE}/{github}", body)
    assert response.status_code == 422
    assert "replication_config.api_url" in {e["field"] for e in response.json()["errors"]}
    created = api.post(
        BASE,
        {
            "connector_type": "github",
            "name": "x",
            "credentials": {"personal_access_token": TOKEN},
            "replication_config": {"repositories": ["a/b"], "api_url": api_url},
        },
    )
    assert created.status_code == 422
    _heard_nothing(listener)


def test_https_is_required_once_development_hosts_are_not_allowed(api, settings):
    settings.PATCHBAY_ALLOW_HTTP_HOSTS = []
    body = {
        "connector_type": "github",
        "name": "x",
        "credentials": {"personal_access_token": TOKEN},
        "replication_config": {"repositories": ["a/b"], "api_url": "http://127.0.0.1:9"},
    }
    response = api.post(BASE, body)
    assert response.status_code == 422
    error = next(e for e in response.json()["errors"] if e["field"] == "replication_config.api_url")
    assert error["error_code"] == "host_not_allowed"
    assert "https" in error["message"]


def test_a_subdomain_cannot_smuggle_another_host(api):
    body = {
        "connector_type": "zendesk-support",
        "name": "Zendesk",
        "credentials": {"email": "a@example.com", "api_token": "zd_SENTINEL"},
        "replication_config": {"subdomain": "evil.example.com/x#"},
    }
    response = api.post(BASE, body)
    assert response.status_code == 422
    assert "replication_config.subdomain" in {e["field"] for e in response.json()["errors"]}


def test_a_pasted_instance_url_outside_salesforce_is_refused(api, settings):
    settings.PATCHBAY_ALLOW_HTTP_HOSTS = []
    body = {
        "connector_type": "salesforce",
        "name": "SF",
        "credentials": {
            "client_id": "id",
            "client_secret": "sf_secret_SENTINEL",
            "refresh_token": "sf_refresh_SENTINEL",
            "instance_url": "https://evil.example.com",
        },
    }
    response = api.post(BASE, body)
    assert response.status_code == 422
    error = next(e for e in response.json()["errors"] if e["field"] == "credentials.instance_url")
    assert "salesforce.com" in error["message"]
    good = {**body, "credentials": {**body["credentials"], "instance_url": "https://acme.my.salesforce.com"}}
    assert api.post(BASE, good).status_code == 201


def test_moving_a_credential_host_needs_every_supplied_secret(api, settings):
    settings.PATCHBAY_ALLOW_HTTP_HOSTS = []
    creds = {
        "client_id": "id",
        "client_secret": "sf_secret_SENTINEL",
        "refresh_token": "sf_refresh_SENTINEL",
        "instance_url": "https://acme.my.salesforce.com",
    }
    connector_id = api.post(BASE, {"connector_type": "salesforce", "name": "SF", "credentials": creds}).json()["id"]
    move = {"credentials": {"instance_url": "https://other.my.salesforce.com"}}
    response = api.patch(f"{BASE}/{connector_id}", move)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {
        "credentials.instance_url",
        "credentials.client_secret",
        "credentials.refresh_token",
    }
    stored = connector_credentials(Connector.objects.get(pk=connector_id))
    assert stored["instance_url"] == "https://acme.my.salesforce.com"
    again = {"credentials": {**creds, "instance_url": "https://other.my.salesforce.com"}}
    assert api.patch(f"{BASE}/{connector_id}", again).status_code == 200

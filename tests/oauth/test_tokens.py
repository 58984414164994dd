"""Token lifecycle against the real OAuth server: refresh near expiry, rotation, invalid_grant, cooldowns,
forced refresh, revocation, crash safety."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import Connector, Execution
from connectors.selectors import connector_credentials
from tests.oauth.conftest import API, connect
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db
ME = {"entity": "me", "action": "get"}


@pytest.fixture
def connected(api, provider, oauth_app) -> str:
    connector_id = connect(api, provider)
    provider.reset_counters()
    return connector_id


def expire(connector_id: str) -> None:
    """Make Patchbay see the access token as (nearly) expired."""
    Connector.objects.filter(pk=connector_id).update(token_expires_at=timezone.now() + timedelta(seconds=10))


def test_fresh_token_is_used_without_a_token_request(api, provider, connected):
    response = api.post(f"{API}/connectors/{connected}/execute", ME)
    assert response.status_code == 200
    assert provider.token_requests() == 0


def test_token_near_expiry_is_refreshed_and_rotation_saved(api, provider, connected, caplog):
    caplog.set_level(logging.DEBUG)
    before = connector_credentials(Connector.objects.get(pk=connected))
    expire(connected)
    provider.expire_access_tokens()
    response = api.post(f"{API}/connectors/{connected}/execute", ME)
    assert response.status_code == 200, response.json()
    assert provider.token_requests("refresh_token") == 1
    connector = Connector.objects.get(pk=connected)
    after = connector_credentials(connector)
    assert after["refresh_token"] != before["refresh_token"]  # rotated, and the new one was kept
    assert after["access_token"] != before["access_token"]
    assert connector.token_expires_at > timezone.now() + timedelta(minutes=5)
    assert connector.token_refreshed_at is not None
    # A second call needs no token request: the stored token is fresh.
    assert api.post(f"{API}/connectors/{connected}/execute", ME).status_code == 200
    assert provider.token_requests("refresh_token") == 1
    for secret in (*before.values(), *after.values()):
        if isinstance(secret, str) and len(secret) > 8:
            assert secret not in caplog.text
    execution_rows = str(list(Execution.objects.values_list()))
    assert after["access_token"] not in execution_rows and "Bearer" not in execution_rows


def test_response_without_refresh_token_keeps_the_old_one(api, provider, connected):
    before = connector_credentials(Connector.objects.get(pk=connected))
    provider.configure(rotate_refresh_token=False, drop_token_fields=["refresh_token"])
    expire(connected)
    assert api.post(f"{API}/connectors/{connected}/execute", ME).status_code == 200
    after = connector_credentials(Connector.objects.get(pk=connected))
    assert after["refresh_token"] == before["refresh_token"]
    assert after["access_token"] != before["access_token"]


def test_invalid_grant_marks_needs_reauth_and_stops_refreshing(api, provider, connected):
    provider.revoke_all_tokens()
    expire(connected)
    response = api.post(f"{API}/connectors/{connected}/execute", ME)
    assert response.status_code == 424
    body = response.json()
    assert body["error_code"] == "needs_reauth" and "Re-authorise" in body["message"]
    connector = Connector.objects.get(pk=connected)
    assert connector.status == "needs_reauth"
    assert AuditEvent.objects.filter(action="connector.needs_reauth", target_id=connected).exists()
    assert provider.token_requests("refresh_token") == 1
    for _ in range(3):
        again = api.post(f"{API}/connectors/{connected}/execute", ME)
        assert again.status_code == 424 and again.json()["error_code"] == "needs_reauth"
    assert provider.token_requests("refresh_token") == 1  # no storm against a dead grant
    assert api.get(f"{API}/connectors/{connected}").json()["status"] == "needs_reauth"
    # Re-authorising brings it back with the same id.
    assert connect(api, provider, connector_id=connected) == connected
    assert api.post(f"{API}/connectors/{connected}/execute", ME).status_code == 200


def test_transient_failures_cool_down_instead_of_storming(api, provider, connected):
    provider.fail_next(5, status=503)
    expire(connected)
    first = api.post(f"{API}/connectors/{connected}/execute", ME)
    assert first.status_code == 503 and first.json()["error_code"] == "token_refresh_failed"
    assert int(first["Retry-After"]) == 30
    requests_after_first = provider.token_requests("refresh_token")
    for _ in range(3):
        assert api.post(f"{API}/connectors/{connected}/execute", ME).json()["error_code"] == "token_refresh_failed"
    assert provider.token_requests("refresh_token") == requests_after_first  # cooling down: no new requests
    connector = Connector.objects.get(pk=connected)
    assert connector.status == "healthy" and connector.refresh_failures == 1
    assert connector.refresh_cooldown_until > timezone.now()
    provider.reset()
    Connector.objects.filter(pk=connected).update(refresh_cooldown_until=timezone.now() - timedelta(seconds=1))
    assert api.post(f"{API}/connectors/{connected}/execute", ME).status_code == 200
    assert Connector.objects.get(pk=connected).refresh_failures == 0


def test_forced_refresh_and_revoke_are_audited(api, provider, connected):
    before = connector_credentials(Connector.objects.get(pk=connected))
    refreshed = api.post(f"{API}/connectors/{connected}/refresh")
    assert refreshed.status_code == 200, refreshed.json()
    assert provider.token_requests("refresh_token") == 1
    after = connector_credentials(Connector.objects.get(pk=connected))
    assert after["refresh_token"] != before["refresh_token"]
    assert AuditEvent.objects.filter(action="connector.token_refresh", target_id=connected).exists()

    revoked = api.post(f"{API}/connectors/{connected}/revoke")
    assert revoked.status_code == 200 and revoked.json() == {"revoked_at_provider": True, "status": "needs_reauth"}
    assert provider.revoke_requests() == 1
    assert provider.me(after["access_token"]).status_code == 401
    creds = connector_credentials(Connector.objects.get(pk=connected))
    assert "access_token" not in creds and "refresh_token" not in creds
    assert AuditEvent.objects.filter(action="connector.revoke", target_id=connected).exists()
    assert api.post(f"{API}/connectors/{connected}/execute", ME).json()["error_code"] == "needs_reauth"


def test_refresh_and_revoke_refuse_api_key_connectors(api):
    stripe = api.post(
        f"{API}/connectors", {"connector_type": "stripe", "name": "s", "credentials": {"api_key": "sk_x"}}
    ).json()["id"]
    assert api.post(f"{API}/connectors/{stripe}/refresh").status_code == 422
    assert api.post(f"{API}/connectors/{stripe}/revoke").status_code == 422


def test_crash_between_provider_answer_and_commit(api, provider, connected, monkeypatch):
    """The provider rotated the refresh token but our save failed. What the operator sees, and the way back."""
    import connectors.oauth.tokens as tokens

    expire(connected)
    real_store = tokens.store_token

    def failing_store(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tokens, "store_token", failing_store)
    crashed = api.post(f"{API}/connectors/{connected}/execute", ME)
    assert crashed.status_code == 500 and crashed.json()["error_code"] == "internal_error"
    assert "database went away" not in crashed.content.decode()
    assert Connector.objects.get(pk=connected).status == "healthy"  # nothing was committed
    monkeypatch.setattr(tokens, "store_token", real_store)

    # The next run presents the old refresh token; the provider treats that as reuse and revokes the family.
    after = api.post(f"{API}/connectors/{connected}/execute", ME)
    assert after.status_code == 424 and after.json()["error_code"] == "needs_reauth"
    connector = Connector.objects.get(pk=connected)
    assert connector.status == "needs_reauth" and "invalid_grant" in connector.status_detail
    assert AuditEvent.objects.filter(action="connector.needs_reauth", target_id=connected).exists()
    # Recovery: re-authorise (same id), and it works again.
    assert connect(api, provider, connector_id=connected) == connected
    assert api.post(f"{API}/connectors/{connected}/execute", ME).status_code == 200


def test_pasted_oauth_credentials_with_check_mint_a_token_and_keep_the_rotated_one(api, provider):
    """The seed's HubSpot shape (client_id, client_secret, refresh_token) with check: true."""
    from tests.oauth.conftest import API as api_base

    # Get a real refresh token from the server through the flow's client, without a workspace OAuth app.
    started_app = api.client.put(
        f"{api_base}/oauth-apps/oauthtest",
        {"client_id": provider.client_id, "client_secret": provider.client_secret},
        content_type="application/json",
        headers=api._headers(None),
    )
    assert started_app.status_code == 200
    source = connect(api, provider, name="source")
    pasted = connector_credentials(Connector.objects.get(pk=source))
    api.delete(f"{api_base}/oauth-apps/oauthtest")
    Connector.objects.filter(pk=source).delete()
    provider.reset_counters()

    created = api.post(
        f"{api_base}/connectors",
        {
            "connector_type": "oauthtest",
            "name": "pasted",
            "check": True,
            "credentials": {
                "client_id": provider.client_id,
                "client_secret": provider.client_secret,
                "refresh_token": pasted["refresh_token"],
            },
        },
    )
    assert created.status_code == 201, created.json()
    assert provider.token_requests("refresh_token") == 1
    stored = connector_credentials(Connector.objects.get(pk=created.json()["id"]))
    assert stored["refresh_token"] != pasted["refresh_token"]  # the rotated token was kept, not lost
    assert provider.me(stored["access_token"]).status_code == 200
    assert api.post(f"{api_base}/connectors/{created.json()['id']}/execute", ME).status_code == 200
    assert provider.token_requests("refresh_token") == 1

    refused = api.post(
        f"{api_base}/connectors",
        {
            "connector_type": "oauthtest",
            "name": "stale",
            "check": True,
            "credentials": {
                "client_id": provider.client_id,
                "client_secret": provider.client_secret,
                "refresh_token": "not-a-real-token",
            },
        },
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "credentials.refresh_token"

"""A connector's health is Unknown until something proves the credentials, follows execution outcomes, and every
change is one audited transition (connectors/status.py)."""

from __future__ import annotations

import pytest

from connectors.models import Connector
from workspaces.models import AuditEvent

BASE = "/api/v1/integrations/connectors"
LIST = {"entity": "customers", "action": "list", "params": {}}
pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor(httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    return httpserver


def status_of(connector_id: str) -> str:
    return Connector.objects.get(pk=connector_id).status


def transitions(connector_id: str) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(
        target_id=connector_id,
        action__in=["connector.unknown", "connector.healthy", "connector.needs_attention", "connector.needs_reauth"],
    ).order_by("created_at", "id")
    return [(e.metadata["from"], e.metadata["to"]) for e in events]


def test_health_follows_what_the_vendor_says(api, vendor):
    created = api.post(BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_1"}})
    connector_id = created.json()["id"]
    assert created.json()["status"] == "unknown"

    ok = {"object": "list", "data": [], "has_more": False}
    vendor.expect_oneshot_request("/v1/customers").respond_with_json(ok)
    assert api.post(f"{BASE}/{connector_id}/execute", LIST).status_code == 200
    assert status_of(connector_id) == "healthy"

    vendor.expect_oneshot_request("/v1/customers").respond_with_json(ok)
    api.post(f"{BASE}/{connector_id}/execute", LIST)  # already healthy: no new transition

    vendor.expect_oneshot_request("/v1/customers").respond_with_json({"error": {"message": "bad key"}}, status=401)
    refused = api.post(f"{BASE}/{connector_id}/execute", LIST)
    assert refused.status_code == 424
    assert status_of(connector_id) == "needs_attention"
    assert api.get(f"{BASE}/{connector_id}").json()["status_detail"].startswith("The service rejected")

    vendor.expect_oneshot_request("/v1/customers").respond_with_json(ok)
    api.post(f"{BASE}/{connector_id}/execute", LIST)
    assert status_of(connector_id) == "healthy"

    assert api.patch(f"{BASE}/{connector_id}", {"credentials": {"api_key": "sk_test_2"}}).status_code == 200
    assert status_of(connector_id) == "unknown"  # new credentials prove nothing yet
    assert transitions(connector_id) == [
        ("unknown", "healthy"),
        ("healthy", "needs_attention"),
        ("needs_attention", "healthy"),
        ("healthy", "unknown"),
    ]


def test_a_connector_checked_on_create_starts_healthy(api, vendor):
    vendor.expect_request("/v1/customers").respond_with_json({"object": "list", "data": [], "has_more": False})
    body = {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_1"}, "check": True}
    created = api.post(BASE, body).json()
    assert created["status"] == "healthy"
    assert Connector.objects.get(pk=created["id"]).last_checked_at is not None


def test_a_failed_check_leaves_unknown_until_the_vendor_refuses(api, vendor):
    connector_id = api.post(
        BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_1"}}
    ).json()["id"]
    vendor.expect_request("/v1/customers").respond_with_json({"error": {"message": "down"}}, status=500)
    check = api.post(f"{BASE}/{connector_id}/check").json()
    assert check["ok"] is False
    assert status_of(connector_id) == "unknown"  # a vendor outage says nothing about the credentials

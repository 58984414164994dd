"""The audit log says what an update really changed: a form that re-sends the name and configuration with a new
token changed the credentials alone."""

from __future__ import annotations

import pytest

from workspaces.models import AuditEvent

BASE = "/api/v1/integrations/connectors"
pytestmark = pytest.mark.django_db


def test_a_token_only_edit_logs_only_the_credentials(api):
    body = {
        "connector_type": "github",
        "name": "GitHub",
        "credentials": {"personal_access_token": "ghp_old_token"},
        "replication_config": {"repositories": ["a/b"]},
    }
    connector_id = api.post(BASE, body).json()["id"]
    same_form = {
        "name": "GitHub",
        "replication_config": {"repositories": ["a/b"]},
        "credentials": {"personal_access_token": "ghp_new_token"},
    }
    assert api.patch(f"{BASE}/{connector_id}", same_form).status_code == 200
    event = AuditEvent.objects.filter(action="connector.update", target_id=connector_id).latest("created_at")
    assert event.metadata == {"changed": ["credentials"], "credential_fields": ["personal_access_token"]}

    rename = {"name": "GitHub prod", "credentials": {"personal_access_token": ""}}
    assert api.patch(f"{BASE}/{connector_id}", rename).status_code == 200
    event = AuditEvent.objects.filter(action="connector.update", target_id=connector_id).latest("created_at")
    assert event.metadata == {"changed": ["name"], "credential_fields": []}

"""A NUL character anywhere in a request is refused at the edge: PostgreSQL cannot store it, and it must never
become a 500 (schemathesis found /resolve?connector_type=%00… on PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from connectors.models import Connector

pytestmark = pytest.mark.django_db
BASE = "/api/v1/integrations/connectors"


def test_nul_in_query_path_or_json_body_is_a_422_for_the_api(api):
    resolve = api.get(f"{BASE}/resolve", {"connector_type": "str\x00ipe"})
    assert resolve.status_code == 422
    assert resolve.json()["errors"][0] == {
        "field": "query",
        "error_code": "invalid_character",
        "message": resolve.json()["message"],
    }
    body = {"connector_type": "stripe", "name": "bad\u0000name", "credentials": {"api_key": "sk_x"}}
    created = api.post(BASE, body)
    assert created.status_code == 422 and created.json()["errors"][0]["field"] == "body"
    config = {
        "connector_type": "github",
        "name": "gh",
        "credentials": {"personal_access_token": "x"},
        "replication_config": {"repositories": ["a/b\u0000"]},
    }
    assert api.post(BASE, config).status_code == 422
    assert api.get("/api/v1/integrations/definitions/sources/x%00y").status_code == 422
    assert Connector.objects.count() == 0


def test_lookalikes_are_not_refused(api):
    # An escaped backslash followed by "u0000" is the text \u0000, and %00 inside JSON is just three characters.
    body = {"connector_type": "stripe", "name": "literal \\u0000 and 100%00", "credentials": {"api_key": "sk_x"}}
    raw = json.dumps(body)
    assert "\\\\u0000" in raw
    created = api.client.post(BASE, raw, content_type="application/json", headers=api._headers(None))
    assert created.status_code == 201, created.json()
    assert created.json()["name"] == "literal \\u0000 and 100%00"


def test_dashboard_gets_a_400_for_a_nul_in_a_form_or_search(user):
    client = Client()
    client.force_login(user)
    assert client.get("/?q=a%00b").status_code == 400
    assert (
        client.post(
            "/accounts/login/", "username=a%00b&password=x", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 400
    )

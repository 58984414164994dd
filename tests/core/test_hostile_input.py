"""Input that cannot work is refused at the edge with 422 and the field; nothing half-works and nothing is a 500."""

from __future__ import annotations

import base64

import pytest

from connectors import crypto
from connectors.models import Connector, Execution

BASE = "/api/v1/integrations/connectors"
pytestmark = pytest.mark.django_db


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _b64("2026-01-01T00:00:00+00:00|not-a-uuid"),
        _b64("2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000"),  # no time zone
        _b64("0001-01-01T00:00:00+14:00|00000000-0000-0000-0000-000000000000"),  # before year 1 in UTC
        _b64("9999-12-31T23:59:59-14:00|00000000-0000-0000-0000-000000000000"),  # after year 9999 in UTC
        _b64("not a timestamp|00000000-0000-0000-0000-000000000000"),
        _b64("no separator at all"),
        _b64("|"),
        "%%%not-base64%%%",
        "\u00e9t\u00e9",
        "A",
    ],
)
def test_every_malformed_cursor_is_a_422_naming_the_cursor(api, cursor):
    response = api.get(f"{BASE}", {"cursor": cursor})
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [
        {"field": "cursor", "message": "Use the 'next' value of a previous page.", "error_code": "invalid_value"}
    ]


def test_a_cursor_we_issued_still_pages(api):
    for i in range(3):
        api.post(BASE, {"connector_type": "stripe", "name": f"S{i}", "credentials": {"api_key": f"sk_test_{i}"}})
    first = api.get(BASE, {"limit": 2}).json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    second = api.get(BASE, {"limit": 2, "cursor": cursor})
    assert second.status_code == 200
    assert len(first["data"]) + len(second.json()["data"]) == 3


@pytest.mark.parametrize(
    "value",
    [
        "sk_test_\u20ac\u00fc",  # the euro sign is outside Latin-1: no HTTP header can carry it
        "sk_test_abc\nX-Injected: 1",
        "sk_test_abc\r\n",
        "sk_test_\x07bell",
        "sk_test_\x7f",
    ],
)
def test_credentials_no_header_can_carry_are_refused_on_create_and_patch(api, value):
    response = api.post(BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": value}})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == "credentials.api_key"
    assert value not in response.content.decode()
    assert not Connector.objects.exists()

    good = api.post(BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_ok"}})
    connector_id = good.json()["id"]
    patched = api.patch(f"{BASE}/{connector_id}", {"credentials": {"api_key": value}})
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["field"] == "credentials.api_key"
    stored = crypto.decrypt_json(Connector.objects.get(pk=connector_id).credentials_encrypted, owner="t")
    assert stored["api_key"] == "sk_test_ok"


def test_latin1_text_that_a_header_can_carry_is_accepted(api):
    response = api.post(
        BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_caf\u00e9"}}
    )
    assert response.status_code == 201


def test_a_bad_credential_stored_before_the_rule_fails_clearly_not_with_a_500(api, httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    connector_id = api.post(
        BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_ok"}}
    ).json()["id"]
    Connector.objects.filter(pk=connector_id).update(
        credentials_encrypted=crypto.encrypt_json({"api_key": "sk_test_\u20ac"})
    )
    run = api.post(f"{BASE}/{connector_id}/execute", {"entity": "customers", "action": "list", "params": {}})
    assert run.status_code == 424, run.content
    body = run.json()
    assert body["error_code"] == "credentials_invalid"
    assert body["errors"][0]["field"] == "credentials.api_key"
    assert "\u20ac" not in run.content.decode()
    assert httpserver.log == []
    execution_id = body["execution_metadata"]["execution_id"]
    again = api.get(f"/api/v1/integrations/executions/{execution_id}")
    assert again.status_code == 424
    assert Execution.objects.get(pk=execution_id).error_code == "credentials_invalid"

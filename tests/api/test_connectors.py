"""The connector REST API, driven over HTTP the way the seed document's examples drive the hosted product."""

from __future__ import annotations

import pytest

from connectors.models import Connector
from workspaces.models import AuditEvent

GITHUB_ID = "ef69ef6e-aa7f-4af1-a01d-ef775033524e"
HUBSPOT_ID = "36c891d9-4bd9-43ac-bad2-10e12756272c"
BASE = "/api/v1/integrations/connectors"

pytestmark = pytest.mark.django_db


def github_body(**overrides):
    body = {
        "definition_id": GITHUB_ID,
        "name": "My GitHub Connector",
        "credentials": {"option_title": "PAT Credentials", "personal_access_token": "ghp_seedsecret123"},
        "replication_config": {"repositories": ["airbytehq/airbyte"]},
    }
    body.update(overrides)
    return body


def hubspot_body():
    return {
        "definition_id": HUBSPOT_ID,
        "name": "My HubSpot Connector",
        "credentials": {"client_id": "hs-client", "client_secret": "hs-secret-xyz", "refresh_token": "hs-refresh-abc"},
    }


def test_seed_flow_create_list_get_resolve_delete(api):
    missing = api.post(BASE, github_body(replication_config=None))
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "replication_config.repositories", "message": "This field is required.", "error_code": "required"}
    ]
    assert "repositories" in missing.json()["message"]

    created = api.post(BASE, github_body())
    assert created.status_code == 201, created.json()
    github_id = created.json()["id"]
    hub = api.post(BASE, hubspot_body())
    assert hub.status_code == 201, hub.json()
    assert hub.json()["auth_scheme"] == "oauth"

    listed = api.get(BASE).json()
    by_id = {c["id"]: c for c in listed["data"]}
    assert by_id[github_id]["connector_type"] == "GitHub"
    assert by_id[hub.json()["id"]]["connector_type"] == "HubSpot"
    assert set(by_id[github_id]) >= {
        "id",
        "name",
        "connector_type",
        "slug",
        "definition_id",
        "status",
        "created_at",
        "updated_at",
    }
    assert listed["next"] is None

    got = api.get(f"{BASE}/{github_id}").json()
    assert got["replication_config"] == {"repositories": ["airbytehq/airbyte"]}
    assert got["auth_scheme"] == "pat"
    assert got["credential_fields"] == ["option_title", "personal_access_token"]

    assert api.get(f"{BASE}/resolve", {"connector_type": "github"}).json()["id"] == github_id
    assert api.get(f"{BASE}/resolve", {"connector_type": "stripe"}).status_code == 404
    second = api.post(BASE, github_body(name="Second GitHub")).json()["id"]
    several = api.get(f"{BASE}/resolve", {"connector_type": "github"})
    assert several.status_code == 409
    assert {c["id"] for c in several.json()["candidates"]} == {github_id, second}
    assert {c["name"] for c in several.json()["candidates"]} == {"My GitHub Connector", "Second GitHub"}

    assert api.delete(f"{BASE}/{github_id}").status_code == 204
    assert api.get(f"{BASE}/{github_id}").status_code == 404
    assert not Connector.objects.filter(pk=github_id).exists()
    assert AuditEvent.objects.filter(action="connector.delete", target_id=github_id).exists()


def test_create_by_connector_type_slug_and_filters(api):
    api.post(BASE, github_body())
    stripe = api.post(BASE, {"connector_type": "stripe", "name": "Stripe", "credentials": {"api_key": "sk_test_1"}})
    assert stripe.status_code == 201
    assert [c["slug"] for c in api.get(BASE, {"connector_type": "stripe"}).json()["data"]] == ["stripe"]
    assert [c["slug"] for c in api.get(BASE, {"definition_id": GITHUB_ID}).json()["data"]] == ["github"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "x", "credentials": {}}, "definition_id", "exactly_one"),
        (
            {"definition_id": GITHUB_ID, "connector_type": "github", "name": "x", "credentials": {}},
            "connector_type",
            "exactly_one",
        ),
        ({"connector_type": "nope", "name": "x", "credentials": {}}, "connector_type", "unknown_connector_type"),
        ({"definition_id": "not-a-uuid", "name": "x", "credentials": {}}, "definition_id", "invalid_value"),
        ({"connector_type": "stripe", "credentials": {"api_key": "k"}}, "name", "required"),
        ({"connector_type": "stripe", "name": "x"}, "credentials", "required"),
        ({"connector_type": "stripe", "name": "x", "credentials": "k"}, "credentials", "invalid_type"),
        (
            {"connector_type": "stripe", "name": "x", "credentials": {"api_key": ""}},
            "credentials.api_key",
            "invalid_value",
        ),
        (
            {"connector_type": "stripe", "name": "x", "credentials": {"api_key": "k", "extra": 1}},
            "credentials.extra",
            "unknown_field",
        ),
        ({"connector_type": "stripe", "name": " ", "credentials": {"api_key": "k"}}, "name", "required"),
    ],
)
def test_invalid_bodies_get_field_errors(api, body, field, code):
    response = api.post(BASE, body)
    assert response.status_code == 422, response.json()
    payload = response.json()
    assert set(payload) == {"message", "errors"}
    assert payload["message"]
    assert any(e["field"] == field and e["error_code"] == code for e in payload["errors"]), payload
    assert all(set(e) == {"field", "message", "error_code"} for e in payload["errors"])
    assert Connector.objects.count() == 0


def test_repositories_in_the_wrong_place_says_where_it_belongs(api):
    top = api.post(BASE, {**github_body(replication_config=None), "repositories": ["a/b"]})
    assert top.status_code == 422
    error = next(e for e in top.json()["errors"] if e["field"] == "repositories")
    assert error["error_code"] == "misplaced_field"
    assert "replication_config" in error["message"]

    creds = github_body(replication_config=None)
    creds["credentials"]["repositories"] = ["a/b"]
    inside = api.post(BASE, creds)
    assert inside.status_code == 422
    error = next(e for e in inside.json()["errors"] if e["field"] == "credentials.repositories")
    assert "replication_config" in error["message"]


def test_unmatched_scheme_lists_the_schemes_that_exist(api):
    body = github_body(credentials={"option_title": "Token Credentials", "personal_access_token": "x"})
    response = api.post(BASE, body)
    assert response.status_code == 422
    message = response.json()["errors"][0]["message"]
    assert "PAT Credentials" in message and "OAuth Credentials" in message
    wrong_keys = api.post(BASE, {"connector_type": "hubspot", "name": "h", "credentials": {"token": "x"}})
    assert wrong_keys.status_code == 422
    assert "Private App Credentials" in wrong_keys.json()["errors"][0]["message"]


def test_invalid_json_is_422(api):
    response = api.client.post(BASE, "{bad", content_type="application/json", headers=api._headers(None))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "body",
        "message": "The request body is not valid JSON.",
        "error_code": "invalid_json",
    }


def test_patch_replaces_only_named_credential_keys(api):
    created = api.post(BASE, hubspot_body()).json()
    patched = api.patch(f"{BASE}/{created['id']}", {"name": "Renamed", "credentials": {"refresh_token": "new-refresh"}})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["name"] == "Renamed"
    from connectors.selectors import connector_credentials

    creds = connector_credentials(Connector.objects.get(pk=created["id"]))
    # The scheme's credentials_title marker (Airbyte's replication shape) is stored beside the seed's fields.
    assert creds == {
        "credentials_title": "OAuth Credentials",
        "client_id": "hs-client",
        "client_secret": "hs-secret-xyz",
        "refresh_token": "new-refresh",
    }
    bad = api.patch(f"{BASE}/{created['id']}", {"replication_config": {"nope": 1}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "replication_config.nope"
    unknown = api.patch(f"{BASE}/{created['id']}", {"colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "field": "colour",
        "message": "Extra inputs are not permitted",
        "error_code": "unknown_field",
    }


def test_list_paginates_with_a_cursor(api):
    for i in range(5):
        api.post(BASE, {"connector_type": "stripe", "name": f"S{i}", "credentials": {"api_key": f"k{i}"}})
    page1 = api.get(BASE, {"limit": 2}).json()
    assert [c["name"] for c in page1["data"]] == ["S4", "S3"]
    assert page1["next"]
    path = page1["next"].split("testserver", 1)[1]
    page2 = api.client.get(path, headers=api._headers(None)).json()
    assert [c["name"] for c in page2["data"]] == ["S2", "S1"]
    bad = api.get(BASE, {"cursor": "!!!"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    too_big = api.get(BASE, {"limit": 1000})
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "limit"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing API key"),
        ("Basic abc", "Malformed Authorization header"),
        ("Bearer nope", "Malformed API key"),
        ("Bearer pb_00000000_doesnotexist", "Unknown API key"),
    ],
)
def test_bad_api_keys_get_401_with_a_clear_message(anon_api, header, message):
    headers = {"Authorization": header} if header else {}
    response = anon_api.get(BASE, headers=headers)
    assert response.status_code == 401
    assert response.json()["message"].startswith(message)
    assert response.json()["errors"] == []


def test_revoked_key_is_rejected(api, workspace):
    from workspaces.models import ApiKey
    from workspaces.services import Actor, api_key_revoke

    assert api.get(BASE).status_code == 200
    key = ApiKey.objects.get(workspace=workspace)
    assert key.last_used_at is not None
    api_key_revoke(api_key=key, actor=Actor.system())
    response = api.get(BASE)
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


def test_other_workspace_ids_are_404_and_change_nothing(api, other_api):
    mine = api.post(BASE, github_body()).json()
    url = f"{BASE}/{mine['id']}"
    assert other_api.get(url).status_code == 404
    assert other_api.patch(url, {"name": "stolen"}).status_code == 404
    assert other_api.delete(url).status_code == 404
    assert other_api.get(f"{BASE}/resolve", {"connector_type": "github"}).status_code == 404
    assert other_api.get(BASE).json()["data"] == []
    assert other_api.get(f"{BASE}/not-a-uuid").status_code == 404
    for suffix in ("/execute", "/check", "/refresh", "/revoke"):
        assert other_api.post(url + suffix, {"entity": "issues", "action": "list", "params": {}}).status_code == 404
    still = Connector.objects.get(pk=mine["id"])
    assert still.name == "My GitHub Connector"


def test_definitions_are_public_and_filterable(anon_api):
    listed = anon_api.get("/api/v1/integrations/definitions/sources").json()["definitions"]
    slugs = {d["slug"] for d in listed}
    assert {"github", "hubspot", "stripe", "linear", "notion"} <= slugs
    only = anon_api.get("/api/v1/integrations/definitions/sources", {"name": "GITHUB"}).json()["definitions"]
    assert [d["sourceDefinitionId"] for d in only] == [GITHUB_ID]
    assert set(only[0]) == {"sourceDefinitionId", "name", "slug", "iconUrl", "authSchemes"}
    assert (
        anon_api.get("/api/v1/integrations/definitions/sources", {"name": "HubSpot"}).json()["definitions"][0]["slug"]
        == "hubspot"
    )

    detail = anon_api.get(f"/api/v1/integrations/definitions/sources/{GITHUB_ID}").json()
    assert "repositories" in detail["replicationConfigSchema"]["required"]
    pat = next(s for s in detail["authSchemesDetail"] if s["key"] == "pat")
    assert "personal_access_token" in pat["credentialsSchema"]["properties"]
    assert "list" in detail["entities"]["issues"]["actions"]
    assert (
        anon_api.get("/api/v1/integrations/definitions/sources/00000000-0000-0000-0000-000000000000").status_code == 404
    )


def test_openapi_schema_and_docs(anon_api):
    schema = anon_api.get("/api/v1/openapi.json").json()
    assert "/api/v1/integrations/connectors" in schema["paths"]
    assert anon_api.get("/api/v1/docs").status_code == 200


def test_an_oauth_connector_made_with_the_workspace_app_takes_a_missing_field_alone(api, workspace) -> None:
    """Harvest's login flow stores no client id (the workspace's OAuth app holds it) and no account id (Harvest does
    not return it): PATCHing the account id alone must work, without re-sending the app's credentials."""
    from connectors import crypto
    from connectors.models import Connector, ConnectorDefinition
    from connectors.selectors import connector_credentials

    connector = Connector.objects.create(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug="harvest"),
        name="Harvest",
        auth_scheme="oauth",
        credentials_encrypted=crypto.encrypt_json({"refresh_token": "hv-refresh", "access_token": "hv-access"}),
    )
    patched = api.patch(f"/api/v1/integrations/connectors/{connector.pk}", {"credentials": {"account_id": "987654"}})
    assert patched.status_code == 200, patched.json()
    connector.refresh_from_db()
    stored = connector_credentials(connector)
    assert (stored["account_id"], stored["refresh_token"], stored["access_token"]) == (
        "987654",
        "hv-refresh",
        "hv-access",
    )
    assert "client_id" not in stored and "client_secret" not in stored
    # What the caller sends is still checked, and a field it held cannot be blanked.
    bad = api.patch(f"/api/v1/integrations/connectors/{connector.pk}", {"credentials": {"account_id": "not-a-number"}})
    assert bad.status_code == 422

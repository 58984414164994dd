"""The schema-driven add/edit form, OAuth connect, detail actions and deletion."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.dashboard.conftest import SENTINELS
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_GITHUB = "/w/acme/connectors/new/github/"


def test_credential_form_follows_the_schema(members, owner_client):
    html = owner_client.get(NEW_GITHUB).content.decode()
    # PAT scheme first: the token is a password input with its title, description and a required mark.
    assert 'name="credentials.personal_access_token"' in html
    assert 'type="password"' in html
    assert "Personal access token" in html and "github.com/settings/tokens" in html
    # The discriminator const is not a field; repositories is a list with add/remove; api_url has its default.
    assert "credentials.option_title" not in html
    assert "data-array-add" in html and "e.g. airbytehq/airbyte" in html
    assert 'value="https://api.github.com"' in html
    assert html.index("Repositories") < html.index("API URL")  # `order`
    assert "Connect GitHub" not in html


def test_switching_to_the_oauth_scheme_rerenders_the_form(members, owner_client):
    response = owner_client.get(
        NEW_GITHUB,
        {"auth_scheme": "oauth", "name": "Mine", "replication_config.repositories": ["acme/x", "acme/y"]},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="connector-form"' in html
    assert "Connect GitHub" in html
    assert 'value="Mine"' in html and 'value="acme/x"' in html and 'value="acme/y"' in html
    assert 'name="credentials.access_token"' in html


def test_select_number_and_boolean_fields_render():
    from django.http import QueryDict

    from dashboard.schema_forms import build_fields, parse_submission

    schema = {
        "type": "object",
        "required": ["state"],
        "properties": {
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30, "order": 2},
            "state": {"type": "string", "enum": ["open", "closed"], "order": 1},
            "draft": {"type": "boolean"},
            "token": {"type": "string", "secret": True},
        },
    }
    fields = build_fields(schema, prefix="params", values={"token": "never-shown"})
    assert [f.key for f in fields] == ["state", "per_page", "draft", "token"]
    assert [f.kind for f in fields] == ["select", "integer", "checkbox", "password"]
    assert fields[1].value == "30" and fields[0].required
    assert fields[3].value == ""
    data = QueryDict("params.state=open&params.per_page=5&params.draft.present=1&params.draft=true&params.token=t")
    assert parse_submission(schema, data, prefix="params") == (
        {"state": "open", "per_page": 5, "draft": True, "token": "t"},
        [],
    )
    values, problems = parse_submission(schema, QueryDict("params.per_page=lots"), prefix="params")
    assert values == {} and problems[0].field == "params.per_page"


def test_validation_errors_are_inline_and_keep_non_secret_values(members, owner_client, ws):
    response = owner_client.post(
        NEW_GITHUB,
        {
            "name": "Kept name",
            "auth_scheme": "pat",
            "credentials.personal_access_token": SENTINELS["pat"],
            "replication_config.repositories": ["not a repo"],
            "replication_config.api_url": "https://ghe.example.com/api/v3",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="replication_config.repositories"' in html
    repo_field = html[html.index('data-field="replication_config.repositories"') :]
    assert (
        "Item 1: Does not match the expected format"
        in repo_field[: repo_field.index('data-field="replication_config.api_url"')]
    )
    assert 'value="Kept name"' in html and 'value="not a repo"' in html and "ghe.example.com" in html
    assert SENTINELS["pat"] not in html
    missing = owner_client.post(NEW_GITHUB, {"name": "", "auth_scheme": "pat"}).content.decode()
    assert missing.count("This field is required.") == 3  # name, token, repositories
    assert not Connector.objects.filter(workspace=ws).exists()


def test_create_succeeds_through_the_service(members, owner_client, ws):
    response = owner_client.post(
        NEW_GITHUB,
        {
            "name": "Prod GitHub",
            "auth_scheme": "pat",
            "credentials.personal_access_token": "ghp_created_here",
            "replication_config.repositories": ["acme/api", "", "acme/web"],
            "replication_config.api_url": "https://api.github.com",
        },
        headers={"HX-Request": "true"},
    )
    connector = Connector.objects.get(workspace=ws)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("dashboard:connector_detail", args=[ws.slug, connector.pk])
    assert connector.replication_config["repositories"] == ["acme/api", "acme/web"]
    assert connector_credentials(connector)["personal_access_token"] == "ghp_created_here"
    assert AuditEvent.objects.filter(action="connector.create", actor_user=members["owner"].user).exists()
    detail = owner_client.get(response["HX-Redirect"]).content.decode()
    assert "Prod GitHub" in detail and "created" in detail and "ghp_created_here" not in detail


def test_edit_keeps_a_blank_secret_and_says_it_is_set(github, owner_client, ws):
    url = reverse("dashboard:connector_edit", args=[ws.slug, github.pk])
    html = owner_client.get(url).content.decode()
    assert "A secret is set — leave blank to keep it." in html
    assert SENTINELS["pat"] not in html
    assert 'value="acme/api"' in html
    response = owner_client.post(
        url,
        {"name": "Renamed", "credentials.personal_access_token": "", "replication_config.repositories": ["acme/only"]},
    )
    assert response.status_code == 302
    github.refresh_from_db()
    assert github.name == "Renamed"
    assert connector_credentials(github)["personal_access_token"] == SENTINELS["pat"]
    owner_client.post(
        url,
        {"name": "Renamed", "credentials.personal_access_token": "ghp_new", "replication_config.repositories": "a/b"},
    )
    github.refresh_from_db()
    assert connector_credentials(github)["personal_access_token"] == "ghp_new"


def test_connect_redirects_the_browser_to_the_consent_page(members, oauth_app, owner_client, ws):
    url = reverse("dashboard:connector_connect", args=[ws.slug, "hubspot"])
    response = owner_client.post(url, {"name": "HubSpot via OAuth"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    consent = response["HX-Redirect"]
    assert consent.startswith("https://app.hubspot.com/oauth/authorize?")
    assert "client_id=hs-app-client" in consent
    plain = owner_client.post(url, {"name": "again"})
    assert plain.status_code == 302 and plain["Location"].startswith("https://app.hubspot.com/")


def test_connect_without_an_oauth_app_explains_inline(members, owner_client, ws):
    response = owner_client.post(
        reverse("dashboard:connector_connect", args=[ws.slug, "hubspot"]), {"name": "x"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "No OAuth app is configured for HubSpot" in response.content.decode()


def test_oauth_return_shows_the_connector_or_the_error(hubspot, owner_client, ws):
    url = reverse("dashboard:oauth_return", args=[ws.slug])
    ok = owner_client.get(url, {"connector_id": str(hubspot.pk)}, follow=True)
    assert ok.redirect_chain[-1][0] == reverse("dashboard:connector_detail", args=[ws.slug, hubspot.pk])
    assert "HubSpot connected" in ok.content.decode()
    failed = owner_client.get(url, {"error": "access_denied", "error_description": "The user said no"}, follow=True)
    assert "Connecting failed: The user said no" in failed.content.decode()


def test_oauth_connector_detail_shows_token_facts(hubspot, owner_client, ws):
    from datetime import timedelta

    from django.utils import timezone

    Connector.objects.filter(pk=hubspot.pk).update(
        token_expires_at=timezone.now() + timedelta(hours=2), token_scopes="crm.objects.contacts.read oauth"
    )
    html = owner_client.get(reverse("dashboard:connector_detail", args=[ws.slug, hubspot.pk])).content.decode()
    assert "Token expires" in html and "crm.objects.contacts.read" in html
    assert "Refresh token" in html and "Re-authorise" in html


def test_delete_asks_then_deletes(github, owner_client, ws):
    url = reverse("dashboard:connector_delete", args=[ws.slug, github.pk])
    confirm = owner_client.get(url)
    assert confirm.status_code == 200 and b"cannot be recovered" in confirm.content
    assert Connector.objects.filter(pk=github.pk).exists()
    response = owner_client.post(url, follow=True)
    assert not Connector.objects.filter(pk=github.pk).exists()
    assert "deleted" in response.content.decode()


def test_check_credentials_updates_the_status_card(github, owner_client, ws, settings, httpserver):
    httpserver.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    settings.PATCHBAY_CATALOG_OVERRIDES = {"github": {"base_url": httpserver.url_for("").rstrip("/")}}
    response = owner_client.post(
        reverse("dashboard:connector_check", args=[ws.slug, github.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="status-card"' in response.content.decode()
    assert "Check failed" in response["HX-Trigger"]


def test_generated_labels_are_words_people_read():
    from dashboard.schema_forms import build_fields

    schema = {
        "properties": {
            "propertiesWithHistory": {"type": "string"},
            "Stripe-Account": {"type": "string"},
            "per_page": {"type": "integer"},
            "repo": {"type": "string", "title": "Repository"},
        }
    }
    assert [f.label for f in build_fields(schema, prefix="params")] == [
        "Properties with history",
        "Stripe account",
        "Per page",
        "Repository",
    ]

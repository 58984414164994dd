"""What a token answer leaves out and the provider tells on a call after it (`account_url`, `account_fields`):
Harvest's account id and Mailchimp's data centre, asked for once per consent against the real test server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.catalog import manifest_for
from connectors.catalog.loader import BUILTIN_DIR, ManifestError, load_file, validate_manifest
from connectors.engine.util import dig
from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.oauth.conftest import API, serve_catalog_type

pytestmark = pytest.mark.django_db

HARVEST_ACCOUNTS = {
    "user": {"id": 1, "first_name": "Ada"},
    "accounts": [
        {"id": 111, "name": "Acme forecasts", "product": "forecast"},
        {"id": 222, "name": "Acme", "product": "harvest"},
    ],
}


def connect(api, settings, server, slug: str, account_body: dict) -> dict:
    """Authorize -> consent -> callback for a catalog type pointed at the test server; returns the callback's query."""
    client = server.create_client("http://testserver/oauth/callback", client_auth="any", pkce_required=False)
    server.configure(resource_body=account_body, rotate_refresh_token=False)
    urls = {"base_url": server.resource_url, "authorization_url": server.authorization_url}
    urls |= {"token_url": server.token_url, "account_url": f"{server.resource_url}/account"}
    serve_catalog_type(settings, api, client, slug, urls)
    started = api.post(
        f"{API}/connectors/oauth/initiate",
        {"connector_type": slug, "auth_scheme": "oauth", "name": slug, "redirect_url": "https://app.example.com/done"},
    )
    assert started.status_code == 200, started.json()
    callback = urlsplit(server.consent(started.json()["consent_url"]))
    landed = api.client.get(f"{callback.path}?{callback.query}")
    assert landed.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(landed["Location"]).query).items()}


def test_harvest_reads_the_account_id_of_the_first_harvest_account(api, settings, clean_oauth_server, outbound):
    server = clean_oauth_server
    landed = connect(api, settings, server, "harvest", HARVEST_ACCOUNTS)
    assert "connector_id" in landed, landed

    credentials = connector_credentials(Connector.objects.get(pk=landed["connector_id"]))
    assert credentials["account_id"] == "222"  # the Harvest account, not the Forecast one listed first
    (lookup,) = [e for e in server.request_log("resource") if e["path"].endswith("/account")]
    assert (lookup["method"], lookup["status"], lookup["token_in"]) == ("GET", 200, "header:Authorization")

    executed = api.post(f"{API}/connectors/{landed['connector_id']}/execute", {"entity": "users", "action": "me"})
    assert executed.status_code == 200, executed.json()
    assert outbound[-1].headers["Harvest-Account-Id"] == "222"


def test_no_account_of_the_kind_needed_fails_the_connection_and_says_why(api, settings, clean_oauth_server):
    server = clean_oauth_server
    only_forecast = {"accounts": [HARVEST_ACCOUNTS["accounts"][0]]}
    landed = connect(api, settings, server, "harvest", only_forecast)

    assert landed["error"] == "account_lookup_failed" and "connector_id" not in landed
    assert "account_id" in landed["error_description"] and "Harvest did not say" in landed["error_description"]
    assert not Connector.objects.filter(definition__slug="harvest").exists()


def test_a_refused_lookup_fails_the_connection_without_echoing_the_token(api, settings, clean_oauth_server):
    server = clean_oauth_server
    server.fail_next(1, status=401, endpoint="resource", error="invalid_token")
    landed = connect(api, settings, server, "harvest", HARVEST_ACCOUNTS)

    assert landed["error"] == "account_lookup_failed" and "invalid_token" in landed["error_description"]
    assert not Connector.objects.filter(definition__slug="harvest").exists()


def test_mailchimp_takes_its_data_centre_from_the_metadata_call(api, settings, clean_oauth_server, outbound):
    server = clean_oauth_server
    landed = connect(api, settings, server, "mailchimp", {"dc": "us21", "login": {"login_id": 7}})

    connector = Connector.objects.get(pk=landed["connector_id"])
    assert connector_credentials(connector)["data_center"] == "us21"
    (lookup,) = [e for e in server.request_log("resource") if e["path"].endswith("/account")]
    assert lookup["token_in"] == "header:Authorization"
    assert any(r.headers.get("Authorization", "").startswith("OAuth ") for r in outbound)  # Mailchimp's scheme word
    manifest = manifest_for(connector.definition)
    assert manifest.derived_config(connector_credentials(connector)) == {"data_center": "us21"}
    # A data centre that is not one (a host smuggled into the answer) derives nothing: no request goes there.
    assert manifest.derived_config({"data_center": "us21.evil.example"}) == {}


def test_dig_picks_a_list_item_by_a_field_value():
    assert dig(HARVEST_ACCOUNTS, "accounts.product=harvest.id") == 222
    assert dig(HARVEST_ACCOUNTS, "accounts.product=forecast.name") == "Acme forecasts"
    assert dig(HARVEST_ACCOUNTS, "accounts.product=basecamp.id") is None
    assert dig(HARVEST_ACCOUNTS, "user.product=harvest") is None  # a selector on an object finds nothing


def test_an_account_lookup_must_fill_fields_of_its_own_scheme():
    data = load_file(BUILTIN_DIR / "harvest.yaml").data
    data["auth_schemes"][0]["oauth"]["account_fields"] = {"workspace": "accounts.0.id"}
    with pytest.raises(ManifestError, match="account_fields.workspace: not a credential field"):
        validate_manifest(data, path="harvest.yaml")
    del data["auth_schemes"][0]["oauth"]["account_fields"]
    with pytest.raises(ManifestError, match="account_url and account_fields go together"):
        validate_manifest(data, path="harvest.yaml")

"""Every OAuth service in the built-in catalog, against the real test authorization server set up in its token style.

For each manifest's redirect-flow scheme the server is configured the way the manifest says the vendor behaves: the
client may authenticate only as declared (`client_auth` basic or body), PKCE is required when declared, refresh tokens
rotate (or not), answers lack `expires_in` where a `default_expires_in` stands in for it, and long-lived tokens
(`token_expires: false`) come without expiry or refresh token. Patchbay's real code paths then run: authorize ->
consent -> callback -> code exchange -> execute (the manifest's check operation, against the server's protected
resource) -> refresh on use -> execute again with the new token. Every outbound request is observed: the access token
goes only to the connector's own host, in the place the manifest's apply rules name.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from connectors.catalog.loader import BUILTIN_DIR, load_catalog
from connectors.catalog.manifest import AuthScheme, Manifest
from connectors.engine.auth import fields_used
from connectors.engine.http import SentRequest
from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.oauth.conftest import API, serve_catalog_type

pytestmark = pytest.mark.django_db

MANIFESTS = {loaded.data["slug"]: loaded.manifest for loaded in load_catalog([BUILTIN_DIR])}
CASES = [
    pytest.param(slug, scheme.key, id=f"{slug}-{scheme.key}")
    for slug, manifest in sorted(MANIFESTS.items())
    for scheme in manifest.auth_schemes
    if scheme.uses_consent
]


def dummy_config(manifest: Manifest) -> dict[str, Any]:
    """A replication_config that passes the manifest's config schema: defaults, examples or a plain word."""
    schema = manifest.config_schema or {}
    out: dict[str, Any] = {}
    for name in schema.get("required") or ():
        prop = schema["properties"][name]
        if "default" in prop:
            out[name] = prop["default"]
        elif prop.get("examples"):
            out[name] = prop["examples"][0]
        elif prop.get("enum"):
            out[name] = prop["enum"][0]
        else:
            out[name] = 1 if prop.get("type") == "integer" else "acme"
    return out


def example_value(prop: dict[str, Any], name: str) -> str:
    if prop.get("examples"):
        return str(prop["examples"][0])
    return "12345" if "0-9" in prop.get("pattern", "") else f"{name}-value"


def allowed_origin(manifest: Manifest) -> str:
    """An origin the manifest's host rules accept (`*.salesforce.com` -> https://acme.salesforce.com)."""
    pattern = manifest.allowed_hosts[0] if manifest.allowed_hosts else "api.example.com"
    return "https://" + pattern.replace("*", "acme")


def resource_body(manifest: Manifest) -> dict[str, Any]:
    """A success answer in the vendor's shape: Slack's `ok: true`, TikTok's success code."""
    body: dict[str, Any] = {}
    if manifest.errors.ok_field:
        body[manifest.errors.ok_field] = True
    if manifest.errors.code_field and manifest.errors.success_codes:
        body[manifest.errors.code_field] = manifest.errors.success_codes[0]
    if manifest.errors.graphql:
        body["data"] = {}
    return body


def account_answer(scheme: AuthScheme) -> dict[str, Any]:
    """The provider's account answer (`account_url`) with an example value at each field's path: `dc`, or
    `accounts.product=harvest.id` -> {"accounts": [{"product": "harvest", "id": ...}]}."""
    answer: dict[str, Any] = {}
    for name, path in scheme.oauth.account_fields.items() if scheme.oauth else ():
        node: Any = example_value(scheme.credential_properties.get(name) or {}, name)
        for part in reversed(path.split(".")):
            key, selects, wanted = part.partition("=")
            node = [{key: wanted, **node}] if selects else {part: node}
        answer |= node
    return answer


def token_places(scheme: AuthScheme) -> set[str]:
    """Where the apply rules put the access token, as the server's request log names it."""
    places = set()
    for rule in scheme.apply:
        if rule.type == "bearer" and rule.field == "access_token":
            places.add("header:Authorization")
        elif rule.type == "header" and "{access_token}" in rule.value:
            places.add(f"header:{rule.name.title()}")
        elif rule.type == "query" and "{access_token}" in rule.value:
            places.add(f"query:{rule.name}")
    return places


def carries(request: SentRequest, secret: str) -> bool:
    body = request.body or b""
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return secret in request.url or secret in text or any(secret in v for v in request.headers.values())


def execute_check(api: Any, connector_id: str, manifest: Manifest) -> Any:
    assert manifest.check is not None, f"{manifest.slug} has no check operation"
    body = {"entity": manifest.check.entity, "action": manifest.check.action, "params": dict(manifest.check.params)}
    return api.post(f"{API}/connectors/{connector_id}/execute", body)


@pytest.mark.parametrize(("slug", "scheme_key"), CASES)
def test_catalog_oauth_token_style(slug, scheme_key, api, settings, clean_oauth_server, outbound, caplog):
    caplog.set_level(logging.DEBUG)
    server = clean_oauth_server
    manifest = MANIFESTS[slug]
    scheme = manifest.scheme(scheme_key)
    oauth = scheme.oauth
    assert oauth is not None

    # The server behaves as the manifest says the vendor does.
    client = server.create_client(
        "http://testserver/oauth/callback", client_auth=oauth.client_auth, pkce_required=oauth.pkce
    )
    dropped = []
    if not oauth.token_expires:
        dropped = ["expires_in", "refresh_token"]
    elif oauth.default_expires_in:
        dropped = ["expires_in"]
    # Extra answer fields the manifest keeps (Notion's workspace_id; a host such as Salesforce's instance_url is
    # this server, the only host the test lets through).
    extra = {name: f"{name}-value" for name in oauth.token_response_fields}
    extra |= {name: allowed_origin(manifest) for name in oauth.token_response_fields if "_url" in name}
    server.configure(
        rotate_refresh_token=oauth.rotates_refresh_token,
        drop_token_fields=dropped,
        extra_token_fields=extra,
        resource_body=resource_body(manifest) | account_answer(scheme),
    )
    urls = {"base_url": server.resource_url, "authorization_url": server.authorization_url}
    urls["token_url"] = server.token_url
    if oauth.revoke_url:
        urls["revoke_url"] = server.revoke_url
    if oauth.account_url:
        urls["account_url"] = f"{server.resource_url}/account"
    serve_catalog_type(settings, api, client, slug, urls)

    # Authorize -> consent -> callback -> code exchange.
    started = api.post(
        f"{API}/connectors/oauth/initiate",
        {
            "connector_type": slug,
            "auth_scheme": scheme_key,
            "name": slug,
            "redirect_url": "https://app.example.com/done",
            "replication_config": dummy_config(manifest),
        },
    )
    assert started.status_code == 200, started.json()
    consent_query = parse_qs(urlsplit(started.json()["consent_url"]).query)
    assert ("code_challenge" in consent_query) == oauth.pkce
    callback = urlsplit(server.consent(started.json()["consent_url"]))
    landed = api.client.get(f"{callback.path}?{callback.query}")
    assert landed.status_code == 302, landed.content[:500]
    landed_query = parse_qs(urlsplit(landed["Location"]).query)
    assert "connector_id" in landed_query, landed["Location"]
    connector_id = landed_query["connector_id"][0]

    (exchange,) = server.request_log("token")
    assert exchange["grant_type"] == "authorization_code" and exchange["status"] == 200
    assert exchange["client_auth"] == oauth.client_auth and exchange["body_format"] == oauth.token_body

    # What consent cannot give and a user adds afterwards (Google Ads' developer token, Harvest's account id, the
    # client id Amazon wants in a header): the fields the apply rules read that are still missing.
    # A PATCH is validated against the whole schema, so the OAuth client's id and secret go in too when required.
    stored = connector_credentials(Connector.objects.get(pk=connector_id))
    needed = set(fields_used(scheme)) - {"access_token"} - set(stored)
    if needed:
        needed |= set(scheme.credentials_schema.get("required") or ()) - set(stored)
        known = {"client_id": client.client_id, "client_secret": client.client_secret}
        added = {name: known.get(name) or example_value(scheme.credential_properties[name], name) for name in needed}
        patched = api.client.patch(
            f"{API}/connectors/{connector_id}",
            {"credentials": added},
            content_type="application/json",
            headers=api._headers(None),
        )
        assert patched.status_code == 200, patched.json()

    connector = Connector.objects.get(pk=connector_id)
    first = connector_credentials(connector)
    assert first["access_token"]
    if oauth.token_expires:
        assert first["refresh_token"]
        lifetime = oauth.default_expires_in or server.config()["access_token_lifetime"]
        assert connector.token_expires_at == pytest.approx(
            timezone.now() + timedelta(seconds=lifetime), abs=timedelta(seconds=60)
        )
    else:
        assert connector.token_expires_at is None and "refresh_token" not in first
    for name in oauth.token_response_fields:
        assert first.get(name), f"{name} from the token response was not stored"
    for name in oauth.account_fields:  # Mailchimp's data centre, Harvest's account id: asked for after consent
        assert first.get(name) == example_value(scheme.credential_properties[name], name), name

    # The stored token is what the next execute sends, where the apply rules say, to the connector's host only.
    executed = execute_check(api, connector_id, manifest)
    assert executed.status_code == 200, executed.json()
    used = [e for e in server.request_log("resource") if e["status"] == 200]
    assert used and {e["token_in"] for e in used} <= token_places(scheme) | {"header:Authorization"}
    assert all(e["client_id"] == client.client_id for e in used)
    resource_host = urlsplit(server.base_url).netloc
    assert all(urlsplit(r.url).netloc == resource_host for r in outbound if carries(r, first["access_token"]))

    if not oauth.token_expires:
        # Long-lived: nothing to refresh, and no refresh is attempted on use.
        assert server.token_requests("refresh_token") == 0
        secrets = [first["access_token"], client.client_secret]
    else:
        # Expiry near: the next execute refreshes first (in the declared client auth and encoding), then uses it.
        Connector.objects.filter(pk=connector_id).update(token_expires_at=timezone.now() + timedelta(seconds=5))
        server.reset_counters()
        again = execute_check(api, connector_id, manifest)
        assert again.status_code == 200, again.json()
        (refresh,) = server.request_log("token")
        assert refresh["grant_type"] == "refresh_token" and refresh["status"] == 200
        assert refresh["client_auth"] == oauth.client_auth and refresh["body_format"] == oauth.token_body
        second = connector_credentials(Connector.objects.get(pk=connector_id))
        assert second["access_token"] != first["access_token"]
        assert (second["refresh_token"] != first["refresh_token"]) == oauth.rotates_refresh_token
        used = [e for e in server.request_log("resource") if e["status"] == 200]
        assert len(used) == 1 and used[0]["token_in"] in token_places(scheme) | {"header:Authorization"}
        assert server.me(second["access_token"]).status_code == 200
        assert all(urlsplit(r.url).netloc == resource_host for r in outbound if carries(r, second["access_token"]))
        secrets = [first["access_token"], second["access_token"], second["refresh_token"], client.client_secret]

    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in executed.content.decode()


def test_every_oauth_service_is_covered():
    """The parametrization is the catalog: a new OAuth service is tested without touching this file."""
    assert len(CASES) >= 30
    for slug, manifest in MANIFESTS.items():
        for scheme in manifest.auth_schemes:
            if scheme.is_oauth:
                assert scheme.oauth is not None and scheme.oauth.client_auth in ("basic", "body"), slug
                assert scheme.oauth.token_body in ("form", "json"), slug


def test_a_nested_token_answer_is_read_where_token_path_says(clean_oauth_server):
    """`token_path: data` (a vendor answering {"data": {"access_token": ...}}): exchange and refresh both read it."""
    from connectors.oauth import client as oauth_client

    server = clean_oauth_server
    server.configure(nest_token_response="data")
    oauth = server.oauth_config(token_path="data")
    verifier, challenge = oauth_client.generate_pkce_pair()
    url = oauth_client.build_authorization_url(
        oauth,
        client_id=server.client_id,
        redirect_uri=server.redirect_uri,
        state="s",
        scopes=["read"],
        code_challenge=challenge,
    )
    code = parse_qs(urlsplit(server.consent(url)).query)["code"][0]
    app = {"client_id": server.client_id, "client_secret": server.client_secret}
    token = oauth_client.exchange_code(
        oauth, code=code, redirect_uri=server.redirect_uri, code_verifier=verifier, **app
    )
    assert token.refresh_token and token.expires_in == server.config()["access_token_lifetime"]
    assert server.me(token.access_token).status_code == 200
    refreshed = oauth_client.refresh_access_token(oauth, refresh_token=token.refresh_token, **app)
    assert refreshed.access_token != token.access_token and server.me(refreshed.access_token).status_code == 200

    flat = server.oauth_config()  # the same answer read without token_path has no token at the top
    with pytest.raises(oauth_client.OAuthError) as caught:
        oauth_client.refresh_access_token(flat, refresh_token=refreshed.refresh_token, **app)
    assert caught.value.error == "invalid_response"

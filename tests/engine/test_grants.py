"""Grants without a user, against the real test authorization server: client credentials (RFC 6749 4.4) and JWT
bearer (RFC 7523, Google service accounts). Every catalog scheme declaring one is exercised through Patchbay's real
paths: create the connector with pasted credentials -> execute (Patchbay fetches a token) -> execute again (the
cached token) -> near expiry (a new token) -> a refused credential (needs attention, no secret in any message)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse
from django.utils import timezone

from connectors.catalog.loader import BUILTIN_DIR, load_catalog
from connectors.catalog.manifest import CLIENT_CREDENTIALS, JWT_BEARER, Manifest
from connectors.catalog.sync import sync_catalog
from connectors.engine.http import SentRequest
from connectors.models import Connector
from connectors.oauth.client import OAuthError
from connectors.oauth.grants import signed_assertion
from connectors.selectors import connector_credentials
from tests.oauth.conftest import API
from tests.oauth_server.fixture import clean_oauth_server, oauth_server  # noqa: F401

pytestmark = pytest.mark.django_db

MANIFESTS = {loaded.data["slug"]: loaded.manifest for loaded in load_catalog([BUILTIN_DIR])}


def grant_cases(grant: str) -> list[Any]:
    return [
        pytest.param(slug, scheme.key, id=f"{slug}-{scheme.key}")
        for slug, manifest in sorted(MANIFESTS.items())
        for scheme in manifest.auth_schemes
        if scheme.oauth is not None and scheme.oauth.grant == grant
    ]


def check_body(manifest: Manifest) -> dict[str, Any]:
    assert manifest.check is not None
    return {"entity": manifest.check.entity, "action": manifest.check.action, "params": dict(manifest.check.params)}


def point_at(settings: Any, server: Any, slug: str) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {slug: {"base_url": server.resource_url, "token_url": server.token_url}}
    sync_catalog(verbosity=0)


def sent_to(outbound: list[SentRequest], secret: str) -> set[str]:
    """The hosts that received this secret anywhere in a request."""
    hosts = set()
    for request in outbound:
        body = request.body or b""
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        if secret in request.url or secret in text or any(secret in v for v in request.headers.values()):
            hosts.add(urlsplit(request.url).netloc)
    return hosts


def run_lifecycle(api: Any, server: Any, manifest: Manifest, connector_id: str, outbound: list[Any]) -> str:
    """Execute, execute again, then near expiry: one token request, then the cached token, then a new one."""
    executed = api.post(f"{API}/connectors/{connector_id}/execute", check_body(manifest))
    assert executed.status_code == 200, executed.json()
    first = connector_credentials(Connector.objects.get(pk=connector_id))["access_token"]
    assert server.token_requests() == 1
    used = server.request_log("resource")
    assert [e["status"] for e in used] == [200] and used[0]["token_in"] == "header:Authorization"

    again = api.post(f"{API}/connectors/{connector_id}/execute", check_body(manifest))
    assert again.status_code == 200 and server.token_requests() == 1  # the cached token

    Connector.objects.filter(pk=connector_id).update(token_expires_at=timezone.now() + timedelta(seconds=5))
    renewed = api.post(f"{API}/connectors/{connector_id}/execute", check_body(manifest))
    assert renewed.status_code == 200, renewed.json()
    assert server.token_requests() == 2
    connector = Connector.objects.get(pk=connector_id)
    second = connector_credentials(connector)["access_token"]
    assert second != first and [e["status"] for e in server.request_log("resource")] == [200, 200, 200]
    assert connector.token_expires_at > timezone.now() + timedelta(seconds=500)
    resource_host = urlsplit(server.base_url).netloc
    assert sent_to(outbound, first) == {resource_host} and sent_to(outbound, second) == {resource_host}
    for response in (executed, again, renewed):
        assert first not in response.content.decode() and second not in response.content.decode()
    return second


# --- Client credentials -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "scheme_key"), grant_cases(CLIENT_CREDENTIALS))
def test_client_credentials_grant(slug, scheme_key, api, settings, clean_oauth_server, outbound, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    server = clean_oauth_server
    manifest = MANIFESTS[slug]
    oauth = manifest.scheme(scheme_key).oauth
    client = server.create_client(
        "http://testserver/unused", client_auth=oauth.client_auth, grant_type="client-credentials"
    )
    point_at(settings, server, slug)
    server.configure(resource_body={})
    created = api.post(
        f"{API}/connectors",
        {
            "connector_type": slug,
            "name": slug,
            "auth_scheme": scheme_key,
            "credentials": {"client_id": client.client_id, "client_secret": client.client_secret},
        },
    )
    assert created.status_code == 201, created.json()
    connector_id = created.json()["id"] if "id" in created.json() else created.json()["connector_id"]
    assert server.token_requests() == 0  # nothing is fetched before it is needed

    run_lifecycle(api, server, manifest, connector_id, outbound)
    for request in server.request_log("token"):
        assert request["grant_type"] == "client_credentials" and request["status"] == 200
        assert request["client_auth"] == oauth.client_auth and request["body_format"] == oauth.token_body
    assert client.client_secret not in caplog.text


@pytest.mark.parametrize(("slug", "scheme_key"), grant_cases(CLIENT_CREDENTIALS))
def test_client_credentials_checked_on_create_and_refused_secret(slug, scheme_key, api, settings, clean_oauth_server):  # noqa: F811
    server = clean_oauth_server
    manifest = MANIFESTS[slug]
    oauth = manifest.scheme(scheme_key).oauth
    client = server.create_client(
        "http://testserver/unused", client_auth=oauth.client_auth, grant_type="client-credentials"
    )
    point_at(settings, server, slug)
    body = {"connector_type": slug, "name": slug, "auth_scheme": scheme_key, "check": True}
    checked = api.post(
        f"{API}/connectors",
        {**body, "credentials": {"client_id": client.client_id, "client_secret": client.client_secret}},
    )
    assert checked.status_code == 201, checked.json()
    assert server.token_requests("client_credentials") == 1
    assert [e["status"] for e in server.request_log("resource")] == [200]

    wrong = "not-the-secret-" + client.client_secret[:8]
    refused = api.post(
        f"{API}/connectors", {**body, "credentials": {"client_id": client.client_id, "client_secret": wrong}}
    )
    assert refused.status_code == 422, refused.json()
    assert wrong not in refused.content.decode() and client.client_secret not in refused.content.decode()


# --- JWT bearer (service accounts) ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_key() -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return {"private": private, "public": public}


def key_file(service_key: dict[str, str], email: str) -> str:
    """A service account key file as Google's console downloads it."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "patchbay-test",
            "private_key_id": "kid-0123456789",
            "private_key": service_key["private"],
            "client_email": email,
            "client_id": "1234567890",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


@pytest.mark.parametrize(("slug", "scheme_key"), grant_cases(JWT_BEARER))
def test_jwt_bearer_grant(slug, scheme_key, api, settings, clean_oauth_server, outbound, service_key, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    server = clean_oauth_server
    manifest = MANIFESTS[slug]
    scheme = manifest.scheme(scheme_key)
    email = f"robot-{slug}@patchbay-test.iam.gserviceaccount.com"
    server.add_service_account(email, service_key["public"])
    point_at(settings, server, slug)
    server.configure(resource_body={})
    key_json = scheme.oauth.jwt.key_json
    credentials = {key_json: key_file(service_key, email), "subject": "alice@example.com"}
    # What else the scheme requires (Google Ads' developer token) is a plain value here.
    credentials |= {name: f"{name}-value" for name in scheme.credentials_schema["required"] if name not in credentials}
    created = api.post(
        f"{API}/connectors",
        {"connector_type": slug, "name": slug, "auth_scheme": scheme_key, "credentials": credentials},
    )
    assert created.status_code == 201, created.json()
    connector_id = created.json()["id"] if "id" in created.json() else created.json()["connector_id"]

    run_lifecycle(api, server, manifest, connector_id, outbound)
    for request in server.request_log("token"):
        assert request["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" and request["status"] == 200
        assert request["client_auth"] == "none"  # the signature is the credential
        claims = request["assertion_claims"]
        assert claims["iss"] == email and claims["sub"] == "alice@example.com" and claims["aud"] == server.token_url
        assert claims["scope"] == " ".join(scheme.oauth.scopes)
        assert claims["exp"] - claims["iat"] == 3600 and request["assertion_kid"] == "kid-0123456789"
    assert "PRIVATE KEY" not in caplog.text and service_key["private"][40:80] not in caplog.text
    assert sent_to(outbound, service_key["private"][40:80]) == set()  # the key itself never leaves


def test_an_assertion_signed_with_another_key_is_refused(
    api,
    settings,
    clean_oauth_server,  # noqa: F811
    service_key,
    client,
    user,
    workspace,
):
    slug, scheme_key = next((c.values for c in grant_cases(JWT_BEARER)), (None, None))
    if slug is None:
        pytest.skip("no JWT-bearer scheme in the catalog")
    server = clean_oauth_server
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_public = (
        other.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    email = "impostor@patchbay-test.iam.gserviceaccount.com"
    server.add_service_account(email, other_public)
    point_at(settings, server, slug)
    key_json = MANIFESTS[slug].scheme(scheme_key).oauth.jwt.key_json
    created = api.post(
        f"{API}/connectors",
        {
            "connector_type": slug,
            "name": slug,
            "auth_scheme": scheme_key,
            "credentials": {key_json: key_file(service_key, email)},
        },
    )
    assert created.status_code == 201, created.json()
    connector_id = created.json()["id"] if "id" in created.json() else created.json()["connector_id"]
    executed = api.post(f"{API}/connectors/{connector_id}/execute", check_body(MANIFESTS[slug]))
    assert executed.status_code >= 400
    assert "PRIVATE KEY" not in executed.content.decode()
    (request,) = server.request_log("token")
    assert request["status"] == 400 and "Signature" in request["assertion_error"]
    assert server.request_log("resource") == []
    connector = Connector.objects.get(pk=connector_id)
    assert connector.status == "needs_reauth"
    # No refresh token and no consent here: the answer and the page say to update the credentials, not re-authorise.
    assert "refused the credentials" in connector.status_detail
    message = executed.json()["message"]
    assert "Update its credentials" in message and "refresh token" not in message and "Re-authorise" not in message
    client.force_login(user)
    page = client.get(reverse("dashboard:connector_detail", args=[workspace.slug, connector_id])).content.decode()
    assert "Refresh token" in page and "Re-authorise" not in page


def test_a_signed_assertion_verifies_with_the_public_key(service_key):
    from connectors.catalog import build_oauth_spec

    oauth = build_oauth_spec(
        {
            "grant": "jwt_bearer",
            "token_url": "https://oauth2.example.com/token",
            "scopes": ["a", "b"],
            "jwt": {"claims": {"iss": "{client_email}", "sub": "{subject}", "aud": "{token_url}"}, "key_id": "kid"},
        }
    )
    assertion = signed_assertion(
        oauth, {"private_key": service_key["private"], "client_email": "x@y", "kid": "k1"}, now=1_000_000
    )
    claims = jwt.decode(
        assertion, service_key["public"], algorithms=["RS256"], audience=oauth.token_url, options={"verify_exp": False}
    )
    assert claims["iss"] == "x@y" and "sub" not in claims and claims["scope"] == "a b"
    assert (claims["iat"], claims["exp"]) == (1_000_000, 1_003_600)
    assert jwt.get_unverified_header(assertion)["kid"] == "k1"


def test_the_assertion_takes_a_key_pasted_without_its_line_breaks_and_names_a_bad_key_never_quoting_it(service_key):
    """The grant signs with the same key reader as the `jwt` apply style: a key whose line breaks a one-line input
    turned into spaces still signs; an unusable one is a permanent invalid_client that names the field only."""
    from connectors.catalog import build_oauth_spec

    oauth = build_oauth_spec(
        {"grant": "jwt_bearer", "token_url": "https://oauth2.example.com/token", "jwt": {"claims": {"iss": "{iss}"}}}
    )
    flattened = service_key["private"].strip().replace("\n", " ")
    assertion = signed_assertion(oauth, {"private_key": flattened, "iss": "x@y"})
    claims = jwt.decode(assertion, service_key["public"], algorithms=["RS256"], options={"verify_aud": False})
    assert claims["iss"] == "x@y"

    body = service_key["private"].strip().splitlines()[5]
    with pytest.raises(OAuthError) as caught:
        signed_assertion(oauth, {"private_key": service_key["private"].replace(body, body[::-1]), "iss": "x@y"})
    assert (caught.value.error, caught.value.permanent) == ("invalid_client", True)
    assert "'private_key'" in caught.value.description and body not in str(caught.value.description)


# --- Hosts derived from credentials -----------------------------------------------------------------------------


def test_mailchimps_data_centre_comes_from_its_api_key_and_the_config_overrides_it(api):
    from connectors.engine.request import base_url
    from core.errors import OperationInputError

    mailchimp = MANIFESTS["mailchimp"]
    template = mailchimp.base_url
    assert base_url(mailchimp, template, {}, {"api_key": "abc-us21"}).netloc == "us21.api.mailchimp.com"
    assert (
        base_url(mailchimp, template, {"data_center": "us6"}, {"api_key": "abc-us21"}).netloc == "us6.api.mailchimp.com"
    )
    for key in ("abc", "abc-us21.evil.com", "abc-us21/x"):  # no suffix, or one that is not a data centre
        with pytest.raises(OperationInputError) as caught:
            base_url(mailchimp, template, {}, {"api_key": key})
        assert caught.value.code == "invalid_config" and "data_center" in caught.value.message

    sync_catalog(verbosity=0)
    created = api.post(
        f"{API}/connectors", {"connector_type": "mailchimp", "name": "news", "credentials": {"api_key": "k-us21"}}
    )
    assert created.status_code == 201, created.json()

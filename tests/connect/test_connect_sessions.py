"""Connect sessions: the API that makes them, the hosted page an end user completes (API-key forms and OAuth against
the real test authorization server), the redirect allow-list, single use, expiry, forgery and rate limits."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from connect.models import ConnectSession
from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.conftest import ApiClient
from webhooks.models import WebhookMessage
from workspaces.services import api_key_create

SESSIONS = "/api/v1/integrations/connect-sessions"
CONNECTORS = "/api/v1/integrations/connectors"
APP = "https://app.example.com"
STRIPE_KEY = "sk_test_CONNECT_9f1d0c"


def fresh_ip() -> str:
    """A random client address per browser, so per-IP counters (kept in Redis for 10 minutes) never mix between
    tests or between runs."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def app_origin(api) -> str:
    assert api.patch("/api/v1/workspace", {"allowed_redirect_origins": [APP + "/"]}).status_code == 200
    return APP


def new_session(api, **body):
    body = {"end_user": {"id": "u_123", "email": "ann@example.com", "display_name": "Ann"}, **body}
    response = api.post(SESSIONS, body)
    assert response.status_code == 201, response.content
    return response.json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def browser() -> Client:
    return Client(REMOTE_ADDR=fresh_ip())


def test_a_session_is_made_for_an_end_user(api, app_origin) -> None:
    created = new_session(api, allowed_connector_types=["stripe", "GitHub"], redirect_url=f"{APP}/connected")
    assert created["token"].startswith("pbcs_") and created["status"] == "pending"
    assert created["connect_url"].endswith(f"/connect/{created['token']}/")
    assert created["allowed_connector_types"] == ["stripe", "github"]
    lifetime = timezone.datetime.fromisoformat(created["expires_at"]) - timezone.now()
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    # The token is shown once: reading the session back never shows it.
    again = api.get(f"{SESSIONS}/{created['id']}")
    assert again.status_code == 200 and "token" not in again.json()
    assert ConnectSession.objects.get(pk=created["id"]).token_hash != created["token"]


def test_bad_input_gets_field_errors(api, app_origin) -> None:
    response = api.post(
        SESSIONS,
        {
            "end_user": {"id": "u_1"},
            "allowed_connector_types": ["stripe", "no-such-service"],
            "redirect_url": "https://evil.example.net/steal",
        },
    )
    assert response.status_code == 422
    errors = {e["field"]: e["error_code"] for e in response.json()["errors"]}
    assert errors == {"allowed_connector_types[1]": "unknown_connector_type", "redirect_url": "origin_not_allowed"}
    missing = api.post(SESSIONS, {"end_user": {}})
    assert missing.status_code == 422
    too_long = api.post(SESSIONS, {"end_user": {"id": "u"}, "expires_in": 10 * 86400})
    assert too_long.status_code == 422


def test_without_an_allow_list_only_the_public_origin_is_allowed(api, settings) -> None:
    settings.PATCHBAY_PUBLIC_URL = "https://patchbay.example.org"
    assert api.post(SESSIONS, {"end_user": {"id": "u"}, "redirect_url": f"{APP}/x"}).status_code == 422
    ok = api.post(SESSIONS, {"end_user": {"id": "u"}, "redirect_url": "https://patchbay.example.org/back"})
    assert ok.status_code == 201
    shown = api.get("/api/v1/workspace").json()
    assert shown["allowed_redirect_origins"] == [] and shown["effective_redirect_origins"] == [
        "https://patchbay.example.org"
    ]


def test_the_allow_list_takes_origins_only_and_an_unlimited_key(api, workspace) -> None:
    bad = api.patch(
        "/api/v1/workspace", {"allowed_redirect_origins": ["https://ok.example", "ftp://x", "https://a.example/path"]}
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["allowed_redirect_origins[1]", "allowed_redirect_origins[2]"]
    _, limited = api_key_create(workspace=workspace, name="limited", connectors=["stripe"])
    refused = ApiClient(limited).patch("/api/v1/workspace", {"allowed_redirect_origins": [APP]})
    assert refused.status_code == 403
    ok = api.patch("/api/v1/workspace", {"allowed_redirect_origins": ["HTTPS://App.Example.com:443"]})
    assert ok.json()["allowed_redirect_origins"] == [APP]


def test_an_end_user_connects_with_an_api_key_form(api, workspace, app_origin) -> None:
    hooks = api.post(
        "/api/v1/integrations/webhooks", {"url": "https://hooks.example.com/h", "events": ["connect_session.completed"]}
    )
    assert hooks.status_code == 201
    session = new_session(api, allowed_connector_types=["stripe"], redirect_url=f"{APP}/connected?step=2")
    client = browser()
    start = client.get(path_of(session["connect_url"]))
    assert start.status_code == 302  # one service offered: straight to its form
    form_url = start["Location"]
    page = client.get(form_url)
    assert page.status_code == 200 and b"Connect Stripe" in page.content
    assert "frame-ancestors 'self' https://app.example.com" in page["Content-Security-Policy"]
    assert "X-Frame-Options" not in page

    wrong = client.post(form_url, {"auth_scheme": "api_key", "credentials.api_key": ""})
    assert wrong.status_code == 422 and b"This field is required" in wrong.content
    done = client.post(form_url, {"auth_scheme": "api_key", "credentials.api_key": STRIPE_KEY})
    assert done.status_code == 302
    back = urlsplit(done["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{APP}/connected"
    connector_id = parse_qs(back.query)["connector_id"][0]
    assert parse_qs(back.query)["step"] == ["2"]

    connector = Connector.objects.get(pk=connector_id, workspace=workspace)
    assert connector.end_user_id == "u_123" and connector_credentials(connector) == {"api_key": STRIPE_KEY}
    read_back = api.get(f"{SESSIONS}/{session['id']}").json()
    assert read_back["status"] == "completed" and read_back["connector_id"] == connector_id
    listed = api.get(CONNECTORS, {"end_user_id": "u_123"}).json()["data"]
    assert [c["id"] for c in listed] == [connector_id] and listed[0]["end_user_id"] == "u_123"
    assert api.get(CONNECTORS, {"end_user_id": "u_other"}).json()["data"] == []
    resolved = api.get(f"{CONNECTORS}/resolve", {"connector_type": "stripe", "end_user_id": "u_123"})
    assert resolved.status_code == 200 and resolved.json()["id"] == connector_id
    event = WebhookMessage.objects.get(event_type="connect_session.completed")
    assert event.payload["data"]["connector_id"] == connector_id
    assert event.payload["data"]["end_user_id"] == "u_123"
    assert STRIPE_KEY not in json.dumps(event.payload)
    # Single use: the link is spent.
    again = client.get(form_url)
    assert again.status_code == 410 and b"already used" in again.content


def test_secrets_never_come_back_in_the_page(api, app_origin) -> None:
    session = new_session(api, allowed_connector_types=["zendesk-support"])
    client = browser()
    form_url = client.get(path_of(session["connect_url"]))["Location"]
    page = client.get(form_url)
    fields = re.findall(rb'name="(credentials\.[a-z_]+)"', page.content)
    assert fields, page.content[:2000]
    body = {
        "auth_scheme": "api_token",
        "credentials.api_token": "zd-SECRET-41f0",
        "credentials.email": "ann@example.com",
    }
    failed = client.post(form_url, body)  # no subdomain: a field error, and the token is not echoed
    assert failed.status_code == 422
    assert b"zd-SECRET-41f0" not in failed.content and b"ann@example.com" in failed.content


def test_expired_forged_and_foreign_sessions(api, other_api, app_origin) -> None:
    session = new_session(api, allowed_connector_types=["stripe"])
    ConnectSession.objects.filter(pk=session["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = browser()
    expired = client.get(path_of(session["connect_url"]))
    assert expired.status_code == 410 and b"expired" in expired.content
    forged = client.get("/connect/pbcs_" + "A" * 43 + "/")
    assert forged.status_code == 404 and b"not valid" in forged.content
    posted = client.post("/connect/pbcs_forged/stripe/", {"auth_scheme": "api_key", "credentials.api_key": STRIPE_KEY})
    assert posted.status_code == 404
    assert not Connector.objects.filter(end_user_id="u_123").exists()
    # Another workspace can neither read the session nor re-connect this workspace's connectors through one.
    assert other_api.get(f"{SESSIONS}/{session['id']}").status_code == 404
    ours = api.post(CONNECTORS, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": STRIPE_KEY}})
    stolen = other_api.post(SESSIONS, {"end_user": {"id": "u"}, "connector_id": ours.json()["id"]})
    assert stolen.status_code == 404


def test_a_service_outside_the_session_is_refused(api, app_origin) -> None:
    session = new_session(api, allowed_connector_types=["stripe", "github"])
    client = browser()
    choose = client.get(path_of(session["connect_url"]))
    assert choose.status_code == 200 and b"Stripe" in choose.content and b"GitHub" in choose.content
    token = session["token"]
    refused = client.post(f"/connect/{token}/hubspot/", {"auth_scheme": "private_app", "credentials.access_token": "x"})
    assert refused.status_code == 404
    assert ConnectSession.objects.get(pk=session["id"]).completed_at is None


def test_reconnecting_replaces_the_credentials_of_the_same_connector(api, workspace, app_origin) -> None:
    first = new_session(api, allowed_connector_types=["stripe"])
    client = browser()
    form_url = client.get(path_of(first["connect_url"]))["Location"]
    client.post(form_url, {"auth_scheme": "api_key", "credentials.api_key": STRIPE_KEY})
    connector = Connector.objects.get(end_user_id="u_123")
    again = new_session(api, connector_id=str(connector.pk), redirect_url=f"{APP}/again")
    page = client.get(path_of(again["connect_url"]), follow=True)
    assert b"Reconnect Stripe" in page.content
    done = client.post(page.request["PATH_INFO"], {"auth_scheme": "api_key", "credentials.api_key": "sk_test_NEW_77"})
    assert parse_qs(urlsplit(done["Location"]).query)["connector_id"] == [str(connector.pk)]
    connector.refresh_from_db()
    assert connector_credentials(connector) == {"api_key": "sk_test_NEW_77"}
    assert Connector.objects.filter(workspace=workspace).count() == 1
    # A session may not hand one end user's connector to another.
    stolen = api.post(SESSIONS, {"end_user": {"id": "u_999"}, "connector_id": str(connector.pk)})
    assert stolen.status_code == 422 and stolen.json()["errors"][0]["error_code"] == "end_user_mismatch"


def test_embedded_pages_post_the_outcome_instead_of_redirecting(api, app_origin) -> None:
    session = new_session(api, allowed_connector_types=["stripe"], redirect_url=f"{APP}/connected")
    client = browser()
    form_url = client.get(path_of(session["connect_url"]) + "?embedded=1")["Location"]
    assert form_url.endswith("?embedded=1")
    done = client.post(form_url, {"auth_scheme": "api_key", "credentials.api_key": STRIPE_KEY, "embedded": "1"})
    assert done.status_code == 200
    html = done.content.decode()
    outcome = json.loads(re.search(r'id="connect-outcome" type="application/json">(.*?)</script>', html).group(1))
    assert outcome["type"] == "patchbay:connect" and outcome["status"] == "success"
    assert outcome["end_user_id"] == "u_123" and outcome["connector_type"] == "stripe"
    origins = json.loads(re.search(r'id="connect-origins" type="application/json">(.*?)</script>', html).group(1))
    assert origins == [APP]
    assert STRIPE_KEY not in html


def test_rate_limits_per_session_and_per_ip(api, app_origin, settings) -> None:
    settings.PATCHBAY_CONNECT_RATE_SESSION = "3/600"
    session = new_session(api, allowed_connector_types=["stripe"])
    client = browser()
    form_url = client.get(path_of(session["connect_url"]))["Location"]
    codes = [client.post(form_url, {"auth_scheme": "api_key", "credentials.api_key": ""}).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    limited = client.post(form_url, {"auth_scheme": "api_key", "credentials.api_key": STRIPE_KEY})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert not Connector.objects.filter(end_user_id="u_123").exists()

    settings.PATCHBAY_CONNECT_RATE_IP = "2/600"
    prober = browser()
    assert [prober.get(f"/connect/pbcs_guess{i}/").status_code for i in range(3)] == [404, 404, 429]


def test_an_end_user_connects_with_oauth(api, workspace, app_origin, oauth_app, provider) -> None:
    session = new_session(api, allowed_connector_types=["oauthtest"], redirect_url=f"{APP}/connected")
    client = browser()
    form_url = client.get(path_of(session["connect_url"]))["Location"]
    page = client.get(form_url)
    assert b"Connect OAuth Test Provider" in page.content
    started = client.post(f"/connect/{session['token']}/oauthtest/oauth", {"embedded": "0"})
    assert started.status_code == 302
    callback = urlsplit(provider.consent(started["Location"]))
    finished = client.get(f"{callback.path}?{callback.query}")
    assert finished.status_code == 302 and "/finish" in finished["Location"]
    back = client.get(path_of(finished["Location"]))
    assert back.status_code == 302 and back["Location"].startswith(f"{APP}/connected?connector_id=")
    connector_id = parse_qs(urlsplit(back["Location"]).query)["connector_id"][0]
    connector = Connector.objects.get(pk=connector_id, workspace=workspace)
    assert connector.end_user_id == "u_123" and connector.auth_scheme == "oauth"
    assert ConnectSession.objects.get(pk=session["id"]).result_connector_id == connector.pk
    # The token works: the connector answers as the provider's signed-in user.
    ran = api.post(f"{CONNECTORS}/{connector_id}/execute", {"entity": "me", "action": "get"})
    assert ran.status_code == 200, ran.content
    # The spent session cannot be used for a second OAuth round.
    assert client.post(f"/connect/{session['token']}/oauthtest/oauth").status_code == 410


def test_an_oauth_refusal_goes_back_with_an_error_and_keeps_the_session_open(
    api, app_origin, oauth_app, provider
) -> None:
    session = new_session(api, allowed_connector_types=["oauthtest"], redirect_url=f"{APP}/connected")
    client = browser()
    started = client.post(f"/connect/{session['token']}/oauthtest/oauth")
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    denied = client.get("/oauth/callback", {"state": state, "error": "access_denied"})
    back = client.get(path_of(denied["Location"]))
    assert back.status_code == 302 and "error=access_denied" in back["Location"]
    assert ConnectSession.objects.get(pk=session["id"]).completed_at is None


def test_a_limited_key_offers_only_its_types(workspace) -> None:
    _, key = api_key_create(workspace=workspace, name="stripe only", connectors=["stripe"])
    limited = ApiClient(key)
    default = limited.post(SESSIONS, {"end_user": {"id": "u"}})
    assert default.status_code == 201 and default.json()["allowed_connector_types"] == ["stripe"]
    assert limited.post(SESSIONS, {"end_user": {"id": "u"}, "allowed_connector_types": ["github"]}).status_code == 403


def test_the_dashboard_keeps_the_allow_list_and_shows_sessions(api, user, workspace, other_workspace) -> None:
    from workspaces.models import Membership, Role

    Membership.objects.filter(user=user, workspace=workspace).update(role=Role.ADMIN)
    new_session(api, allowed_connector_types=["stripe"])
    client = Client()
    client.force_login(user)
    page = client.get(f"/w/{workspace.slug}/connect/")
    assert page.status_code == 200 and b"u_123" in page.content and b"Pending" in page.content
    bad = client.post(f"/w/{workspace.slug}/connect/origins/", {"origins": "not an origin"})
    assert bad.status_code == 422 and b"Must be an origin" in bad.content
    saved = client.post(
        f"/w/{workspace.slug}/connect/origins/", {"origins": "https://app.example.com\nhttp://localhost:3000"}
    )
    assert saved.status_code == 200
    workspace.refresh_from_db()
    assert workspace.allowed_redirect_origins == ["https://app.example.com", "http://localhost:3000"]
    # Another workspace's settings are not there for this user.
    assert client.get(f"/w/{other_workspace.slug}/connect/").status_code == 404
    assert client.post(f"/w/{other_workspace.slug}/connect/origins/", {"origins": APP}).status_code == 404


def test_an_end_user_reconnects_an_oauth_connector(api, workspace, app_origin, oauth_app, provider) -> None:
    from tests.oauth.conftest import connect

    connector_id = connect(api, provider)
    Connector.objects.filter(pk=connector_id).update(end_user_id="u_123", status="needs_reauth")
    session = new_session(api, connector_id=connector_id, redirect_url=f"{APP}/again")
    assert session["allowed_connector_types"] == ["oauthtest"]
    client = browser()
    started = client.post(f"/connect/{session['token']}/oauthtest/oauth")
    callback = urlsplit(provider.consent(started["Location"]))
    finished = client.get(f"{callback.path}?{callback.query}")
    back = client.get(path_of(finished["Location"]))
    assert parse_qs(urlsplit(back["Location"]).query)["connector_id"] == [connector_id]
    connector = Connector.objects.get(pk=connector_id)
    assert connector.status != "needs_reauth"  # new tokens stored on the same connector
    assert Connector.objects.filter(workspace=workspace).count() == 1

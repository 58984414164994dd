"""The test authorization server itself, driven with plain requests (independent of Patchbay's OAuth client)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from .fixture import OAuthServerError, OAuthTestServer


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_url(
    server: OAuthTestServer,
    *,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    challenge: str | None = None,
    state: str = "state-1",
    scope: str = "read write",
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id or server.client_id,
        "redirect_uri": redirect_uri or server.redirect_uri,
        "state": state,
        "scope": scope,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{server.authorization_url}?{urlencode(params)}"


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _token(server: OAuthTestServer, data: dict[str, str], *, basic: bool = True) -> requests.Response:
    if basic:
        return requests.post(server.token_url, data=data, auth=(server.client_id, server.client_secret), timeout=10)
    body = {**data, "client_id": server.client_id, "client_secret": server.client_secret}
    return requests.post(server.token_url, data=body, timeout=10)


def _tokens(server: OAuthTestServer) -> dict[str, str]:
    verifier, challenge = _pkce()
    code = _query(server.consent(_authorize_url(server, challenge=challenge)))["code"]
    response = _token(
        server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": server.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def _refresh(server: OAuthTestServer, refresh_token: str) -> requests.Response:
    return _token(server, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_code_flow_with_pkce(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    verifier, challenge = _pkce()

    location = server.consent(_authorize_url(server, challenge=challenge, state="s-123"))

    assert location.startswith(server.redirect_uri + "?")
    params = _query(location)
    assert params["state"] == "s-123"
    response = _token(
        server,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": server.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    assert tokens["refresh_token"]
    me = server.me(tokens["access_token"])
    assert me.status_code == 200
    assert me.json()["username"] == server.username
    assert me.json()["scope"] == "read write"


def test_code_is_bound_to_the_verifier_and_single_use(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    verifier, challenge = _pkce()
    code = _query(server.consent(_authorize_url(server, challenge=challenge)))["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": server.redirect_uri}

    wrong = _token(server, {**exchange, "code_verifier": _pkce()[0]})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert _token(server, {**exchange, "code_verifier": verifier}).status_code == 200
    assert _token(server, {**exchange, "code_verifier": verifier}).json()["error"] == "invalid_grant"


def test_deny_redirects_with_access_denied(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    location = server.consent(_authorize_url(server, state="s-9"), allow=False)
    assert _query(location) == {"error": "access_denied", "state": "s-9"}


def test_consent_rejects_unregistered_redirect_uri_and_wrong_password(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    with pytest.raises(OAuthServerError):
        server.consent(_authorize_url(server, redirect_uri="http://evil.example/cb"))
    with pytest.raises(OAuthServerError, match="login"):
        server.consent(_authorize_url(server), password="wrong")


def test_refresh_rotates(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    first = _tokens(server)

    response = _refresh(server, first["refresh_token"])

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert server.me(second["access_token"]).status_code == 200
    assert server.me(first["access_token"]).status_code == 401


def test_reusing_a_rotated_refresh_token_revokes_the_family(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    first = _tokens(server)
    second = _refresh(server, first["refresh_token"]).json()

    replay = _refresh(server, first["refresh_token"])

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    newest = _refresh(server, second["refresh_token"])
    assert newest.status_code == 400
    assert newest.json()["error"] == "invalid_grant"
    assert server.me(second["access_token"]).status_code == 401


def test_rotation_can_be_switched_off(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(rotate_refresh_token=False)
    first = _tokens(server)

    second = _refresh(server, first["refresh_token"]).json()

    assert second["refresh_token"] == first["refresh_token"]
    assert _refresh(server, first["refresh_token"]).status_code == 200


def test_revocation(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)

    response = requests.post(
        server.revoke_url,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(server.client_id, server.client_secret),
        timeout=10,
    )

    assert response.status_code == 200
    assert _refresh(server, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert server.me(tokens["access_token"]).status_code == 401
    assert server.revoke_requests() == 1


def test_counters_by_grant_type_and_client_auth(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)
    _token(server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, basic=False)

    assert server.token_requests() == 2
    assert server.token_requests("authorization_code") == 1
    assert server.token_requests("refresh_token") == 1
    log = server.request_log("token")
    assert [(e["grant_type"], e["client_auth"], e["status"]) for e in log] == [
        ("authorization_code", "basic", 200),
        ("refresh_token", "body", 200),
    ]
    assert all(e["client_id"] == server.client_id for e in log)

    server.reset_counters()
    assert server.token_requests() == 0


def test_fail_switch(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)
    server.fail_next(2, retry_after=7)

    first = _refresh(server, tokens["refresh_token"])
    second = _refresh(server, tokens["refresh_token"])
    third = _refresh(server, tokens["refresh_token"])

    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["error"] == "temporarily_unavailable"
    assert first.headers["Retry-After"] == "7"
    assert server.token_requests("refresh_token") == 3
    assert [e["injected_failure"] for e in server.request_log("token")][-3:] == [True, True, False]


def test_fail_switch_with_a_chosen_error(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.fail_next(1, status=400, error="invalid_grant")
    response = _refresh(server, "whatever")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_reset_abandons_a_request_still_in_an_injected_delay(clean_oauth_server: OAuthTestServer) -> None:
    """An earlier test's client gave up on a slow token request; the server must not finish it inside the next test,
    where it would take that test's injected failures (the stray that once made test_fail_switch flaky)."""
    server = clean_oauth_server
    tokens = _tokens(server)
    server.slow(800)
    auth = (server.client_id, server.client_secret)
    with pytest.raises(requests.Timeout):
        requests.post(server.token_url, data={"grant_type": "refresh_token"}, auth=auth, timeout=0.2)

    server.reset()  # what clean_oauth_server does between tests
    server.fail_next(1)
    time.sleep(0.8)  # past the moment the abandoned request's delay would have ended

    assert (_refresh(server, tokens["refresh_token"]).status_code, server.token_requests("refresh_token")) == (503, 1)
    assert _refresh(server, tokens["refresh_token"]).status_code == 200


def test_slow_switch_and_concurrent_refresh_with_one_token(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)
    server.slow(300)
    results: list[tuple[int, dict]] = []

    def refresh() -> None:
        response = _refresh(server, tokens["refresh_token"])
        results.append((response.status_code, response.json()))

    started = time.monotonic()
    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert time.monotonic() - started >= 0.3
    # Both requests are in flight together; the loser replays a rotated-away token, which revokes the family, so the
    # winner's new refresh token is dead too. This is the outcome Patchbay's refresh lock exists to prevent.
    assert sorted(code for code, _ in results) == [200, 400]
    assert server.token_requests("refresh_token") == 2
    winner = next(body for code, body in results if code == 200)
    assert _refresh(server, winner["refresh_token"]).json()["error"] == "invalid_grant"


def test_client_restricted_to_basic_auth(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    client = server.create_client(["http://testserver/basic/callback"], client_auth="basic")
    assert client.client_secret not in repr(client)
    code = _query(
        server.consent(_authorize_url(server, client_id=client.client_id, redirect_uri=client.redirect_uris[0]))
    )["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uris[0]}

    body_auth = requests.post(
        server.token_url,
        data={**exchange, "client_id": client.client_id, "client_secret": client.client_secret},
        timeout=10,
    )
    assert body_auth.status_code == 401
    assert body_auth.json()["error"] == "invalid_client"
    basic_auth = requests.post(
        server.token_url, data=exchange, auth=(client.client_id, client.client_secret), timeout=10
    )
    assert basic_auth.status_code == 200, basic_auth.text


def test_pkce_required_client_rejects_a_flow_without_pkce(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    client = server.create_client("http://testserver/pkce/callback", pkce_required=True)
    location = server.consent(_authorize_url(server, client_id=client.client_id, redirect_uri=client.redirect_uris[0]))
    assert _query(location)["error"] == "invalid_request"


def test_extra_and_dropped_token_fields(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(extra_token_fields={"instance_url": "{base_url}", "id": "org-1"}, drop_token_fields=["expires_in"])

    tokens = _tokens(server)

    assert tokens["instance_url"] == server.base_url
    assert tokens["id"] == "org-1"
    assert "expires_in" not in tokens


def test_form_encoded_token_responses_like_github(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)
    server.configure(token_response_format="auto")

    plain = _refresh(server, tokens["refresh_token"])  # requests sends Accept: */*

    assert plain.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(parse_qs(plain.text)) >= {"access_token", "refresh_token", "expires_in"}


def test_json_token_request_bodies(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)
    body = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }
    response = requests.post(server.token_url, json=body, timeout=10)
    assert response.status_code == 200, response.text
    assert server.request_log("token")[-1]["body_format"] == "json"


def test_auto_approve_needs_no_login(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(auto_approve=True)

    response = requests.get(_authorize_url(server, state="auto"), allow_redirects=False, timeout=10)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(server.redirect_uri)
    assert _query(response.headers["Location"])["state"] == "auto"


def test_expire_and_revoke_all(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    tokens = _tokens(server)

    assert server.expire_access_tokens() >= 1
    assert server.me(tokens["access_token"]).status_code == 401
    refreshed = _refresh(server, tokens["refresh_token"]).json()
    assert server.me(refreshed["access_token"]).status_code == 200

    assert server.revoke_all_tokens() >= 1
    assert _refresh(server, refreshed["refresh_token"]).json()["error"] == "invalid_grant"


def test_access_token_lifetime_is_configurable(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(access_token_lifetime=1)
    tokens = _tokens(server)
    assert tokens["expires_in"] == 1
    time.sleep(1.1)
    assert server.me(tokens["access_token"]).status_code == 401


def test_private_server_with_startup_options(oauth_server_factory) -> None:
    server = oauth_server_factory(
        access_token_lifetime=42,
        extra_token_fields={"instance_url": "{base_url}"},
        redirect_uris=["http://127.0.0.1:9/cb", "http://testserver/other"],
    )
    assert server.redirect_uris == ["http://127.0.0.1:9/cb", "http://testserver/other"]
    tokens = _tokens(server)
    assert tokens["expires_in"] == 42
    assert tokens["instance_url"] == server.base_url
    server.stop()
    assert not server.running


def test_add_redirect_uri_to_the_seeded_client(oauth_server_factory) -> None:
    server = oauth_server_factory()
    assert server.redirect_uris == ["http://testserver/oauth/callback", "http://127.0.0.1:8000/oauth/callback"]
    with pytest.raises(OAuthServerError):
        server.consent(_authorize_url(server, redirect_uri="http://localhost:9999/cb"))

    server.add_redirect_uri("http://localhost:9999/cb")

    location = server.consent(_authorize_url(server, redirect_uri="http://localhost:9999/cb"))
    assert location.startswith("http://localhost:9999/cb?code=")
    assert (
        _token(
            server,
            {
                "grant_type": "authorization_code",
                "code": _query(location)["code"],
                "redirect_uri": "http://localhost:9999/cb",
            },
        ).status_code
        == 200
    )

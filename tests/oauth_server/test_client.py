"""connectors/oauth/client.py against the real test authorization server."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.catalog import OAuthSpec, build_oauth_spec
from connectors.oauth import client as oauth_client
from connectors.oauth.client import OAuthError, TokenResponse

from .fixture import OAuthClientCredentials, OAuthTestServer


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _authorize(
    server: OAuthTestServer,
    oauth: OAuthSpec,
    *,
    client_id: str | None = None,
    redirect_uri: str | None = None,
) -> tuple[str, str | None]:
    """Run the browser part of the flow; returns (code, verifier)."""
    verifier, challenge = oauth_client.generate_pkce_pair()
    use_pkce = oauth.pkce
    state = oauth_client.new_state()
    url = oauth_client.build_authorization_url(
        oauth,
        client_id=client_id or server.client_id,
        redirect_uri=redirect_uri or server.redirect_uri,
        state=state,
        scopes=None,
        code_challenge=challenge if use_pkce else None,
    )
    location = server.consent(url)
    params = _query(location)
    assert params["state"] == [state]
    return params["code"][0], verifier if use_pkce else None


def _connect(server: OAuthTestServer, oauth: OAuthSpec, credentials: OAuthClientCredentials | None = None):
    client_id = credentials.client_id if credentials else server.client_id
    client_secret = credentials.client_secret if credentials else server.client_secret
    redirect_uri = credentials.redirect_uris[0] if credentials else server.redirect_uri
    code, verifier = _authorize(server, oauth, client_id=client_id, redirect_uri=redirect_uri)
    token = oauth_client.exchange_code(
        oauth,
        client_id=client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )
    return token, code, verifier


def _refresh(server: OAuthTestServer, oauth: OAuthSpec, refresh_token: str, **kwargs: Any) -> TokenResponse:
    return oauth_client.refresh_access_token(
        oauth, client_id=server.client_id, client_secret=server.client_secret, refresh_token=refresh_token, **kwargs
    )


def _assert_hidden(text: str, *secrets: str | None) -> None:
    for secret in secrets:
        if secret:
            assert secret not in text


# Building the authorization URL --------------------------------------------------------------------------------------


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = oauth_client.generate_pkce_pair()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert oauth_client.generate_pkce_pair()[0] != verifier
    assert len(oauth_client.new_state()) >= 32


def test_authorization_url_honours_the_manifest() -> None:
    oauth = build_oauth_spec(
        {
            "authorization_url": "https://auth.example.com/authorize?audience=api",
            "token_url": "https://auth.example.com/token",
            "scopes": ["read", "write:all"],
            "scope_separator": ",",
            "scope_param": "user_scope",
            "pkce": True,
            "authorize_params": {"access_type": "offline", "prompt": "consent", "state": "manifest-must-not-win"},
        }
    )
    url = oauth_client.build_authorization_url(
        oauth, client_id="cid", redirect_uri="https://pb.example/cb", state="st", scopes=None, code_challenge="ch"
    )
    params = _query(url)
    assert url.startswith("https://auth.example.com/authorize?")
    assert params == {
        "audience": ["api"],
        "access_type": ["offline"],
        "prompt": ["consent"],
        "user_scope": ["read,write:all"],
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["https://pb.example/cb"],
        "state": ["st"],
        "code_challenge": ["ch"],
        "code_challenge_method": ["S256"],
    }


def test_authorization_url_scopes_and_pkce_options() -> None:
    oauth = build_oauth_spec(
        {"authorization_url": "https://a.example/auth", "token_url": "https://a.example/token", "pkce": False}
    )
    url = oauth_client.build_authorization_url(
        oauth, client_id="c", redirect_uri="https://r/cb", state="s", scopes=["a", "b"], code_challenge=None
    )
    assert "scope=a%20b" in url  # %20, not "+", which some providers keep literally
    assert "code_challenge" not in url
    no_scope = oauth_client.build_authorization_url(
        oauth, client_id="c", redirect_uri="https://r/cb", state="s", scopes=[], code_challenge=None
    )
    assert "scope" not in _query(no_scope)
    with pytest.raises(ValueError, match="PKCE"):
        oauth_client.build_authorization_url(
            dataclasses.replace(oauth, pkce=True),
            client_id="c",
            redirect_uri="https://r/cb",
            state="s",
            scopes=None,
            code_challenge=None,
        )


# Token endpoint ------------------------------------------------------------------------------------------------------


def test_code_flow_with_pkce_and_basic_auth(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config(client_auth="basic")

    token, _code, _verifier = _connect(server, oauth)

    assert token.access_token and token.refresh_token
    assert token.expires_in == 600
    assert token.token_type == "Bearer"
    assert token.scope == "read write"
    assert token.expires_at() is not None
    assert server.me(token.access_token).json()["username"] == server.username
    [entry] = server.request_log("token")
    assert (entry["grant_type"], entry["client_auth"], entry["body_format"]) == ("authorization_code", "basic", "form")


def test_body_client_auth_and_json_body(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    credentials = server.create_client("http://testserver/body/callback", client_auth="body")
    oauth = server.oauth_config(client_auth="body", token_body="json")

    token, _code, _verifier = _connect(server, oauth, credentials)

    assert server.me(token.access_token).status_code == 200
    [entry] = server.request_log("token")
    assert (entry["client_auth"], entry["body_format"], entry["client_id"]) == ("body", "json", credentials.client_id)


def test_wrong_client_auth_method_is_permanent_invalid_client(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    credentials = server.create_client("http://testserver/basic-only/callback", client_auth="basic")

    with pytest.raises(OAuthError) as caught:
        _connect(server, server.oauth_config(client_auth="body"), credentials)

    assert caught.value.error == "invalid_client"
    assert caught.value.permanent is True
    assert caught.value.status_code == 401
    _assert_hidden(str(caught.value) + repr(caught.value), credentials.client_secret)


def test_flow_without_pkce(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config(pkce=False)
    token, _code, verifier = _connect(server, oauth)
    assert verifier is None
    assert server.me(token.access_token).status_code == 200


def test_refresh_rotates(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config()
    first, _code, _verifier = _connect(server, oauth)

    second = _refresh(server, oauth, first.refresh_token)

    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert server.me(second.access_token).status_code == 200
    assert server.token_requests("refresh_token") == 1


def test_non_rotating_provider_sends_back_the_same_refresh_token(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(rotate_refresh_token=False)
    oauth = server.oauth_config(rotates_refresh_token=False)
    first, _code, _verifier = _connect(server, oauth)
    assert _refresh(server, oauth, first.refresh_token).refresh_token == first.refresh_token


def test_reused_refresh_token_is_permanent_invalid_grant(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config()
    first, code, verifier = _connect(server, oauth)
    second = _refresh(server, oauth, first.refresh_token)

    with pytest.raises(OAuthError) as caught:
        _refresh(server, oauth, first.refresh_token)

    error = caught.value
    assert (error.error, error.status_code, error.permanent) == ("invalid_grant", 400, True)
    with pytest.raises(OAuthError, match="invalid_grant"):
        _refresh(server, oauth, second.refresh_token)  # the family is revoked
    _assert_hidden(
        str(error) + repr(error) + str(error.args),
        first.refresh_token,
        first.access_token,
        second.refresh_token,
        server.client_secret,
        code,
        verifier,
    )


def test_echoed_secrets_are_scrubbed_from_errors(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config()
    token, _code, _verifier = _connect(server, oauth)
    server.fail_next(
        1,
        status=400,
        error="invalid_grant",
        description=f"token {token.refresh_token} unknown to {server.client_secret}",
    )

    with pytest.raises(OAuthError) as caught:
        _refresh(server, oauth, token.refresh_token)

    assert caught.value.permanent is True
    assert "[redacted]" in caught.value.description
    _assert_hidden(str(caught.value) + repr(caught.value), token.refresh_token, server.client_secret)


def test_503_is_transient(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config()
    token, _code, _verifier = _connect(server, oauth)
    server.fail_next(1, status=503, retry_after=30)

    with pytest.raises(OAuthError) as caught:
        _refresh(server, oauth, token.refresh_token)

    error = caught.value
    assert (error.error, error.status_code, error.permanent, error.retry_after) == (
        "temporarily_unavailable",
        503,
        False,
        30.0,
    )
    # The injected failure never reached DOT, so the refresh token still works.
    assert _refresh(server, oauth, token.refresh_token).access_token


def test_429_and_html_502_are_transient(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config()
    server.fail_next(1, status=429, error="rate_limited")
    with pytest.raises(OAuthError) as rate_limited:
        _refresh(server, oauth, "not-a-real-token")
    assert (rate_limited.value.status_code, rate_limited.value.permanent) == (429, False)

    server.fail_next(1, status=502, body="<html><body>Bad gateway</body></html>")
    with pytest.raises(OAuthError) as bad_gateway:
        _refresh(server, oauth, "not-a-real-token")
    assert (bad_gateway.value.error, bad_gateway.value.status_code, bad_gateway.value.permanent) == (
        "http_error",
        502,
        False,
    )


def test_github_style_error_with_200_is_permanent(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.fail_next(1, status=200, error="bad_verification_code")
    with pytest.raises(OAuthError) as caught:
        oauth_client.exchange_code(
            server.oauth_config(),
            client_id=server.client_id,
            client_secret=server.client_secret,
            code="expired-code",
            redirect_uri=server.redirect_uri,
        )
    assert (caught.value.error, caught.value.permanent) == ("bad_verification_code", True)


def test_timeout_and_network_errors_are_transient(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config()
    server.slow(1500)
    with pytest.raises(OAuthError) as timed_out:
        _refresh(server, oauth, "secret-refresh-value", timeout=0.3)
    assert (timed_out.value.error, timed_out.value.permanent, timed_out.value.status_code) == ("timeout", False, None)
    assert "secret-refresh-value" not in str(timed_out.value)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(OAuthError) as refused:
        _refresh(
            server,
            dataclasses.replace(oauth, token_url=f"http://127.0.0.1:{closed_port}/token"),
            "secret-refresh-value",
        )
    assert (refused.value.error, refused.value.permanent) == ("network_error", False)
    assert "secret-refresh-value" not in str(refused.value)


def test_form_encoded_token_response(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(token_response_format="form", extra_token_fields={"instance_url": "{base_url}"})
    oauth = server.oauth_config(token_response_fields=["instance_url"])

    token, _code, _verifier = _connect(server, oauth)

    assert token.expires_in == 600
    assert token.extra == {"instance_url": server.base_url}
    assert server.me(token.access_token).status_code == 200


def test_extra_fields_and_default_expires_in(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.configure(extra_token_fields={"instance_url": "{base_url}", "other": "x"}, drop_token_fields=["expires_in"])
    oauth = server.oauth_config(token_response_fields=["instance_url", "id"], default_expires_in=7200)

    token, _code, _verifier = _connect(server, oauth)

    assert token.extra == {"instance_url": server.base_url}
    assert token.expires_in == 7200
    assert _refresh(server, dataclasses.replace(oauth, default_expires_in=None), token.refresh_token).expires_in is None


def test_revoke(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = server.oauth_config(client_auth="body")
    token, _code, _verifier = _connect(server, oauth)

    assert oauth_client.revoke_token(
        oauth, client_id=server.client_id, client_secret=server.client_secret, token=token.refresh_token
    )

    [entry] = server.request_log("revoke")
    assert (entry["status"], entry["client_auth"]) == (200, "body")
    with pytest.raises(OAuthError, match="invalid_grant"):
        _refresh(server, oauth, token.refresh_token)
    assert server.me(token.access_token).status_code == 401


def test_revoke_without_revoke_url_is_a_no_op(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    oauth = dataclasses.replace(server.oauth_config(), revoke_url=None)
    assert not oauth_client.revoke_token(oauth, client_id="c", client_secret="s", token="t")
    assert server.revoke_requests() == 0


def test_revoke_failure_is_transient(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    server.fail_next(1, endpoint="revoke")
    with pytest.raises(OAuthError) as caught:
        oauth_client.revoke_token(
            server.oauth_config(), client_id=server.client_id, client_secret=server.client_secret, token="tok-123"
        )
    assert caught.value.permanent is False
    assert "tok-123" not in str(caught.value)


def test_token_response_repr_hides_tokens(clean_oauth_server: OAuthTestServer) -> None:
    server = clean_oauth_server
    token, _code, _verifier = _connect(server, server.oauth_config())

    for text in (repr(token), str(token), f"{token}", repr([token])):
        _assert_hidden(text, token.access_token, token.refresh_token)
        assert "***" in text

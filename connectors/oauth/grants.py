"""Token grants without a user: client credentials (RFC 6749 4.4) and JWT bearer (RFC 7523).

A scheme whose `oauth.grant` is `client_credentials` or `jwt_bearer` (``AuthScheme.mints_tokens``) has no consent step
and no refresh token: the token lifecycle (``connectors.oauth.tokens``) asks ``request_token`` for a new access token
whenever the cached one is missing or near expiry, under the same row lock and cooldowns as a refresh, and stores it
the same way. Everything a service needs is declared in its manifest (docs/catalog.md, "OAuth blocks"); nothing here
knows a vendor.

Secrets (client secret, private key, the signed assertion) never appear in an error: ``OAuthError`` messages are
scrubbed by the OAuth client, and a key that cannot be read or used is reported by field name only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from connectors.catalog.manifest import CLIENT_CREDENTIALS, JWT_BEARER, OAuthSpec
from connectors.catalog.templates import placeholders
from connectors.engine.auth import private_key, sign_jwt
from core.errors import OperationInputError

from . import client as oauth_client
from .client import DEFAULT_TIMEOUT, OAuthError, TokenResponse

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def request_token(
    oauth: OAuthSpec, credentials: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> TokenResponse:
    """A new access token for a scheme that mints its own (``oauth`` with its URLs filled in)."""
    if oauth.grant == CLIENT_CREDENTIALS:
        return client_credentials_token(oauth, credentials, timeout=timeout)
    if oauth.grant == JWT_BEARER:
        return jwt_bearer_token(oauth, credentials, timeout=timeout)
    raise ValueError(f"grant {oauth.grant!r} needs a user's consent, not stored credentials")


def client_credentials_token(
    oauth: OAuthSpec, credentials: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> TokenResponse:
    client_id, client_secret = _required(credentials, "client_id"), _required(credentials, "client_secret")
    params = {"grant_type": "client_credentials", **_scope_param(oauth)}
    data = oauth_client._client_request(
        oauth,
        oauth.token_url,
        params,
        client_id=client_id,
        client_secret=client_secret,
        secrets_sent=(),
        timeout=timeout,
        session=None,
    )
    return oauth_client._token_response(oauth, data)


def jwt_bearer_token(
    oauth: OAuthSpec, credentials: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> TokenResponse:
    assertion = signed_assertion(oauth, credentials)
    params = {"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion}
    if not (oauth.jwt and oauth.jwt.scope_claim):
        params.update(_scope_param(oauth))
    data = oauth_client._client_request(
        oauth,
        oauth.token_url,
        params,
        client_id="",  # the signed assertion authenticates the request (RFC 7523 2.1)
        client_secret="",
        secrets_sent=(assertion,),
        timeout=timeout,
        session=None,
    )
    return oauth_client._token_response(oauth, data)


def signed_assertion(oauth: OAuthSpec, credentials: Mapping[str, Any], *, now: float | None = None) -> str:
    """The RFC 7523 assertion: the manifest's claims filled from the credentials, signed with the private key."""
    spec = oauth.jwt
    if spec is None:
        raise OAuthError("invalid_request", "this scheme declares no jwt block", None, True)
    values = key_values(oauth, credentials)
    claims: dict[str, Any] = {}
    for name, template in spec.claims.items():
        value = _render(template, values)
        if value:  # an optional claim (sub for domain-wide delegation) is left out when its field is empty
            claims[name] = value
    if spec.scope_claim and oauth.scopes:
        claims[spec.scope_claim] = (oauth.scope_separator or " ").join(oauth.scopes)
    claims["jti"] = uuid.uuid4().hex
    try:
        key = private_key(values, spec.private_key, passphrase=spec.passphrase)
        return sign_jwt(spec, claims, key, key_id=values.get(spec.key_id) if spec.key_id else None, now=now)
    except OperationInputError as exc:
        # A token request never went out: the connector needs new credentials. The message names the field only.
        raise OAuthError("invalid_client", exc.message, None, True) from None


def key_values(oauth: OAuthSpec, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The values claim templates read: the credentials, the fields of a pasted JSON key file, and {token_url}."""
    values: dict[str, Any] = {"token_url": oauth.token_url}
    spec = oauth.jwt
    if spec is not None and spec.key_json and credentials.get(spec.key_json):
        raw = credentials[spec.key_json]
        try:
            document = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise OAuthError("invalid_client", f"credential field {spec.key_json!r} is not a JSON key file", None, True)
        values.update({k: v for k, v in document.items() if isinstance(v, str)})
    values.update({k: v for k, v in credentials.items() if v not in (None, "")})
    return values


def _render(template: str, values: Mapping[str, Any]) -> str:
    out = template
    for name in placeholders(template):
        out = out.replace("{" + name + "}", str(values.get(name) or ""))
    return out


def _scope_param(oauth: OAuthSpec) -> dict[str, str]:
    return {oauth.scope_param or "scope": (oauth.scope_separator or " ").join(oauth.scopes)} if oauth.scopes else {}


def _required(credentials: Mapping[str, Any], name: str) -> str:
    value = credentials.get(name)
    if not isinstance(value, str) or not value:
        raise OAuthError("invalid_client", f"credential field {name!r} is missing", None, True)
    return value

"""Applying credentials to a request, per the auth scheme's `apply` rules (docs/catalog.md, "apply styles")."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.catalog.manifest import ApplyRule, AuthScheme, Manifest, UnknownAuthScheme
from connectors.catalog.templates import placeholders
from core.errors import OperationInputError

from .http import secret_forms
from .util import render, secret_values

HEADER_UNSAFE = "it contains a line break, a control character or a character outside Latin-1"


@dataclass
class AppliedAuth:
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    # Plaintext (and encoded) forms of every credential value, for scrubbing messages.
    secrets: list[str] = field(default_factory=list)


def select_scheme(manifest: Manifest, auth_scheme: str | None, credentials: dict[str, Any]) -> AuthScheme:
    """The scheme with this key; without one, the first whose credential fields are all present (else the first)."""
    if auth_scheme is not None:
        try:
            return manifest.scheme(auth_scheme)
        except UnknownAuthScheme as exc:
            raise OperationInputError("invalid_config", exc.message) from None
    for scheme in manifest.auth_schemes:
        if all(name in credentials for name in fields_used(scheme)):
            return scheme
    if manifest.auth_schemes:
        return manifest.auth_schemes[0]
    raise OperationInputError("invalid_config", "The manifest declares no auth scheme.")


def fields_used(scheme: AuthScheme) -> list[str]:
    """The credential fields the scheme's apply rules read."""
    names: list[str] = []
    for rule in scheme.apply:
        if rule.type == "bearer":
            names.append(rule.field)
        for template in (rule.value, rule.username, rule.password):
            names.extend(placeholders(template))
    return names


def _secret_field_values(scheme: AuthScheme, credentials: dict[str, Any]) -> list[str]:
    props = scheme.credential_properties
    names = set(fields_used(scheme)) | {n for n, p in props.items() if isinstance(p, dict) and p.get("secret")}
    # Unknown fields may be secrets too: anything not declared non-secret is treated as one.
    names |= {n for n in credentials if n not in props}
    return secret_values({n: credentials[n] for n in names if n in credentials})


def _value(credentials: dict[str, Any], template: str, what: str, *, header: bool = True) -> str:
    for name in placeholders(template):
        value = credentials.get(name)
        if value is None or value == "":
            raise OperationInputError(
                "credentials_missing",
                f"Credential field {name!r} is missing ({what}). OAuth connectors need a current access token: "
                "refresh it first.",
                [{"field": f"credentials.{name}", "message": "This field is required.", "error_code": "required"}],
            )
        if not isinstance(value, str | int):
            raise OperationInputError("credentials_missing", f"Credential field {name!r} must be a string.")
    rendered = render(template, credentials)
    if header and not header_safe(rendered):
        names = ", ".join(f"credentials.{n}" for n in placeholders(template))
        raise OperationInputError(
            "credentials_invalid",
            f"{names} cannot be sent in an HTTP header ({what}): {HEADER_UNSAFE}. Update the connector's credentials.",
            [
                {"field": f"credentials.{n}", "message": HEADER_UNSAFE, "error_code": "invalid_value"}
                for n in placeholders(template)
            ],
        )
    return rendered


def header_safe(value: str) -> bool:
    """Whether `value` can be an HTTP header value as requests sends it (Latin-1, no control characters)."""
    return all(ch == "\t" or (" " <= ch <= "\xff" and ch != "\x7f") for ch in value)


def header_fields(scheme: AuthScheme) -> set[str]:
    """Credential fields this scheme sends inside a header as they are (bearer and header rules; basic is encoded)."""
    names: set[str] = set()
    for rule in scheme.apply:
        if rule.type == "bearer":
            names.add(rule.field)
        elif rule.type == "header":
            names.update(placeholders(rule.value))
    return names


def header_errors(scheme: AuthScheme, credentials: dict[str, Any]) -> list[dict[str, str]]:
    """Field errors for credentials that could never be sent: refuse them when they are stored, not on each call."""
    return [
        {
            "field": f"credentials.{name}",
            "message": f"Cannot be sent in an HTTP header: {HEADER_UNSAFE}.",
            "error_code": "invalid_value",
        }
        for name in sorted(header_fields(scheme))
        if isinstance(credentials.get(name), str) and not header_safe(credentials[name])
    ]


# --- Apply styles: each puts its credential on the request and returns the forms of it worth scrubbing ------------


def _bearer(rule: ApplyRule, credentials: dict[str, Any], out: AppliedAuth) -> list[str]:
    token = _value(credentials, "{" + rule.field + "}", "bearer token")
    out.headers["Authorization"] = f"Bearer {token}"
    return []


def _header(rule: ApplyRule, credentials: dict[str, Any], out: AppliedAuth) -> list[str]:
    out.headers[rule.name] = _value(credentials, rule.value, f"header {rule.name}")
    return [out.headers[rule.name]]


def _basic(rule: ApplyRule, credentials: dict[str, Any], out: AppliedAuth) -> list[str]:
    username = _value(credentials, rule.username, "basic auth username", header=False)
    password = _value(credentials, rule.password, "basic auth password", header=False)
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    out.headers["Authorization"] = f"Basic {encoded}"
    return [encoded, f"{username}:{password}"]


def _query(rule: ApplyRule, credentials: dict[str, Any], out: AppliedAuth) -> list[str]:
    out.query[rule.name] = _value(credentials, rule.value, f"query parameter {rule.name}", header=False)
    return [out.query[rule.name]]


APPLY_STYLES: dict[str, Callable[[ApplyRule, dict[str, Any], AppliedAuth], list[str]]] = {
    "bearer": _bearer,
    "header": _header,
    "basic": _basic,
    "query": _query,
}


def apply_credentials(scheme: AuthScheme, credentials: dict[str, Any]) -> AppliedAuth:
    out = AppliedAuth()
    extra: list[str] = []
    for rule in scheme.apply:
        style = APPLY_STYLES.get(rule.type)
        if style is not None:
            extra += style(rule, credentials, out)
    values = [*_secret_field_values(scheme, credentials), *(s for s in extra if len(s) >= 4)]
    out.secrets = secret_forms(values)
    return out

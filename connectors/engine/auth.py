"""Applying credentials to a request, per the auth scheme's `apply` list (docs/catalog.md, "apply styles")."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from .errors import OperationInputError
from .util import placeholders, render, secret_values


@dataclass
class AppliedAuth:
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    # Plaintext (and encoded) forms of every credential value, for scrubbing messages.
    secrets: list[str] = field(default_factory=list)


def select_scheme(manifest: dict[str, Any], auth_scheme: str | None, credentials: dict[str, Any]) -> dict[str, Any]:
    schemes: list[dict[str, Any]] = manifest.get("auth_schemes") or []
    if auth_scheme is not None:
        for scheme in schemes:
            if scheme.get("key") == auth_scheme:
                return scheme
        raise OperationInputError(
            "invalid_config",
            f"Unknown auth scheme {auth_scheme!r}. Available: {', '.join(s.get('key', '?') for s in schemes)}.",
        )
    # No key given: the first scheme whose credential fields are all present.
    for scheme in schemes:
        if all(name in credentials for name in _fields_used(scheme)):
            return scheme
    if schemes:
        return schemes[0]
    raise OperationInputError("invalid_config", "The manifest declares no auth scheme.")


def _fields_used(scheme: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for rule in scheme.get("apply", []):
        if rule.get("type") == "bearer":
            names.append(rule.get("field", "access_token"))
        for key in ("value", "username", "password"):
            if key in rule:
                names.extend(placeholders(rule[key]))
    return names


def _secret_field_values(scheme: dict[str, Any], credentials: dict[str, Any]) -> list[str]:
    props = (scheme.get("credentials_schema") or {}).get("properties") or {}
    names = set(_fields_used(scheme)) | {n for n, p in props.items() if isinstance(p, dict) and p.get("secret")}
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


HEADER_UNSAFE = "it contains a line break, a control character or a character outside Latin-1"


def header_safe(value: str) -> bool:
    """Whether `value` can be an HTTP header value as requests sends it (Latin-1, no control characters)."""
    return all(ch == "\t" or (" " <= ch <= "\xff" and ch != "\x7f") for ch in value)


def header_fields(scheme: dict[str, Any]) -> set[str]:
    """Credential fields this scheme sends inside a header as they are (bearer and header rules; basic is encoded)."""
    names: set[str] = set()
    for rule in scheme.get("apply", []):
        if rule.get("type") == "bearer":
            names.add(rule.get("field", "access_token"))
        elif rule.get("type") == "header":
            names.update(placeholders(rule.get("value", "")))
    return names


def header_errors(scheme: dict[str, Any], credentials: dict[str, Any]) -> list[dict[str, str]]:
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


def apply_credentials(scheme: dict[str, Any], credentials: dict[str, Any]) -> AppliedAuth:
    out = AppliedAuth()
    base = _secret_field_values(scheme, credentials)
    extra: list[str] = []
    for rule in scheme.get("apply", []):
        kind = rule.get("type")
        if kind == "bearer":
            token = _value(credentials, "{" + rule.get("field", "access_token") + "}", "bearer token")
            out.headers["Authorization"] = f"Bearer {token}"
        elif kind == "header":
            out.headers[rule["name"]] = _value(credentials, rule["value"], f"header {rule['name']}")
            extra.append(out.headers[rule["name"]])
        elif kind == "basic":
            username = _value(credentials, rule.get("username", ""), "basic auth username", header=False)
            password = _value(credentials, rule.get("password", ""), "basic auth password", header=False)
            encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            out.headers["Authorization"] = f"Basic {encoded}"
            extra.extend([encoded, f"{username}:{password}"])
        elif kind == "query":
            out.query[rule["name"]] = _value(
                credentials, rule["value"], f"query parameter {rule['name']}", header=False
            )
            extra.append(out.query[rule["name"]])
    forms = [*base, *(s for s in extra if len(s) >= 4)]
    forms += [enc(s) for s in forms for enc in (lambda v: quote(v, safe=""), quote_plus) if enc(s) != s]
    out.secrets = sorted(set(forms), key=len, reverse=True)
    return out

"""Applying credentials to a request, per the auth scheme's `apply` rules (docs/catalog.md, "apply styles")."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from connectors.catalog.manifest import (
    CLAIM_PLACEHOLDER,
    FINGERPRINT,
    ApplyRule,
    AuthScheme,
    JwtSpec,
    Manifest,
    UnknownAuthScheme,
)
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
        if rule.jwt is not None:
            names += [rule.jwt.private_key, *rule.claim_fields()]
        for template in (rule.value, rule.username, rule.password):
            names.extend(placeholders(template))
    return names


def _secret_field_values(scheme: AuthScheme, credentials: dict[str, Any]) -> list[str]:
    props = scheme.credential_properties
    # A JWT's claims are signed, not sent as they are: the user name in them is not a secret unless declared one.
    claims_only = {n for rule in scheme.apply for n in rule.claim_fields()}
    names = (set(fields_used(scheme)) - claims_only) | {
        n for n, p in props.items() if isinstance(p, dict) and p.get("secret")
    }
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
    """Field errors for credentials that could never be sent: refuse them when they are stored, not on each call.
    Values no HTTP header can carry, and private keys a `jwt` rule cannot read."""
    errors = [
        {
            "field": f"credentials.{name}",
            "message": f"Cannot be sent in an HTTP header: {HEADER_UNSAFE}.",
            "error_code": "invalid_value",
        }
        for name in sorted(header_fields(scheme))
        if isinstance(credentials.get(name), str) and not header_safe(credentials[name])
    ]
    for rule in scheme.apply:
        if rule.jwt is not None and credentials.get(rule.jwt.private_key) not in (None, ""):
            try:
                private_key(credentials, rule.jwt.private_key)
            except OperationInputError as exc:
                errors += exc.errors
    return errors


# --- Apply styles: each puts its credential on the request and returns the forms of it worth scrubbing ------------

Style = Callable[[ApplyRule, dict[str, Any], Mapping[str, Any], AppliedAuth], list[str]]


def _bearer(rule: ApplyRule, credentials: dict[str, Any], config: Mapping[str, Any], out: AppliedAuth) -> list[str]:
    token = _value(credentials, "{" + rule.field + "}", "bearer token")
    out.headers["Authorization"] = f"Bearer {token}"
    return []


def _header(rule: ApplyRule, credentials: dict[str, Any], config: Mapping[str, Any], out: AppliedAuth) -> list[str]:
    out.headers[rule.name] = _value(credentials, rule.value, f"header {rule.name}")
    return [out.headers[rule.name]]


def _basic(rule: ApplyRule, credentials: dict[str, Any], config: Mapping[str, Any], out: AppliedAuth) -> list[str]:
    username = _value(credentials, rule.username, "basic auth username", header=False)
    password = _value(credentials, rule.password, "basic auth password", header=False)
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    out.headers["Authorization"] = f"Basic {encoded}"
    return [encoded, f"{username}:{password}"]


def _query(rule: ApplyRule, credentials: dict[str, Any], config: Mapping[str, Any], out: AppliedAuth) -> list[str]:
    out.query[rule.name] = _value(credentials, rule.value, f"query parameter {rule.name}", header=False)
    return [out.query[rule.name]]


def _jwt(rule: ApplyRule, credentials: dict[str, Any], config: Mapping[str, Any], out: AppliedAuth) -> list[str]:
    """A JWT signed here for this call with the credential's private key (Snowflake's KEYPAIR_JWT): no token
    endpoint, nothing stored. Claims are the rule's templates plus iat and exp."""
    spec = rule.jwt or JwtSpec()
    key = private_key(credentials, spec.private_key, passphrase=spec.passphrase)
    values = {
        **{f"config.{k}": v for k, v in config.items()},
        **credentials,
        FINGERPRINT: public_key_fingerprint(key),
    }
    claims = {name: _claim(template, values) for name, template in spec.claims.items()}
    token = sign_jwt(spec, claims, key, key_id=credentials.get(spec.key_id) if spec.key_id else None)
    out.headers[rule.name or "Authorization"] = f"{rule.prefix}{token}"
    return [token]


APPLY_STYLES: dict[str, Style] = {
    "bearer": _bearer,
    "header": _header,
    "basic": _basic,
    "query": _query,
    "jwt": _jwt,
}

CLAIM_FILTER_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "first_label": lambda value: value.split(".", 1)[0],
}


def _claim(template: str, values: Mapping[str, Any]) -> str:
    """A claim template filled: `{user|upper}`, `{config.account|first_label|upper}`, `{public_key_fingerprint}`."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or value == "" or not isinstance(value, str | int):
            source, _, config_name = name.partition(".")
            field = f"replication_config.{config_name}" if source == "config" and config_name else f"credentials.{name}"
            code = "invalid_config" if source == "config" and config_name else "credentials_missing"
            raise OperationInputError(
                code,
                f"{field} is missing: the signed token needs it.",
                [{"field": field, "message": "This field is required.", "error_code": "required"}],
            )
        text = str(value)
        for filter_name in match.group(2).split("|")[1:]:
            text = CLAIM_FILTER_FUNCTIONS[filter_name](text)
        return text

    return CLAIM_PLACEHOLDER.sub(sub, template)


_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def private_key(credentials: Mapping[str, Any], name: str, *, passphrase: str | None = None) -> Any:
    """The private key in credential field `name`, read from PEM. Pasted forms are forgiven: escaped newlines
    (`\\n`), line breaks a single-line input turned into spaces or dropped, the base64 body without its BEGIN/END
    lines. An encrypted PKCS#8 key is decrypted with the credential field `passphrase` names, when the scheme has
    one. Errors name the fields, never the key or the passphrase."""
    raw = credentials.get(name)
    if not isinstance(raw, str) or not raw.strip():
        raise OperationInputError(
            "credentials_missing",
            f"Credential field {name!r} (the private key) is missing.",
            [{"field": f"credentials.{name}", "message": "This field is required.", "error_code": "required"}],
        )
    text = raw.replace("\\n", "\n").strip()
    match = _PEM.search(text)
    label, body = (match.group(1), match.group(2)) if match else ("PRIVATE KEY", text)
    if "Proc-Type:" in body:
        raise _key_error(name, "is in OpenSSL's legacy encrypted format: convert it to PKCS#8 (openssl pkcs8 -topk8)")
    secret = credentials.get(passphrase) if passphrase else None
    if "ENCRYPTED" in label and not secret:
        if passphrase:
            raise _key_error(name, f"is encrypted: give its passphrase in {passphrase!r}")
        raise _key_error(name, "is encrypted: paste the unencrypted PKCS#8 key (openssl pkcs8 -nocrypt)")
    body = re.sub(r"\s+", "", body)
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
    password = str(secret).encode() if "ENCRYPTED" in label else None
    try:
        return serialization.load_pem_private_key(pem.encode("ascii", "replace"), password=password)
    except (ValueError, TypeError):
        if password is not None:
            raise _key_error(name, f"could not be decrypted with the passphrase in {passphrase!r}") from None
        raise _key_error(name, "is not a readable PEM private key (PKCS#8)") from None


def sign_jwt(
    spec: JwtSpec, claims: Mapping[str, Any], key: Any, *, key_id: Any = None, now: float | None = None
) -> str:
    """`claims` plus `iat` and `exp` (`spec.lifetime` apart), signed with `key` (from private_key()), with `kid` in
    the header when there is one. The one JWT signer: the `jwt` apply style and the jwt_bearer grant's assertion."""
    issued = int(now if now is not None else time.time())
    headers = {"kid": str(key_id)} if key_id else None
    try:
        return jwt.encode(
            {**claims, "iat": issued, "exp": issued + spec.lifetime}, key, algorithm=spec.algorithm, headers=headers
        )
    except (ValueError, TypeError, jwt.PyJWTError):
        # The library's message may describe the key: name the field only.
        raise _key_error(spec.private_key, f"is not a usable {spec.algorithm} private key") from None


def public_key_fingerprint(key: Any) -> str:
    """`SHA256:` and the base64 of the SHA-256 of the public key's DER SubjectPublicKeyInfo (Snowflake's
    RSA_PUBLIC_KEY_FP)."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def _key_error(name: str, problem: str) -> OperationInputError:
    return OperationInputError(
        "credentials_invalid",
        f"Credential field {name!r} {problem}. Update the connector's credentials.",
        [{"field": f"credentials.{name}", "message": f"The private key {problem}.", "error_code": "invalid_value"}],
    )


def apply_credentials(
    scheme: AuthScheme,
    credentials: dict[str, Any],
    config: Mapping[str, Any] | None = None,
    *,
    config_defaults: Mapping[str, Any] | None = None,
) -> AppliedAuth:
    """The scheme's credentials on a request. `config` (with `config_defaults` for unset values) fills the
    `{config.x}` placeholders of JWT claims."""
    values = {**(config_defaults or {}), **{k: v for k, v in (config or {}).items() if v not in (None, "")}}
    out = AppliedAuth()
    extra: list[str] = []
    for rule in scheme.apply:
        style = APPLY_STYLES.get(rule.type)
        if style is not None:
            extra += style(rule, credentials, values, out)
    secrets = [*_secret_field_values(scheme, credentials), *(s for s in extra if len(s) >= 4)]
    out.secrets = secret_forms(secrets)
    return out

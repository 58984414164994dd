"""Credentials are bound to their hosts.

Some values decide where a connector's requests (and so its credentials) go: GitHub's `api_url`, Zendesk's
`subdomain`, Jira's `site`, Salesforce's `instance_url`. They are the placeholders in the host part of a URL
template (`base_url`, a scheme's or an action's `base_url`, OAuth endpoints: `Manifest.host_fields()`). Such a value
must render to an https URL on an allowed host (`resolve_base_url` enforces it, here and again on every call),
changing one needs the credentials again in the same request, and a value from a token response is checked the same
way before it is stored. Deployment configuration (PATCHBAY_CATALOG_OVERRIDES, PATCHBAY_CATALOG_DIRS) is trusted as
it is; PATCHBAY_ALLOW_HTTP_HOSTS (loopback stand-ins) may be called over plain http.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from core.errors import FieldError, InvalidInput, OperationInputError

from .catalog.manifest import AuthScheme, Manifest
from .engine.urls import resolve_base_url
from .validation import schema_errors, secret_fields


def allow_http_hosts() -> frozenset[str]:
    """PATCHBAY_ALLOW_HTTP_HOSTS: the hosts a connector may reach over plain http, lower-cased."""
    return frozenset(host.lower() for host in settings.PATCHBAY_ALLOW_HTTP_HOSTS)


def host_values(manifest: Manifest, *, config: dict[str, Any], credentials: dict[str, Any]) -> dict[str, Any]:
    """The current value of each host field, with config defaults filled in: compare two to spot a move."""
    defaults = manifest.config_fallbacks(credentials, config)
    out: dict[str, Any] = {}
    for field in sorted(manifest.host_fields()):
        source, _, name = field.partition(".")
        if source == "replication_config":
            value = config.get(name)
            out[field] = defaults.get(name) if value in (None, "") else value
        else:
            out[field] = credentials.get(name)
    return out


def host_errors(
    manifest: Manifest, *, config: dict[str, Any], credentials: dict[str, Any], scheme_key: str | None
) -> list[FieldError]:
    """Field errors for host values that render to a URL this connector may not call. Missing values are left to
    schema validation (they say "required" more precisely)."""
    errors: dict[str, FieldError] = {}
    for template in dict.fromkeys(manifest.url_templates(scheme_key)):
        if "{" not in template:
            continue
        try:
            resolve_base_url(
                template,
                config=config,
                credentials=credentials,
                config_defaults=manifest.config_fallbacks(credentials, config),
                allowed_hosts=manifest.allowed_hosts,
                allow_http_hosts=allow_http_hosts(),
            )
        except OperationInputError as exc:
            for error in exc.errors or []:
                if error.get("error_code") != "required":
                    errors.setdefault(error["field"], FieldError(error["field"], error["message"], "host_not_allowed"))
    return list(errors.values())


def require_credentials_for_move(
    manifest: Manifest,
    scheme: AuthScheme,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    given_credentials: dict[str, Any] | None,
    stored_credentials: dict[str, Any],
) -> list[str]:
    """Host fields that change between `before` and `after`. Raises InvalidInput unless the request itself carries
    every stored secret again: an API key alone must never be able to send a stored token somewhere new."""
    moved = [field for field, value in after.items() if before.get(field) != value]
    if not moved:
        return []
    given = {k: v for k, v in (given_credentials or {}).items() if v not in (None, "")}
    schema = scheme.credentials_schema
    # The secrets a person supplies (a minted access token is not one of them when a refresh token is required).
    secrets = secret_fields(schema) & set(schema.get("required") or []) or secret_fields(schema)
    missing = sorted(name for name in secrets if stored_credentials.get(name) and name not in given)
    if missing:
        names = ", ".join(f"credentials.{name}" for name in missing)
        message = (
            f"Changing where this connector sends requests ({', '.join(moved)}) needs its credentials again: "
            f"send {names} in the same request."
        )
        raise InvalidInput(
            message,
            [FieldError(field, message, "credentials_required") for field in moved]
            + [FieldError(f"credentials.{name}", "Required when the host changes.", "required") for name in missing],
        )
    return moved


def split_token_fields(
    manifest: Manifest,
    scheme: AuthScheme,
    *,
    config: dict[str, Any],
    credentials: dict[str, Any],
    extra: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values a token response carries (Salesforce's instance_url): (accepted, refused field -> reason).

    A value is refused when it breaks the scheme's credential schema for that field (its pattern) or, for a host
    field, renders to a URL this connector may not call."""
    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    props = scheme.credential_properties
    for name, value in extra.items():
        schema = props.get(name)
        problems = schema_errors(schema, value, prefix=f"credentials.{name}") if isinstance(schema, dict) else []
        if not problems:
            problems = [
                e
                for e in host_errors(
                    manifest, config=config, credentials={**credentials, name: value}, scheme_key=scheme.key
                )
                if e.field == f"credentials.{name}"
            ]
        if problems:
            refused[name] = problems[0].message
        else:
            accepted[name] = value
    return accepted, refused

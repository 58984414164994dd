"""Credentials are bound to their hosts.

Some values decide where a connector's requests (and so its credentials) go: GitHub's `api_url`, Zendesk's
`subdomain`, Jira's `site`, Salesforce's `instance_url`. They are the placeholders in the host part of a URL
template (`base_url`, a scheme's or an action's `base_url`, OAuth endpoints). Such a value must render to an https
URL on an allowed host (`resolve_base_url` enforces it, here and again on every call), changing one needs the
credentials again in the same request, and a value from a token response is checked the same way before it is
stored. Deployment configuration (PATCHBAY_CATALOG_OVERRIDES, PATCHBAY_CATALOG_DIRS) is trusted as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workspaces.errors import FieldError, InvalidInput

from .engine import resolve_base_url
from .engine.errors import OperationInputError
from .engine.executor import _authority_end
from .engine.util import PLACEHOLDER
from .validation import secret_fields

OAUTH_URL_KEYS = ("authorization_url", "token_url", "revoke_url")


def url_templates(manifest: dict[str, Any], scheme_key: str | None = None) -> Iterator[str]:
    """Every URL template a connector of this type (with this auth scheme, when given) may call."""
    yield manifest["base_url"]
    for scheme in manifest.get("auth_schemes") or []:
        if scheme_key is not None and scheme.get("key") != scheme_key:
            continue
        if scheme.get("base_url"):
            yield scheme["base_url"]
        for key in OAUTH_URL_KEYS:
            if (scheme.get("oauth") or {}).get(key):
                yield scheme["oauth"][key]
    for entity in (manifest.get("entities") or {}).values():
        for action in (entity.get("actions") or {}).values():
            if action.get("base_url"):
                yield action["base_url"]


def host_fields(manifest: dict[str, Any]) -> set[str]:
    """Field names (`replication_config.api_url`, `credentials.instance_url`) that decide a request's host."""
    fields: set[str] = set()
    for template in url_templates(manifest):
        end = _authority_end(template)
        for match in PLACEHOLDER.finditer(template):
            if match.start() == 0 or match.start() < end:
                source, _, name = match.group(1).partition(".")
                fields.add(f"{'replication_config' if source == 'config' else source}.{name}")
    return fields


def host_values(manifest: dict[str, Any], *, config: dict[str, Any], credentials: dict[str, Any]) -> dict[str, Any]:
    """The current value of each host field, with config defaults filled in: compare two to spot a move."""
    defaults = {
        name: prop.get("default")
        for name, prop in ((manifest.get("config_schema") or {}).get("properties") or {}).items()
        if isinstance(prop, dict)
    }
    out: dict[str, Any] = {}
    for field in sorted(host_fields(manifest)):
        source, _, name = field.partition(".")
        if source == "replication_config":
            value = config.get(name)
            out[field] = defaults.get(name) if value in (None, "") else value
        else:
            out[field] = credentials.get(name)
    return out


def host_errors(
    manifest: dict[str, Any], *, config: dict[str, Any], credentials: dict[str, Any], scheme_key: str | None
) -> list[FieldError]:
    """Field errors for host values that render to a URL this connector may not call. Missing values are left to
    schema validation (they say "required" more precisely)."""
    errors: dict[str, FieldError] = {}
    for template in dict.fromkeys(url_templates(manifest, scheme_key)):
        if "{" not in template:
            continue
        try:
            resolve_base_url(
                template,
                config_schema=manifest.get("config_schema"),
                config=config,
                credentials=credentials,
                allowed_hosts=manifest.get("allowed_hosts"),
            )
        except OperationInputError as exc:
            for error in exc.errors or []:
                if error.get("error_code") != "required":
                    errors.setdefault(error["field"], FieldError(error["field"], error["message"], "host_not_allowed"))
    return list(errors.values())


def require_credentials_for_move(
    manifest: dict[str, Any],
    scheme: dict[str, Any],
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
    schema = scheme.get("credentials_schema") or {}
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
    manifest: dict[str, Any],
    scheme: dict[str, Any],
    *,
    config: dict[str, Any],
    credentials: dict[str, Any],
    extra: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values a token response carries (Salesforce's instance_url): (accepted, refused field -> reason).

    A value is refused when it breaks the scheme's credential schema for that field (its pattern) or, for a host
    field, renders to a URL this connector may not call."""
    from .validation import schema_errors

    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    props = (scheme.get("credentials_schema") or {}).get("properties") or {}
    for name, value in extra.items():
        schema = props.get(name)
        problems = schema_errors(schema, value, prefix=f"credentials.{name}") if isinstance(schema, dict) else []
        if not problems:
            problems = [
                e
                for e in host_errors(
                    manifest, config=config, credentials={**credentials, name: value}, scheme_key=scheme.get("key")
                )
                if e.field == f"credentials.{name}"
            ]
        if problems:
            refused[name] = problems[0].message
        else:
            accepted[name] = value
    return accepted, refused

"""Filling URL templates (`base_url`, a scheme's or action's, OAuth endpoints), with credentials bound to their hosts.

A placeholder that starts the URL must be a whole http(s) origin; one inside it (a subdomain, a site) may only hold
host characters, so it cannot move the call elsewhere. A host that came from a placeholder (a value stored through the
API, or a token response) must be https and match the definition's `allowed_hosts` globs when it has them; only
`allow_http_hosts` (PATCHBAY_ALLOW_HTTP_HOSTS, loopback stand-ins, passed in by the caller) are exempt. Templates
without placeholders come from the deployment (manifests, overrides): trusted.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from connectors.catalog.templates import PLACEHOLDER, authority_end
from core.errors import OperationInputError

_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def resolve_base_url(
    template: str,
    *,
    config: Mapping[str, Any],
    credentials: Mapping[str, Any],
    config_defaults: Mapping[str, Any] | None = None,
    allowed_hosts: Collection[str] = (),
    allow_http_hosts: Collection[str] = (),
) -> str:
    """Fill {config.x} (falling back to `config_defaults`) and {credentials.x}; raise OperationInputError
    ("invalid_config", naming the field) for a missing value or one that would send the call to a host it may not
    go to."""
    origin_fields: list[str] = []
    end = authority_end(template)

    def sub(match: re.Match[str]) -> str:
        field, value = _placeholder_value(match.group(1), config, credentials, config_defaults or {})
        if match.start() == 0:
            origin_fields.append(field)
            return _checked_origin(field, value)
        _check_host_label(field, value)
        if match.start() < end:
            origin_fields.append(field)
        return value

    url = PLACEHOLDER.sub(sub, template).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OperationInputError("invalid_config", "The connector's base URL is not an http(s) URL.")
    if origin_fields:
        _check_bound_host(parts, origin_fields, allowed_hosts, allow_http_hosts)
    return url


def _placeholder_value(
    ref: str, config: Mapping[str, Any], credentials: Mapping[str, Any], defaults: Mapping[str, Any]
) -> tuple[str, str]:
    """(field name, value) of one placeholder, or OperationInputError when it is unknown or has no value."""
    source, _, name = ref.partition(".")
    if source == "config":
        value = config.get(name)
        if value in (None, ""):
            value = defaults.get(name)
        field = f"replication_config.{name}"
    elif source == "credentials":
        value = credentials.get(name)
        field = f"credentials.{name}"
    else:
        raise OperationInputError("invalid_config", f"base_url has an unknown placeholder {{{ref}}}.")
    if value in (None, "") or not isinstance(value, str):
        raise OperationInputError(
            "invalid_config",
            f"{field} is required to call this connector.",
            [{"field": field, "message": "This field is required.", "error_code": "required"}],
        )
    return field, value


def _checked_origin(field: str, value: str) -> str:
    """A value that starts the URL: a whole http(s) origin, without user info, query or fragment."""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise OperationInputError(
            "invalid_config",
            f"{field} must be an https URL without credentials, query or fragment.",
            [{"field": field, "message": "Must be a valid URL.", "error_code": "invalid_value"}],
        )
    return value.rstrip("/")


def _check_host_label(field: str, value: str) -> None:
    if not _HOST_LABEL.fullmatch(value):
        raise OperationInputError(
            "invalid_config",
            f"{field} may only contain letters, digits, dots and hyphens.",
            [{"field": field, "message": "Does not match the expected format.", "error_code": "invalid_value"}],
        )


def _check_bound_host(
    parts: SplitResult, fields: list[str], allowed_hosts: Collection[str], allow_http_hosts: Collection[str]
) -> None:
    host = (parts.hostname or "").lower()
    if host in {h.lower() for h in allow_http_hosts}:
        return
    problem = None
    if parts.scheme != "https":
        problem = "Must be an https URL."
    elif allowed_hosts and not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in allowed_hosts):
        problem = f"This connector type only calls {', '.join(allowed_hosts)}."
    if problem:
        raise OperationInputError(
            "invalid_config",
            f"{fields[0]} points requests at a host this connector may not use. {problem}",
            [{"field": field, "message": problem, "error_code": "host_not_allowed"} for field in fields],
        )

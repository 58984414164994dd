"""JSON Schema validation of credentials and replication_config, with field-level errors that never echo values."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from core.errors import FieldError, InvalidInput

from .catalog.manifest import AuthScheme, Manifest

SECRET_KEYWORDS = ("secret", "airbyte_secret")


def _join(prefix: str, parts: Iterable[Any]) -> str:
    out = prefix
    for part in parts:
        out = f"{out}[{part}]" if isinstance(part, int) else (f"{out}.{part}" if out else str(part))
    return out


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe(error: ValidationError) -> tuple[str, str]:
    """(message, error_code) from the schema alone: the submitted value may be a secret."""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"Expected {' or '.join(map(str, kinds))}.", "invalid_type"
    if kind in ("enum", "const"):
        choices = expected if kind == "enum" else [expected]
        return "Must be one of: " + ", ".join(json.dumps(c) if not isinstance(c, str) else c for c in choices) + ".", (
            "invalid_choice"
        )
    messages = {
        "minLength": f"Must be at least {_plural(expected, 'character')}.",
        "maxLength": f"Must be at most {_plural(expected, 'character')}.",
        "minItems": f"Must have at least {_plural(expected, 'item')}.",
        "maxItems": f"Must have at most {_plural(expected, 'item')}.",
        "minProperties": f"Must have at least {_plural(expected, 'property')}.",
        "maxProperties": f"Must have at most {_plural(expected, 'property')}.",
        "minimum": f"Must be at least {expected}.",
        "maximum": f"Must be at most {expected}.",
        "exclusiveMinimum": f"Must be greater than {expected}.",
        "exclusiveMaximum": f"Must be less than {expected}.",
        "multipleOf": f"Must be a multiple of {expected}.",
        "pattern": f"Does not match the expected format ({expected}).",
        "format": f"Must be a valid {expected}.",
        "uniqueItems": "Items must be unique.",
    }
    return messages.get(kind, "Invalid value."), "invalid_value"


FORMAT_CHECKER = FormatChecker()


# jsonschema checks date-time only with an optional package installed; vendors reject bad timestamps, so check here.
@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError("no time part")
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FORMAT_CHECKER)


def schema_errors(
    schema: dict[str, Any], instance: Any, *, prefix: str, schema_key: str | None = None
) -> list[FieldError]:
    """Every violation as a FieldError named from `prefix` (credentials, replication_config, params). `schema_key`
    is the schema as sorted JSON, when the caller already has it."""
    validator = _validator(schema_key or json.dumps(schema, sort_keys=True))
    errors: list[FieldError] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    errors.append(FieldError(_join(prefix, [*path, name]), "This field is required.", "required"))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
            for name in error.instance:
                if name not in known:
                    errors.append(FieldError(_join(prefix, [*path, str(name)]), "Unknown field.", "unknown_field"))
        else:
            message, code = _describe(error)
            errors.append(FieldError(_join(prefix, path), message, code))
    return errors


def secret_fields(schema: dict[str, Any]) -> set[str]:
    """The secret properties of a schema, and the other names (`aliases`) they may be sent under."""
    return {
        name
        for key, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and any(prop.get(k) for k in SECRET_KEYWORDS)
        for name in (key, *(prop.get("aliases") or ()))
    }


def _discriminator(schema: dict[str, Any]) -> tuple[str, Any] | None:
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and "const" in prop:
            return name, prop["const"]
    return None


def _scheme_summary(schemes: tuple[AuthScheme, ...]) -> str:
    parts = []
    for scheme in schemes:
        required = scheme.credentials_schema.get("required", [])
        disc = _discriminator(scheme.credentials_schema)
        label = f'"{scheme.title}"'
        if disc:
            label += f' ({disc[0]}="{disc[1]}")'
        parts.append(f"{label} with {', '.join(required) or 'no required fields'}")
    return "; ".join(parts)


def _required_of(scheme: AuthScheme) -> set[str]:
    """The fields a scheme requires, its discriminator (option_title) aside."""
    disc = _discriminator(scheme.credentials_schema)
    return set(scheme.credentials_schema.get("required", [])) - ({disc[0]} if disc else set())


def _best_of(candidates: list[AuthScheme]) -> AuthScheme | None:
    # The scheme that explains the most of what was sent: more required fields matched wins.
    return max(candidates, key=lambda s: len(_required_of(s)), default=None)


def _no_scheme_matches(schemes: tuple[AuthScheme, ...], field: str) -> InvalidInput:
    return InvalidInput(
        "The credentials match none of this connector type's auth schemes.",
        [FieldError(field, "Available auth schemes: " + _scheme_summary(schemes), "invalid_choice")],
    )


def _renames(scheme: AuthScheme, credentials: dict[str, Any]) -> dict[str, str]:
    """{alias the caller sent: the field it stands for} under this scheme."""
    return {name: field for name, field in scheme.credential_aliases.items() if name in credentials}


def canonical_credentials(scheme: AuthScheme, credentials: dict[str, Any]) -> dict[str, Any]:
    """The credentials with this scheme's aliases (Airbyte's `token`) under our field names. A field sent under
    two names with different values is left as sent, for validation to refuse (`credential_conflicts`)."""
    renames = _renames(scheme, credentials)
    if not renames:
        return dict(credentials)
    out = {k: v for k, v in credentials.items() if k not in renames}
    for alias, field in renames.items():
        if field in out and out[field] != credentials[alias]:
            out[alias] = credentials[alias]
        else:
            out[field] = credentials[alias]
    return out


def credential_conflicts(scheme: AuthScheme, credentials: dict[str, Any]) -> list[FieldError]:
    """A field and its alias both sent with different values: which one is meant is not ours to guess."""
    by_field: dict[str, list[str]] = {}
    for alias, field in _renames(scheme, credentials).items():
        by_field.setdefault(field, [field] if field in credentials else []).append(alias)
    errors = []
    for names in by_field.values():
        if len({json.dumps(credentials[n], sort_keys=True, default=str) for n in names}) > 1:
            message = f"Give one of {', '.join(names)}, not several: they are the same credential."
            errors += [FieldError(f"credentials.{n}", message, "conflicting_fields") for n in names]
    return errors


def select_auth_scheme(manifest: Manifest, credentials: dict[str, Any], *, requested: str | None = None) -> AuthScheme:
    """Pick the auth scheme: by key, by a discriminator such as option_title, else by the fields given (each
    scheme sees the credentials with its own aliases applied)."""
    schemes = manifest.auth_schemes
    if requested:
        scheme = manifest.find_scheme(requested)
        if scheme is None:
            raise InvalidInput(
                f"Unknown auth scheme {requested!r}.",
                [FieldError("auth_scheme", "Available: " + ", ".join(s.key for s in schemes), "invalid_choice")],
            )
        return scheme
    seen = {scheme.key: canonical_credentials(scheme, credentials) for scheme in schemes}
    # A discriminator value the caller sent decides, when one is declared (GitHub's option_title, also accepted as
    # credentials_title or auth_type).
    for scheme in schemes:
        disc = _discriminator(scheme.credentials_schema)
        if disc and seen[scheme.key].get(disc[0], None) == disc[1]:
            return scheme
    declared = {d[0] for s in schemes if (d := _discriminator(s.credentials_schema))}
    markers = declared | {a for s in schemes for a, f in s.credential_aliases.items() if f in declared}
    sent = markers & set(credentials)
    if sent:
        raise _no_scheme_matches(schemes, f"credentials.{sorted(sent)[0]}")
    exact = [s for s in schemes if _required_of(s) <= set(seen[s.key]) <= set(s.credential_properties)]
    # Every required field present but something extra sent: choose it, and let validation name the extras.
    loose = [s for s in schemes if _required_of(s) and _required_of(s) <= set(seen[s.key])]
    best = _best_of(exact) or _best_of(loose)
    if best is not None:
        return best
    # Nothing complete, but only one scheme knows every field sent: it is the one meant, and validation names what it
    # still needs (Google Ads OAuth credentials without the developer token) instead of "no scheme matches".
    fitting = [s for s in schemes if seen[s.key] and set(seen[s.key]) <= set(s.credential_properties)]
    if len(fitting) == 1:
        return fitting[0]
    if len(schemes) == 1:
        return schemes[0]
    raise _no_scheme_matches(schemes, "credentials")


def normalise_credentials(scheme: AuthScheme, credentials: dict[str, Any]) -> dict[str, Any]:
    disc = _discriminator(scheme.credentials_schema)
    if disc and disc[0] not in credentials:
        return {disc[0]: disc[1], **credentials}
    return dict(credentials)


def misplaced_config_errors(manifest: Manifest, keys: Iterable[str], *, where: str) -> list[FieldError]:
    """`repositories` put beside credentials (or at the top level) instead of inside replication_config."""
    config_props = set(manifest.config_properties)
    prefix = f"{where}." if where else ""
    return [
        FieldError(
            f"{prefix}{key}",
            f"'{key}' is configuration, not a credential: it belongs in replication_config "
            f'(e.g. "replication_config": {{"{key}": ...}}).',
            "misplaced_field",
        )
        for key in keys
        if key in config_props
    ]


def validate_credentials(
    manifest: Manifest,
    credentials: dict[str, Any],
    *,
    requested_scheme: str | None = None,
    missing_ok: Collection[str] = (),
) -> tuple[AuthScheme, dict[str, Any]]:
    """Returns (scheme, normalised credentials) or raises InvalidInput with every field error. `missing_ok`: fields
    that may stay missing (an update must not demand what the connector never had, such as the client id of an
    OAuth connector whose workspace app holds it)."""
    if not isinstance(credentials, dict):
        raise InvalidInput("Invalid credentials.", [FieldError("credentials", "Expected object.", "invalid_type")])
    misplaced = misplaced_config_errors(manifest, credentials, where="credentials")
    if misplaced:
        raise InvalidInput("Configuration was sent inside credentials.", misplaced)
    scheme = select_auth_scheme(manifest, credentials, requested=requested_scheme)
    conflicts = credential_conflicts(scheme, credentials)
    if conflicts:
        raise InvalidInput(f'Invalid credentials for auth scheme "{scheme.title}".', conflicts)
    normalised = normalise_credentials(scheme, canonical_credentials(scheme, credentials))
    errors = [
        e
        for e in _as_sent(
            schema_errors(scheme.credentials_schema, normalised, prefix="credentials"), scheme, credentials
        )
        if not (e.error_code == "required" and e.field.removeprefix("credentials.") in missing_ok)
    ]
    if errors:
        raise InvalidInput(f'Invalid credentials for auth scheme "{scheme.title}".', errors)
    return scheme, normalised


def _as_sent(errors: list[FieldError], scheme: AuthScheme, credentials: dict[str, Any]) -> list[FieldError]:
    """Errors name the field as the caller sent it (`credentials.token`, not `credentials.personal_access_token`)."""
    sent_as = {field: alias for alias, field in _renames(scheme, credentials).items() if field not in credentials}
    out = []
    for error in errors:
        name = error.field.removeprefix("credentials.")
        if name in sent_as:
            error = FieldError(f"credentials.{sent_as[name]}", error.message, error.error_code)
        out.append(error)
    return out


def validate_replication_config(manifest: Manifest, config: Any) -> dict[str, Any]:
    """The config as stored: a field that stands for another (`alias_of`, Jira's `subdomain` for `site`) is stored
    under that field, through its `template` ("acme" -> "acme.atlassian.net")."""
    schema = manifest.config_schema or {"type": "object"}
    if config is None:
        config = {}
    aliases = _config_aliases(schema) if isinstance(config, dict) else {}
    standing_in = {f"replication_config.{aliases[name][0]}" for name in aliases if config.get(name) not in (None, "")}
    errors = [
        e
        for e in schema_errors(schema, config, prefix="replication_config")
        if not (e.error_code == "required" and e.field in standing_in)
    ]
    if not errors and aliases:
        config, errors = _apply_config_aliases(schema, config, aliases)
    others = {f"replication_config.{target}": name for name, (target, *_) in aliases.items()}
    errors = [
        FieldError(e.field, f"{e.message} Also accepted as {others[e.field]}.", e.error_code)
        if e.error_code == "required" and e.field in others
        else e
        for e in errors
    ]
    if errors:
        names = ", ".join(e.field.removeprefix("replication_config.") for e in errors)
        raise InvalidInput(f"Invalid replication_config: {names}.", errors)
    return dict(config)


def _config_aliases(schema: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, str]]]:
    """{config field: (the field it stands for, template)} from the properties' `alias_of` and `template`; a
    `values` map (Amazon's region NA -> its API host) is the template "{value}" looked up in it."""
    return {
        name: (prop["alias_of"], prop.get("template") or "{value}", prop.get("values") or {})
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and prop.get("alias_of")
    }


def _apply_config_aliases(
    schema: dict[str, Any], config: dict[str, Any], aliases: dict[str, tuple[str, str, dict[str, str]]]
) -> tuple[dict[str, Any], list[FieldError]]:
    out = {k: v for k, v in config.items() if k not in aliases}
    sent_as: dict[str, str] = {}
    errors: list[FieldError] = []
    for name, (target, template, values) in aliases.items():
        value = config.get(name)
        if value in (None, ""):
            continue
        value = template.replace("{value}", value) if isinstance(value, str) else value
        value = values.get(value, value) if isinstance(value, str) else value
        if out.get(target) not in (None, "") and out[target] != value:
            message = (
                f"{name} and {target} disagree ({name} stands for {target} "
                f"{template.replace('{value}', f'<{name}>')!r}): give one of them, or both naming the same {target}."
            )
            errors += [FieldError(f"replication_config.{n}", message, "conflicting_fields") for n in (target, name)]
            continue
        out[target] = value
        sent_as[target] = name
    if not errors:
        # The value made from the alias must suit its field too; an error names the field the caller sent.
        for error in schema_errors(schema, out, prefix="replication_config"):
            head, dot, rest = error.field.removeprefix("replication_config.").partition(".")
            field = f"replication_config.{sent_as[head]}{dot}{rest}" if head in sent_as else error.field
            errors.append(FieldError(field, error.message, error.error_code))
    return out, errors

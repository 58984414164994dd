"""Reads and validates catalog manifests (docs/catalog.md), and builds the typed manifest from them.

A bad manifest fails with file, path and message. This is the only module that reads manifest dicts: everything
else gets a `Manifest` from `build_manifest` (a file) or `manifest_for` (a definition row, cached).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml
from django.conf import settings
from jsonschema import Draft202012Validator

from .manifest import (
    CLAIM_FILTERS,
    CLAIM_PLACEHOLDER,
    FINGERPRINT,
    Action,
    ApplyRule,
    AuthScheme,
    Check,
    Entity,
    ErrorSpec,
    JwtSpec,
    Manifest,
    OAuthSpec,
    Pagination,
    RateLimit,
    derive_rules,
)

if TYPE_CHECKING:
    from connectors.models import ConnectorDefinition

BUILTIN_DIR = Path(__file__).resolve().parent / "manifests"
SCHEMA_PATH = Path(__file__).resolve().parent / "manifest.schema.json"


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class LoadedManifest:
    path: Path
    data: dict[str, Any]

    @property
    def manifest(self) -> Manifest:
        """The typed manifest of this file, without deployment overrides."""
        return build_manifest(self.data)


# libyaml's safe loader parses the catalog several times faster than the pure-Python one; same documents out.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def manifest_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate_manifest(data: Any, *, path: Path | str) -> None:
    errors = sorted(manifest_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ManifestError(f"{path}: {_json_path(first.absolute_path)}: {first.message}{more}")
    _check_semantics(data, path=path)


def _check_semantics(data: dict[str, Any], *, path: Path | str) -> None:
    keys = [scheme["key"] for scheme in data["auth_schemes"]]
    if len(keys) != len(set(keys)):
        raise ManifestError(f"{path}: $.auth_schemes: scheme keys must be unique, got {keys}")
    for index, scheme in enumerate(data["auth_schemes"]):
        _check_credential_aliases(scheme, where=f"{path}: $.auth_schemes[{index}].credential_aliases")
        _check_claims(scheme, where=f"{path}: $.auth_schemes[{index}].apply")
        _check_account_lookup(scheme, where=f"{path}: $.auth_schemes[{index}].oauth")
    _check_aliases(data["entities"], path=path)
    _check_config_aliases(data.get("config_schema") or {}, path=path)
    _check_config_derivations(data.get("config_schema") or {}, path=path)
    built = build_manifest(data)
    _check_whole_body(built, path=path)
    _check_media(built, path=path)
    check = data.get("check")
    if check and built.find_action(check["entity"], check["action"]) is None:
        raise ManifestError(f"{path}: $.check: {check['entity']}.{check['action']} is not an action of this manifest")


def _check_credential_aliases(scheme: Mapping[str, Any], *, where: str) -> None:
    fields = set(scheme["credentials_schema"].get("properties") or {})
    for alias, target in (scheme.get("credential_aliases") or {}).items():
        if target not in fields:
            raise ManifestError(f"{where}.{alias}: {target!r} is not a credential field of this scheme")
        if alias in fields:
            raise ManifestError(f"{where}.{alias}: an alias may not be a credential field's own name")


def _check_claims(scheme: Mapping[str, Any], *, where: str) -> None:
    """A `jwt` rule's claim templates use known filters, and its private key is a credential field."""
    fields = set(scheme["credentials_schema"].get("properties") or {})
    for index, rule in enumerate(scheme["apply"]):
        spec = rule.get("jwt") if rule["type"] == "jwt" else None
        if spec is None:
            continue
        if spec.get("private_key", "private_key") not in fields:
            raise ManifestError(f"{where}[{index}].jwt.private_key: not a credential field of this scheme")
        if spec.get("passphrase") and spec["passphrase"] not in fields:
            raise ManifestError(f"{where}[{index}].jwt.passphrase: not a credential field of this scheme")
        for claim, template in (spec.get("claims") or {}).items():
            for match in CLAIM_PLACEHOLDER.finditer(template):
                unknown = [f for f in match.group(2).split("|")[1:] if f not in CLAIM_FILTERS]
                if unknown:
                    raise ManifestError(f"{where}[{index}].jwt.claims.{claim}: unknown filter {unknown[0]!r}")
                name = match.group(1)
                if not name.startswith("config.") and name != FINGERPRINT and name not in fields:
                    raise ManifestError(f"{where}[{index}].jwt.claims.{claim}: {{{name}}} is not a credential field")


def _check_account_lookup(scheme: Mapping[str, Any], *, where: str) -> None:
    """An account lookup fills credential fields of its scheme, and needs a URL to ask."""
    oauth = scheme.get("oauth") or {}
    fields = set(scheme["credentials_schema"].get("properties") or {})
    if bool(oauth.get("account_url")) != bool(oauth.get("account_fields")):
        raise ManifestError(f"{where}: account_url and account_fields go together")
    for name in oauth.get("account_fields") or {}:
        if name not in fields:
            raise ManifestError(f"{where}.account_fields.{name}: not a credential field of this scheme")


def _check_config_derivations(schema: Mapping[str, Any], *, path: Path | str) -> None:
    """A `{config, values}` derive rule reads another config property of this manifest."""
    props = schema.get("properties") or {}
    for name, prop in props.items():
        for rule in derive_rules(prop):
            source = rule.get("config")
            if source is not None and (source == name or source not in props):
                where = f"{path}: $.config_schema.properties.{name}.derive"
                raise ManifestError(f"{where}: {source!r} is not another config field of this manifest")


def _check_config_aliases(schema: Mapping[str, Any], *, path: Path | str) -> None:
    props = schema.get("properties") or {}
    for name, prop in props.items():
        target = prop.get("alias_of") if isinstance(prop, dict) else None
        if target is not None and (target == name or target not in props or props[target].get("alias_of")):
            where = f"{path}: $.config_schema.properties.{name}.alias_of"
            raise ManifestError(f"{where}: {target!r} is not another config field of this manifest")


def _check_aliases(entities: Mapping[str, Any], *, path: Path | str) -> None:
    """Every name a caller may use (entity.action, through aliases too) names exactly one action; param aliases
    never shadow a param."""
    names: dict[str, str] = {}

    def claim(name: str, target: str, where: str) -> None:
        if names.get(name, target) != target:
            raise ManifestError(f"{path}: {where}: {name} already names {names[name]}")
        names[name] = target

    for entity, spec in entities.items():
        for action in spec["actions"]:
            claim(f"{entity}.{action}", f"{entity}.{action}", f"$.entities.{entity}.actions.{action}")
    for entity, spec in entities.items():
        for alias in spec.get("aliases") or ():
            if alias in entities:
                raise ManifestError(f"{path}: $.entities.{entity}.aliases: {alias} is an entity of its own")
        for action, action_spec in spec["actions"].items():
            where = f"$.entities.{entity}.actions.{action}"
            target = f"{entity}.{action}"
            local = [action, *(a for a in action_spec.get("aliases") or () if "." not in a)]
            for entity_name in [entity, *(spec.get("aliases") or ())]:
                for name in local:
                    claim(f"{entity_name}.{name}", target, f"{where}.aliases")
            for alias in action_spec.get("aliases") or ():
                if "." in alias:
                    claim(alias, target, f"{where}.aliases")
            properties = (action_spec.get("params") or {}).get("properties") or {}
            seen: set[str] = set()
            for name, prop in properties.items():
                for alias in prop.get("aliases") or () if isinstance(prop, dict) else ():
                    if alias in properties or alias in seen:
                        raise ManifestError(f"{path}: {where}.params.properties.{name}.aliases: {alias} is taken")
                    seen.add(alias)


def _check_whole_body(manifest: Manifest, *, path: Path | str) -> None:
    """A `whole_body` param is the entire JSON body: one per action, in a JSON body, with no other body params."""
    for entity in manifest.entities.values():
        for action in entity.actions.values():
            whole = [n for n, p in action.param_properties.items() if isinstance(p, dict) and p.get("whole_body")]
            if not whole:
                continue
            where = f"{path}: $.entities.{entity.name}.actions.{action.name}.params.properties.{whole[0]}.whole_body"
            if len(whole) > 1:
                raise ManifestError(f"{where}: only one param may be the whole body, got {', '.join(whole)}")
            if action.body_kind != "json" or action.method not in ("POST", "PUT", "PATCH"):
                raise ManifestError(f"{where}: only a POST, PUT or PATCH with a JSON body has a whole body")
            in_path = set(re.findall(r"\{([^{}]+)\}", action.path))
            others = []
            for name, prop in action.param_properties.items():
                where_to = prop.get("in") if isinstance(prop, dict) else None
                if name != whole[0] and (where_to == "body" or (where_to is None and name not in in_path)):
                    others.append(name)
            if others:
                raise ManifestError(f"{where}: {', '.join(others)} would go in the body beside it")


def _check_media(manifest: Manifest, *, path: Path | str) -> None:
    """A `multipart_related` body (Google's multipart upload) is a write with exactly one `media: content` param;
    `media` params belong to such bodies only."""
    for entity in manifest.entities.values():
        for action in entity.actions.values():
            media = [p.get("media") for p in action.param_properties.values() if isinstance(p, dict) and p.get("media")]
            where = f"{path}: $.entities.{entity.name}.actions.{action.name}"
            if action.body_kind != "multipart_related":
                if media:
                    raise ManifestError(f"{where}.params: `media` params need body multipart_related")
                continue
            if action.method not in ("POST", "PUT", "PATCH"):
                raise ManifestError(f"{where}.body: multipart_related needs a POST, PUT or PATCH")
            if media.count("content") != 1 or media.count("content_type") > 1:
                raise ManifestError(f"{where}.params: multipart_related needs one `media: content` param")


def load_file(path: Path) -> LoadedManifest:
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader, libyaml's when built
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML: {exc}") from exc
    validate_manifest(data, path=path)
    return LoadedManifest(path=path, data=data)


def manifest_dirs() -> list[Path]:
    return [BUILTIN_DIR, *(Path(p) for p in settings.PATCHBAY_CATALOG_DIRS)]


def load_catalog(dirs: Iterable[Path] | None = None) -> list[LoadedManifest]:
    loaded: list[LoadedManifest] = []
    seen: dict[str, Path] = {}
    for directory in dirs if dirs is not None else manifest_dirs():
        if not directory.is_dir():
            raise ManifestError(f"{directory}: catalog directory does not exist (PATCHBAY_CATALOG_DIRS)")
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml"), *directory.glob("*.json")]):
            manifest = load_file(path)
            for ident in (manifest.data["slug"], manifest.data["definition_id"]):
                if ident in seen:
                    raise ManifestError(f"{path}: {ident} is already defined in {seen[ident]}")
                seen[ident] = path
            loaded.append(manifest)
    return loaded


# --- The typed manifest -------------------------------------------------------------------------------------------


def build_manifest(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> Manifest:
    """The typed manifest of validated manifest data, as this deployment sees it.

    `overrides` is PATCHBAY_CATALOG_OVERRIDES[slug]: `base_url` replaces the manifest's base_url and also every scheme-
    and action-level one (Jira's OAuth API gateway, Google Drive), so a test server or sandbox sees every request;
    `authorization_url`, `token_url` and `revoke_url` replace those of every OAuth scheme."""
    overrides = overrides or {}
    return Manifest(
        definition_id=data["definition_id"],
        slug=data["slug"],
        name=data["name"],
        version=str(data["version"]),
        base_url=overrides.get("base_url", data["base_url"]),
        auth_schemes=tuple(_auth_scheme(scheme, overrides) for scheme in data["auth_schemes"]),
        entities=MappingProxyType(
            {name: _entity(name, entity, overrides) for name, entity in data["entities"].items()}
        ),
        description=data.get("description", ""),
        icon=data.get("icon", ""),
        docs_url=data.get("docs_url"),
        allowed_hosts=tuple(data.get("allowed_hosts") or ()),
        headers=MappingProxyType(dict(data.get("headers") or {})),
        config_schema=data.get("config_schema"),
        rate_limit=RateLimit(**_known(RateLimit, data.get("rate_limit"))),
        errors=_error_spec(data.get("errors")),
        check=Check(**_known(Check, data["check"])) if data.get("check") else None,
        idempotency_header=data.get("idempotency_header"),
        query_arrays=data.get("query_arrays", "repeat"),
    )


def _known(cls: type, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keys of `data` that are fields of the dataclass `cls` (validation has already refused the rest)."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in (data or {}).items() if key in names}


def _overridden_url(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> str | None:
    """A scheme's or action's own base_url, replaced by the deployment's base_url override when it has one."""
    if "base_url" in data and "base_url" in overrides:
        return overrides["base_url"]
    return data.get("base_url")


def _auth_scheme(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> AuthScheme:
    return AuthScheme(
        key=data["key"],
        title=data["title"],
        type=data["type"],
        credentials_schema=data["credentials_schema"],
        apply=tuple(_apply_rule(rule) for rule in data["apply"]),
        description=data.get("description", ""),
        base_url=_overridden_url(data, overrides),
        oauth=build_oauth_spec(data["oauth"], overrides) if data.get("oauth") else None,
        credential_aliases=MappingProxyType(dict(data.get("credential_aliases") or {})),
    )


def _apply_rule(data: Mapping[str, Any]) -> ApplyRule:
    values = _known(ApplyRule, data)
    if values.get("jwt") is not None:
        values["jwt"] = _jwt_spec(values["jwt"])
    return ApplyRule(**values)


def _jwt_spec(data: Mapping[str, Any]) -> JwtSpec:
    values = _known(JwtSpec, data)
    values["claims"] = MappingProxyType(dict(values.get("claims") or {}))
    return JwtSpec(**values)


def build_oauth_spec(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> OAuthSpec:
    """The typed `oauth` block of an auth scheme; `overrides` may replace its URLs (PATCHBAY_CATALOG_OVERRIDES)."""
    overrides = overrides or {}
    values = {**_known(OAuthSpec, data), **{key: overrides[key] for key in OAuthSpec.URL_KEYS if key in overrides}}
    values["scopes"] = tuple(values.get("scopes") or ())
    values["scope_separator"] = values.get("scope_separator") or " "
    values["scope_param"] = values.get("scope_param") or "scope"
    values["authorize_params"] = MappingProxyType(dict(values.get("authorize_params") or {}))
    values["token_response_fields"] = tuple(values.get("token_response_fields") or ())
    values["account_fields"] = MappingProxyType(dict(values.get("account_fields") or {}))
    if values.get("jwt") is not None:
        values["jwt"] = _jwt_spec(values["jwt"])
    return OAuthSpec(**values)


def _entity(name: str, data: Mapping[str, Any], overrides: Mapping[str, Any]) -> Entity:
    actions = {key: _action(name, key, action, overrides) for key, action in data["actions"].items()}
    return Entity(
        name=name,
        actions=MappingProxyType(actions),
        description=data.get("description", ""),
        aliases=tuple(data.get("aliases") or ()),
    )


def _action(entity: str, name: str, data: Mapping[str, Any], overrides: Mapping[str, Any]) -> Action:
    graphql = data.get("graphql")
    return Action(
        entity=entity,
        name=name,
        method=data["method"],
        path=data["path"],
        description=data.get("description", ""),
        body=data.get("body"),
        graphql_query=graphql.get("query", "") if graphql else None,
        headers=MappingProxyType(dict(data.get("headers") or {})),
        params=data.get("params"),
        records=data.get("records"),
        record=data.get("record"),
        pagination=Pagination(**_known(Pagination, data.get("pagination"))),
        base_url=_overridden_url(data, overrides),
        idempotent=data.get("idempotent"),
        read_only=data.get("read_only"),
        defaults=data.get("defaults") or {},
        aliases=tuple(data.get("aliases") or ()),
        response=data.get("response", "json"),
        result_headers=MappingProxyType(dict(data.get("result_headers") or {})),
    )


def _error_spec(data: Mapping[str, Any] | None) -> ErrorSpec:
    values = _known(ErrorSpec, data)
    values["codes"] = MappingProxyType(dict(values.get("codes") or {}))
    values["graphql"] = bool(values.get("graphql"))
    values["success_codes"] = tuple(values.get("success_codes") or ())
    return ErrorSpec(**values)


# (definition id, updated_at, overrides) -> (the manifest_json it was built from, the typed manifest). Every catalog
# change saves the row and bumps updated_at, so hot paths can defer manifest_json and never read or parse it.
_MANIFESTS: dict[tuple[str, Any, str], tuple[str, Manifest]] = {}
_MANIFESTS_LIMIT = 512


def manifest_for(definition: ConnectorDefinition) -> Manifest:
    """The typed manifest of a definition row with this deployment's PATCHBAY_CATALOG_OVERRIDES applied.

    Built once per process and shared: cached by (definition id, updated_at, overrides)."""
    overrides = settings.PATCHBAY_CATALOG_OVERRIDES.get(definition.slug) or {}
    key = (str(definition.pk), definition.updated_at, json.dumps(overrides, sort_keys=True))
    saved = definition.updated_at is not None
    cached = _MANIFESTS.get(key) if saved else None
    # When the text is loaded anyway, it is the truth (an edit not saved yet, say).
    loaded = "manifest_json" not in definition.get_deferred_fields()
    if cached is None or (loaded and cached[0] != definition.manifest_json):
        text = definition.manifest_json  # reads a deferred field once
        cached = (text, build_manifest(json.loads(text), overrides))
        if saved:
            if len(_MANIFESTS) >= _MANIFESTS_LIMIT:
                _MANIFESTS.clear()
            _MANIFESTS[key] = cached
    return cached[1]

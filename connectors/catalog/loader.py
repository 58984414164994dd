"""Reads and validates catalog manifests (docs/catalog.md). A bad manifest fails with file, path and message."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from jsonschema import Draft202012Validator

BUILTIN_DIR = Path(__file__).resolve().parent / "manifests"
SCHEMA_PATH = Path(__file__).resolve().parent / "manifest.schema.json"


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class LoadedManifest:
    path: Path
    data: dict[str, Any]


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
    check = data.get("check")
    if check:
        entity = data.get("entities", {}).get(check["entity"], {})
        if check["action"] not in entity.get("actions", {}):
            raise ManifestError(
                f"{path}: $.check: {check['entity']}.{check['action']} is not an action of this manifest"
            )


def load_file(path: Path) -> LoadedManifest:
    try:
        data = yaml.safe_load(path.read_text())
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


OAUTH_OVERRIDE_KEYS = ("authorization_url", "token_url", "revoke_url")


def apply_overrides(manifest: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest as this deployment sees it: PATCHBAY_CATALOG_OVERRIDES[slug] applied on top."""
    if overrides is None:
        overrides = settings.PATCHBAY_CATALOG_OVERRIDES.get(manifest["slug"]) or {}
    if not overrides:
        return manifest
    merged = copy.deepcopy(manifest)
    if "base_url" in overrides:
        # One host for everything the connector calls: scheme- and action-level hosts (Jira's OAuth API
        # gateway, Google Drive) follow the override too, so a test server or sandbox sees every request.
        merged["base_url"] = overrides["base_url"]
        for scheme in merged["auth_schemes"]:
            if "base_url" in scheme:
                scheme["base_url"] = overrides["base_url"]
        for entity in merged.get("entities", {}).values():
            for action in entity.get("actions", {}).values():
                if "base_url" in action:
                    action["base_url"] = overrides["base_url"]
    for scheme in merged["auth_schemes"]:
        oauth = scheme.get("oauth")
        if oauth is not None:
            for key in OAUTH_OVERRIDE_KEYS:
                if key in overrides:
                    oauth[key] = overrides[key]
    return merged

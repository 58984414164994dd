"""The public description of a connector type: what an API caller needs, nothing internal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .loader import build_manifest
from .manifest import AuthScheme, Manifest
from .params import describe_actions


def public_description(manifest: Manifest | Mapping[str, Any]) -> dict[str, Any]:
    """The API's description of a connector type. A plain mapping is the validated data of one manifest file
    (what the SDK generator reads) and is built first, without deployment overrides."""
    if not isinstance(manifest, Manifest):
        manifest = build_manifest(manifest)
    return {
        "description": manifest.description,
        "docsUrl": manifest.docs_url,
        "version": manifest.version,
        "authSchemesDetail": [_scheme_detail(scheme) for scheme in manifest.auth_schemes],
        "replicationConfigSchema": manifest.config_schema or {"type": "object", "properties": {}},
        "entities": describe_actions(manifest),
    }


def _scheme_detail(scheme: AuthScheme) -> dict[str, Any]:
    return {
        "key": scheme.key,
        "title": scheme.title,
        "type": scheme.type,
        "description": scheme.description,
        "credentialsSchema": scheme.credentials_schema,
        # Other names a credential may be sent under (Airbyte's): stored under the field's own name.
        "credentialAliases": dict(scheme.credential_aliases),
        "oauth": {"scopes": list(scheme.oauth.scopes)} if scheme.oauth is not None else None,
    }

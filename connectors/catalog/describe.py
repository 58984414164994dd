"""The public description of a connector type: what an API caller needs, nothing internal."""

from __future__ import annotations

from typing import Any


def public_description(manifest: dict[str, Any]) -> dict[str, Any]:
    try:
        from .params import describe_actions
    except ImportError:  # params module lands with the execution engine
        describe_actions = None
    entities = (
        describe_actions(manifest)
        if describe_actions
        else {
            name: {
                "description": entity.get("description", ""),
                "actions": {
                    a: {"description": spec.get("description", ""), "params": spec.get("params", {"type": "object"})}
                    for a, spec in entity["actions"].items()
                },
            }
            for name, entity in manifest["entities"].items()
        }
    )
    return {
        "description": manifest.get("description", ""),
        "docsUrl": manifest.get("docs_url"),
        "version": str(manifest["version"]),
        "authSchemesDetail": [
            {
                "key": s["key"],
                "title": s["title"],
                "type": s["type"],
                "description": s.get("description", ""),
                "credentialsSchema": s["credentials_schema"],
                "oauth": {"scopes": s["oauth"].get("scopes", [])} if s.get("oauth") else None,
            }
            for s in manifest["auth_schemes"]
        ],
        "replicationConfigSchema": manifest.get("config_schema") or {"type": "object", "properties": {}},
        "entities": entities,
    }

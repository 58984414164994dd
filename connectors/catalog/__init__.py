"""The connector catalog: manifests on disk, validated and built into typed `Manifest` objects (docs/catalog.md)."""

from __future__ import annotations

from .loader import ManifestError, build_manifest, build_oauth_spec, manifest_for
from .manifest import (
    Action,
    ApplyRule,
    AuthScheme,
    Check,
    Entity,
    ErrorSpec,
    Manifest,
    OAuthSpec,
    Pagination,
    RateLimit,
    UnknownAuthScheme,
    UnknownOperation,
)

__all__ = [
    "Action",
    "ApplyRule",
    "AuthScheme",
    "Check",
    "Entity",
    "ErrorSpec",
    "Manifest",
    "ManifestError",
    "OAuthSpec",
    "Pagination",
    "RateLimit",
    "UnknownAuthScheme",
    "UnknownOperation",
    "build_manifest",
    "build_oauth_spec",
    "manifest_for",
]

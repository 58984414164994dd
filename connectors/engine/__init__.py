"""The HTTP execution engine: runs a catalog manifest's action against the vendor API (docs/catalog.md).

Pure Python + requests; no ORM, no settings. Callers pass the typed manifest, decrypted credentials, the connector's
replication_config, and the limits and http-allowed hosts of this deployment.
"""

from __future__ import annotations

from connectors.catalog.manifest import UnknownOperation
from core.errors import OperationInputError, UpstreamError

from .executor import OperationResult, execute_operation
from .http import Limits, new_session, shared_session
from .urls import resolve_base_url

__all__ = [
    "Limits",
    "OperationInputError",
    "OperationResult",
    "UnknownOperation",
    "UpstreamError",
    "execute_operation",
    "new_session",
    "resolve_base_url",
    "shared_session",
]

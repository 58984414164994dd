"""The HTTP execution engine: runs a catalog manifest's action against the vendor API (docs/catalog.md).

Pure Python + requests; no ORM. Callers pass decrypted credentials and the connector's replication_config.
"""

from __future__ import annotations

from connectors.catalog.params import UnknownOperation

from .errors import (
    BadRequest,
    ConnectionFailed,
    CredentialsRejected,
    InvalidResponse,
    NotFoundUpstream,
    OperationInputError,
    RateLimited,
    ResponseTooLarge,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .executor import OperationResult, execute_operation, resolve_base_url
from .http import new_session, shared_session

__all__ = [
    "BadRequest",
    "ConnectionFailed",
    "CredentialsRejected",
    "InvalidResponse",
    "NotFoundUpstream",
    "OperationInputError",
    "OperationResult",
    "RateLimited",
    "ResponseTooLarge",
    "UnknownOperation",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "execute_operation",
    "new_session",
    "resolve_base_url",
    "shared_session",
]

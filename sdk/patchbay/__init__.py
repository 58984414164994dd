"""Patchbay SDK: store third-party credentials once as connectors, then run operations against those APIs.

from patchbay import Workspace, connect

stripe = connect("stripe")
try:
    customers = await stripe.execute("customers", "list", params={"limit": 10})
finally:
    await stripe.close()
"""

from __future__ import annotations

from ._version import __version__
from .connectors import connect
from .errors import (
    AuthenticationError,
    Candidate,
    ConfigurationError,
    ConnectorAmbiguityError,
    ConnectorNotFoundError,
    ConnectorValidationError,
    CredentialsRejectedError,
    FieldError,
    NotFoundError,
    PatchbayConnectionError,
    PatchbayError,
    RateLimitError,
    ServerError,
    UnknownConnectorError,
    UpstreamError,
)
from .executor import HostedExecutor
from .models import (
    AuthScheme,
    CheckResult,
    ConnectorDetail,
    ConnectorInfo,
    ConnectSession,
    Definition,
    ExecutionResult,
)
from .workspace import Workspace

__all__ = [
    "AuthScheme",
    "AuthenticationError",
    "Candidate",
    "CheckResult",
    "ConfigurationError",
    "ConnectorAmbiguityError",
    "ConnectorDetail",
    "ConnectorInfo",
    "ConnectSession",
    "ConnectorNotFoundError",
    "ConnectorValidationError",
    "CredentialsRejectedError",
    "Definition",
    "ExecutionResult",
    "FieldError",
    "HostedExecutor",
    "NotFoundError",
    "PatchbayConnectionError",
    "PatchbayError",
    "RateLimitError",
    "ServerError",
    "UnknownConnectorError",
    "UpstreamError",
    "Workspace",
    "__version__",
    "connect",
]

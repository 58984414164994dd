"""Every error the SDK raises derives from `PatchbayError`; each message says what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a request, as the server reported it."""

    field: str
    message: str
    error_code: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} ({self.error_code})"


@dataclass(frozen=True)
class Candidate:
    """A connector that matched a slug when several did."""

    id: str
    name: str


class PatchbayError(Exception):
    """Base class. `status` is the HTTP status (None when no response came back), `body` the decoded error body."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        errors: list[FieldError] | None = None,
        body: dict[str, Any] | None = None,
        execution_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.errors: list[FieldError] = list(errors or [])
        self.body: dict[str, Any] = body or {}
        self.execution_id = execution_id

    def __str__(self) -> str:
        return self.message


class ConfigurationError(PatchbayError):
    """The SDK is missing configuration it needs (an API key or a valid base URL)."""


class PatchbayConnectionError(PatchbayError):
    """Patchbay could not be reached (after retries, for idempotent requests)."""


class ServerError(PatchbayError):
    """Patchbay itself failed (5xx that is not about the third-party service)."""


class AuthenticationError(PatchbayError):
    """401/403: the Patchbay API key is missing, malformed, unknown, revoked or not allowed to do this."""


class ConnectorValidationError(PatchbayError):
    """422: the request's content is wrong. `.errors` lists each field with a message and an error_code."""


class NotFoundError(PatchbayError):
    """404: the object does not exist or is not visible to this API key (or the third-party record does not exist,
    in which case `error_code` is "not_found" and `execution_id` is set)."""


class ConnectorNotFoundError(NotFoundError):
    """The workspace has no connector of this type, or the connector id is unknown to this workspace."""


class UnknownConnectorError(NotFoundError):
    """No connector type (definition) has this slug."""


class ConnectorAmbiguityError(PatchbayError):
    """Several connectors of the type exist; pass connector_id= to choose. `.candidates` lists them."""

    def __init__(self, message: str, *, candidates: list[Candidate] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.candidates: list[Candidate] = list(candidates or [])


class RateLimitError(PatchbayError):
    """429: too many requests (usually the third-party API's limit). `.retry_after` is seconds to wait, or None."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamError(PatchbayError):
    """The third-party API failed or could not be reached. `.status` is Patchbay's HTTP status, `.upstream_status`
    the third party's own status (when it answered), `.error_code` the reason (upstream_error, timeout, …)."""

    def __init__(self, message: str, *, upstream_status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.upstream_status = upstream_status


class CredentialsRejectedError(UpstreamError):
    """The third-party API rejected the stored credentials (or the OAuth grant needs re-authorising)."""


__all__ = [
    "AuthenticationError",
    "Candidate",
    "ConfigurationError",
    "ConnectorAmbiguityError",
    "ConnectorNotFoundError",
    "ConnectorValidationError",
    "CredentialsRejectedError",
    "FieldError",
    "NotFoundError",
    "PatchbayConnectionError",
    "PatchbayError",
    "RateLimitError",
    "ServerError",
    "UnknownConnectorError",
    "UpstreamError",
]

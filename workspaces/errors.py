"""Domain errors every layer shares. The API and the dashboard map them to responses; services raise them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    error_code: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "error_code": self.error_code}


class PatchbayError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class InvalidInput(PatchbayError):
    """422: the request is well-formed but its content is wrong; `errors` names each field."""

    message: str
    errors: list[FieldError] = field(default_factory=list)
    status_code = 422

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotFound(PatchbayError):
    status_code = 404


class NotFoundWithErrors(NotFound):
    """404 that says which input pointed at nothing (e.g. an unknown connector_type)."""

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message)
        self.errors = errors


class Conflict(PatchbayError):
    status_code = 409

    def __init__(self, message: str, *, candidates: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class AuthenticationFailed(PatchbayError):
    status_code = 401


class PermissionDenied(PatchbayError):
    status_code = 403


class ServiceUnavailable(PatchbayError):
    """503: a dependency (the database, the task queue) is unreachable; try again after `retry_after` seconds.
    `extra` adds facts to the body, such as the id of an execution that was kept and will still run."""

    status_code = 503

    def __init__(self, message: str, *, retry_after: int, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.extra = extra or {}

"""Patchbay's one error family. Services raise these; the API and the dashboard turn them into answers
(core/http.py holds the one code -> HTTP status table).

Every error has a stable `code` and says whether it is `permanent`: whether trying the same thing again, unchanged,
can ever work (healthchecks' TransportError idea). Retries read `permanent`; connector status reads the code.

Messages are written by us. They never contain a credential or a value the caller sent that could be one: upstream
messages are scrubbed of credential values first, and an exception's own text (which for a requests error can hold
a full URL with a query-string credential) is never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    error_code: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "error_code": self.error_code}


class PatchbayError(Exception):
    """The root. `code` names the failure for machines, `message` for people."""

    code = "error"
    permanent = True

    def __init__(self, message: str, *, code: str | None = None, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        return self.message


# --- The caller's request -----------------------------------------------------------------------------------------


class InvalidInput(PatchbayError):
    """The request is well-formed but its content is wrong; `errors` names each field."""

    code = "invalid_input"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


class NotFound(PatchbayError):
    code = "not_found"


class NotFoundWithErrors(NotFound):
    """Not found, saying which input pointed at nothing (e.g. an unknown connector_type)."""

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message)
        self.errors = errors


class SessionUnavailable(PatchbayError):
    """A connect session's hosted page cannot go on: the token is forged (`invalid_session`), expired
    (`session_expired`) or already used (`session_used`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class Conflict(PatchbayError):
    code = "conflict"

    def __init__(self, message: str, *, candidates: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class AuthenticationFailed(PatchbayError):
    code = "unauthenticated"


class PermissionDenied(PatchbayError):
    code = "forbidden"


# --- Patchbay's own dependencies ----------------------------------------------------------------------------------


class ServiceUnavailable(PatchbayError):
    """A dependency (the database, the task queue) is unreachable: try again after `retry_after` seconds.
    `extra` adds facts to the answer, such as the id of an execution that was kept and will still run."""

    code = "service_unavailable"
    permanent = False

    def __init__(self, message: str, *, retry_after: int, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.extra = extra or {}


class DecryptionError(PatchbayError):
    """A stored secret no configured key can decrypt (the key was retired too early). Names the owner, never the
    ciphertext."""

    code = "decryption_failed"


# --- Third parties ------------------------------------------------------------------------------------------------

# Whether each upstream code is permanent. Codes not listed are transient.
UPSTREAM_PERMANENT: dict[str, bool] = {
    "credentials_rejected": True,
    "not_found": True,
    "rate_limited": False,
    "upstream_error": False,
    "timeout": False,
    "invalid_response": False,
    "response_too_large": True,
    "bad_request": True,
    "connection_error": False,
    # Raised before anything is sent.
    "invalid_params": True,
    "invalid_cursor": True,
    "invalid_config": True,
    "credentials_missing": True,
    # A stored credential that cannot travel in an HTTP header (a line break, a character outside Latin-1).
    "credentials_invalid": True,
}


class UpstreamError(PatchbayError):
    """An operation against a third party failed. `status_code` is the vendor's HTTP status, when there was one."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        permanent: bool | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(
            message, code=code, permanent=UPSTREAM_PERMANENT.get(code, True) if permanent is None else permanent
        )
        self.status_code = status_code
        self.retry_after = retry_after
        self.attempts = attempts

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "status_code": self.status_code,
            "retry_after": self.retry_after,
            "permanent": self.permanent,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, status_code={self.status_code!r})"


class OperationInputError(UpstreamError):
    """The call could not be built: bad params or cursor, missing config or credentials. Nothing was sent.

    `errors` holds field errors as dicts {"field", "message", "error_code"}.
    """

    def __init__(self, code: str, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(code, message, permanent=True)
        self.errors = errors or []


class TokenUnavailable(PatchbayError):
    """No usable OAuth access token: `needs_reauth` (permanent until re-authorised) or `token_refresh_failed`
    (transient, after `retry_after` seconds)."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message, code=code, permanent=code == "needs_reauth")
        self.retry_after = retry_after

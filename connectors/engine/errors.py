"""Errors of the execution engine. Every one carries a stable `code` the API layer maps to a response.

Messages are built by us from the status, the vendor's own error message (scrubbed of credential values) and the
method + path; never from a requests exception, whose text can contain the full URL with a query-string credential.
"""

from __future__ import annotations

from typing import Any

# code -> (permanent, HTTP status the API layer is expected to answer with)
ERROR_CODES: dict[str, tuple[bool, int]] = {
    "credentials_rejected": (True, 502),
    "not_found": (True, 404),
    "rate_limited": (False, 429),
    "upstream_error": (False, 502),
    "timeout": (False, 504),
    "invalid_response": (False, 502),
    "response_too_large": (True, 502),
    "bad_request": (True, 400),
    "connection_error": (False, 502),
    # Raised before anything is sent.
    "invalid_params": (True, 422),
    "invalid_cursor": (True, 422),
    "invalid_config": (True, 422),
    "credentials_missing": (True, 422),
    # A stored credential that cannot travel in an HTTP header (a line break, a character outside Latin-1).
    "credentials_invalid": (True, 424),
}


class UpstreamError(Exception):
    """An operation failed. `permanent` separates "retry later" from "never works until something changes"."""

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
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        self.permanent = ERROR_CODES.get(code, (True, 502))[0] if permanent is None else permanent
        self.attempts = attempts

    @property
    def http_status(self) -> int:
        """The status the public API should answer with."""
        return ERROR_CODES.get(self.code, (True, 502))[1]

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


class CredentialsRejected(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("credentials_rejected", message, **kwargs)


class NotFoundUpstream(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("not_found", message, **kwargs)


class RateLimited(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("rate_limited", message, **kwargs)


class UpstreamUnavailable(UpstreamError):
    """5xx after retries."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("upstream_error", message, **kwargs)


class UpstreamTimeout(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("timeout", message, **kwargs)


class InvalidResponse(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("invalid_response", message, **kwargs)


class ResponseTooLarge(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("response_too_large", message, **kwargs)


class BadRequest(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("bad_request", message, **kwargs)


class ConnectionFailed(UpstreamError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("connection_error", message, **kwargs)


class OperationInputError(UpstreamError):
    """The call could not be built: bad params or cursor, missing config or credentials. Nothing was sent.

    `errors` holds field errors as dicts {"field", "message", "error_code"}.
    """

    def __init__(self, code: str, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(code, message, permanent=True)
        self.errors = errors or []


_CLASSES: dict[str, type[UpstreamError]] = {
    "credentials_rejected": CredentialsRejected,
    "not_found": NotFoundUpstream,
    "rate_limited": RateLimited,
    "upstream_error": UpstreamUnavailable,
    "timeout": UpstreamTimeout,
    "invalid_response": InvalidResponse,
    "response_too_large": ResponseTooLarge,
    "bad_request": BadRequest,
    "connection_error": ConnectionFailed,
}


def make_error(code: str, message: str, **kwargs: Any) -> UpstreamError:
    cls = _CLASSES.get(code)
    if cls is None:
        return UpstreamError(code, message, **kwargs)
    return cls(message, **kwargs)

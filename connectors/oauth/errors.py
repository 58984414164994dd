from __future__ import annotations


class TokenUnavailable(Exception):  # noqa: N818 - reads better at call sites than TokenUnavailableError
    """No usable access token: `needs_reauth` (permanent until re-authorised) or `token_refresh_failed` (transient)."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

"""Bearer API-key authentication for the REST API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from core.errors import AuthenticationFailed

from .models import ApiKey
from .services import api_key_authenticate


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer pb_…`. Every failure raises AuthenticationFailed with a message saying what is wrong."""

    def __call__(self, request: HttpRequest) -> ApiKey:
        header = request.headers.get("Authorization", "")
        if not header:
            api_key_authenticate(None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("Malformed Authorization header: expected 'Authorization: Bearer <key>'.")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key = api_key_authenticate(token)
        request.workspace = key.workspace  # type: ignore[attr-defined]
        return key

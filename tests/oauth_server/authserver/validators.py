from __future__ import annotations

from typing import Any

from authserver.control import control
from oauth2_provider.oauth2_validators import OAuth2Validator


class TestServerValidator(OAuth2Validator):
    """DOT's validator plus per-client client-authentication enforcement and a runtime rotation switch."""

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        # DOT falls back from Basic to body credentials; a client registered for one method must be refused the other,
        # so tests can prove Patchbay sends credentials the way the manifest says.
        if self._extract_basic_auth(request):
            method, authenticated = "basic", self._authenticate_basic_auth(request)
        else:
            method, authenticated = "body", self._authenticate_request_body(request)
        if not authenticated:
            return False
        return control.client_auth(request.client.client_id) in ("any", method)

    def rotate_refresh_token(self, request: Any) -> bool:
        return control.get("rotate_refresh_token")

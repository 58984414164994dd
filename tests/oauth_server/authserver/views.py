"""The protected resource, the auto-approving authorization view and the /test/ control endpoints.

The /test/ endpoints change server state without authentication: the server only ever listens on loopback for tests.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from authserver.control import ENDPOINTS, control
from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.views import AuthorizationView


class TestAuthorizationView(AuthorizationView):
    """DOT's consent view; with the auto_approve switch on it logs the seeded user in and approves at once."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if control.get("auto_approve") and not request.user.is_authenticated:
            user = get_user_model().objects.get(username=control.get("auto_approve_username"))
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not control.get("auto_approve"):
            return super().get(request, *args, **kwargs)
        try:
            scopes, credentials = self.validate_authorization_request(request)
            application = get_application_model().objects.get(client_id=credentials["client_id"])
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return self.redirect(uri, application)


def me(request: HttpRequest) -> HttpResponse:
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        response = JsonResponse({"error": "invalid_token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    token = oauth_request.access_token
    return JsonResponse(
        {
            "username": oauth_request.user.username,
            "client_id": token.application.client_id,
            "scope": token.scope,
            "expires": token.expires.isoformat(),
        }
    )


def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    data = json.loads(request.body)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def _endpoint(data: dict[str, Any]) -> str:
    endpoint = data.get("endpoint", "token")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {ENDPOINTS}")
    return endpoint


@csrf_exempt
def token_requests(request: HttpRequest) -> HttpResponse:
    """GET: token endpoint request counts by grant type. POST or DELETE: reset the whole request log."""
    if request.method in ("POST", "DELETE"):
        control.reset_log()
        return JsonResponse({"ok": True})
    entries = control.log("token")
    by_grant_type: dict[str, int] = {}
    for entry in entries:
        grant_type = entry.get("grant_type") or "unknown"
        by_grant_type[grant_type] = by_grant_type.get(grant_type, 0) + 1
    return JsonResponse({"total": len(entries), "by_grant_type": by_grant_type, "requests": entries})


def requests_log(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"requests": control.log(request.GET.get("endpoint") or None)})


@csrf_exempt
def fail(request: HttpRequest) -> HttpResponse:
    try:
        data = _json_body(request)
        control.fail_next(
            _endpoint(data),
            int(data.get("n", 1)),
            {
                "status": int(data.get("status", 503)),
                "retry_after": None if data.get("retry_after") is None else int(data["retry_after"]),
                "error": data.get("error") or "temporarily_unavailable",
                "description": data.get("description") or "injected by the test server",
                "body": data.get("body"),
            },
        )
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    return JsonResponse(control.switches())


@csrf_exempt
def slow(request: HttpRequest) -> HttpResponse:
    try:
        data = _json_body(request)
        control.set_delay(_endpoint(data), int(data.get("ms", 0)))
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    return JsonResponse(control.switches())


@csrf_exempt
def config(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            return JsonResponse(control.configure(_json_body(request)))
        except ValueError as exc:
            return _bad_request(str(exc))
    return JsonResponse(control.config())


@csrf_exempt
def reset(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _bad_request("POST only")
    control.reset()
    return JsonResponse({"ok": True})


@csrf_exempt
def clients(request: HttpRequest) -> HttpResponse:
    """POST {redirect_uris, client_auth, pkce_required, skip_authorization, client_type, client_id, client_secret}."""
    if request.method != "POST":
        return _bad_request("POST only")
    try:
        data = _json_body(request)
        result = create_client(**data)
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    return JsonResponse(result, status=201)


def create_client(
    *,
    redirect_uris: list[str],
    client_auth: str = "any",
    pkce_required: bool | None = None,
    skip_authorization: bool = False,
    client_type: str = "confidential",
    client_id: str | None = None,
    client_secret: str | None = None,
    name: str = "test client",
) -> dict[str, Any]:
    if not redirect_uris or not all(isinstance(uri, str) for uri in redirect_uris):
        raise ValueError("redirect_uris must be a non-empty list of strings")
    Application = get_application_model()
    client_id = client_id or generate_client_id()
    plaintext_secret = "" if client_type == "public" else (client_secret or generate_client_secret())
    control.register_client(client_id, client_auth=client_auth, pkce_required=pkce_required)
    Application.objects.update_or_create(
        client_id=client_id,
        defaults={
            "name": name,
            "client_type": client_type,
            "client_secret": plaintext_secret,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": " ".join(redirect_uris),
            "skip_authorization": skip_authorization,
        },
    )
    return {
        "client_id": client_id,
        "client_secret": plaintext_secret,
        "redirect_uris": redirect_uris,
        "client_auth": client_auth,
        "client_type": client_type,
    }


def _applications(data: dict[str, Any]) -> Any:
    Application = get_application_model()
    client_id = data.get("client_id")
    return Application.objects.filter(client_id=client_id) if client_id else Application.objects.all()


@csrf_exempt
def expire_access_tokens(request: HttpRequest) -> HttpResponse:
    """Make every live access token (optionally of one client) expired now; refresh tokens keep working."""
    try:
        data = _json_body(request)
    except ValueError as exc:
        return _bad_request(str(exc))
    count = (
        get_access_token_model()
        .objects.filter(application__in=_applications(data))
        .update(expires=timezone.now() - timedelta(seconds=1))
    )
    return JsonResponse({"expired": count})


@csrf_exempt
def revoke_all(request: HttpRequest) -> HttpResponse:
    """As if the user removed the app's access at the provider: every token stops working."""
    try:
        data = _json_body(request)
    except ValueError as exc:
        return _bad_request(str(exc))
    applications = _applications(data)
    with transaction.atomic():
        refresh_tokens = get_refresh_token_model().objects.filter(application__in=applications, revoked__isnull=True)
        count = 0
        for refresh_token in refresh_tokens:
            refresh_token.revoke()
            count += 1
        get_access_token_model().objects.filter(application__in=applications).delete()
    return JsonResponse({"revoked": count})

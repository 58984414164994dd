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


GRANT_TYPES = ("authorization-code", "client-credentials")
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@csrf_exempt
def service_accounts(request: HttpRequest) -> HttpResponse:
    """POST {issuer, public_key}: a service account whose RFC 7523 assertions (iss = issuer) are verified with this
    PEM public key. Its tokens belong to an application named after the issuer (client_id = issuer)."""
    if request.method != "POST":
        return _bad_request("POST only")
    try:
        data = _json_body(request)
        issuer, public_key = str(data["issuer"]), str(data["public_key"])
    except (ValueError, KeyError) as exc:
        return _bad_request(f"issuer and public_key are required ({exc})")
    Application = get_application_model()
    Application.objects.update_or_create(
        client_id=issuer,
        defaults={
            "name": f"service account {issuer}",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": "client-credentials",
            "redirect_uris": "",
        },
    )
    control.register_service_account(issuer, public_key)
    return JsonResponse({"issuer": issuer}, status=201)


def jwt_bearer_token(request: HttpRequest) -> HttpResponse:
    """The RFC 7523 grant: verify the assertion's signature with the registered key, its audience (this token
    endpoint), expiry and lifetime; answer a standard token response. Claims are noted in the request log."""
    import jwt  # PyJWT, installed with Patchbay's requirements

    def refuse(description: str) -> JsonResponse:
        request.test_log_details = {"assertion_error": description}  # type: ignore[attr-defined]
        return JsonResponse({"error": "invalid_grant", "error_description": description}, status=400)

    assertion = request.POST.get("assertion") or ""
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return refuse("the assertion is not a JWT")
    issuer = unverified.get("iss")
    public_key = control.service_account_key(issuer) if isinstance(issuer, str) else None
    if public_key is None:
        return refuse("unknown issuer")
    token_url = request.build_absolute_uri("/o/token/")
    try:
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=JWT_ALGORITHMS,
            audience=token_url,
            options={"require": ["iss", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        return refuse(f"assertion rejected: {exc}")
    if claims["exp"] - claims["iat"] > 3600:
        return refuse("the assertion may live one hour at most")
    request.test_log_details = {"assertion_claims": claims, "assertion_kid": header.get("kid")}  # type: ignore[attr-defined]
    lifetime = control.get("access_token_lifetime")
    application = get_application_model().objects.get(client_id=issuer)
    access_token = get_access_token_model().objects.create(
        user=None,
        application=application,
        token=generate_client_secret(),
        expires=timezone.now() + timedelta(seconds=lifetime),
        scope=str(claims.get("scope") or "read"),
    )
    return JsonResponse(
        {
            "access_token": access_token.token,
            "expires_in": lifetime,
            "token_type": "Bearer",
            "scope": access_token.scope,
        }
    )


def _token_candidates(request: HttpRequest) -> list[tuple[str, str]]:
    """(where, value) for every header word and query value: a manifest may put the token in any of them
    (`Authorization: Bearer x`, `X-Shopify-Access-Token: x`, `Authorization: Zoho-oauthtoken x`, `?access_token=x`)."""
    found: list[tuple[str, str]] = []
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            name = key[5:].replace("_", "-").title()
            found += [(f"header:{name}", word) for word in value.split()]
    for key, values in request.GET.lists():
        found += [(f"query:{key}", value) for value in values]
    return found


@csrf_exempt
def resource(request: HttpRequest, rest: str) -> HttpResponse:
    """Any path: 200 with the configured body when a live access token is in a header or the query, else 401.
    The request log notes where the token was (`token_in`) and whose client issued it."""
    now = timezone.now()
    AccessToken = get_access_token_model()
    for where, candidate in _token_candidates(request):
        if len(candidate) < 8:
            continue
        token = AccessToken.objects.filter(token=candidate, expires__gt=now).select_related("application").first()
        if token is not None:
            request.test_log_details = {  # type: ignore[attr-defined]
                "path": request.path,
                "token_in": where,
                "client_id": token.application.client_id,
            }
            return JsonResponse(control.get("resource_body"))
    request.test_log_details = {"path": request.path, "token_in": None}  # type: ignore[attr-defined]
    response = JsonResponse({"error": "invalid_token"}, status=401)
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


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
    grant_type: str = "authorization-code",
) -> dict[str, Any]:
    if grant_type not in GRANT_TYPES:
        raise ValueError(f"grant_type must be one of {GRANT_TYPES}")
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
            # "client-credentials": the client gets tokens for itself (RFC 6749 4.4), no user and no refresh token.
            "authorization_grant_type": grant_type,
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

from __future__ import annotations

from authserver import views
from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as oauth2_urls

oauth_patterns = [
    path("authorize/", views.TestAuthorizationView.as_view(), name="authorize"),
    *[pattern for pattern in oauth2_urls.base_urlpatterns if pattern.name != "authorize"],
]

urlpatterns = [
    path("o/", include((oauth_patterns, "oauth2_provider"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("api/me", views.me),
    path("resource/<path:rest>", views.resource),
    path("test/health", views.health),
    path("test/token-requests", views.token_requests),
    path("test/requests", views.requests_log),
    path("test/fail", views.fail),
    path("test/slow", views.slow),
    path("test/config", views.config),
    path("test/reset", views.reset),
    path("test/clients", views.clients),
    path("test/service-accounts", views.service_accounts),
    path("test/expire-access-tokens", views.expire_access_tokens),
    path("test/revoke-all", views.revoke_all),
]

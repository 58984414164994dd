from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found, server_error

from connectors.mcp.view import mcp_endpoint

from . import metrics_view
from .api import api
from .health import healthz, readyz
from .outages import current_outage, outage_response

admin.site.site_header = "Patchbay audit"
admin.site.site_title = "Patchbay admin"


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("mcp", mcp_endpoint, name="mcp"),
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include("connectors.urls")),
    path("", include("connect.urls")),
    path("", include("dashboard.urls")),
]


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:  # noqa: D103
    # API clients (ours, Airbyte's SDK) parse every answer under /api as JSON, unknown paths included.
    if request.path == "/api" or request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "errors": []}, status=404)
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # An outage raised outside a view (a middleware reading the session, say) still answers 503, not 500.
    outage = current_outage()
    if outage is not None:
        return outage_response(request, outage)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": "Patchbay hit an internal error; it has been logged.", "errors": []}, status=500
        )
    return server_error(request)

"""The OAuth callback: the one browser-facing view of the connectors app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .oauth.services import OAuthFlowError, oauth_callback


@require_GET
def oauth_callback_view(request: HttpRequest) -> HttpResponse:
    try:
        outcome = oauth_callback(
            state=request.GET.get("state", ""),
            code=request.GET.get("code"),
            error=request.GET.get("error"),
            error_description=request.GET.get("error_description"),
            user=request.user if request.user.is_authenticated else None,
        )
    except OAuthFlowError as exc:
        # Nothing was stored. We cannot trust where the state says to go, so explain here instead.
        return render(
            request, "connectors/oauth_error.html", {"error": exc.error, "description": exc.description}, status=400
        )
    response = HttpResponseRedirect(outcome.redirect_to)
    # A connect page's OAuth round trip runs in a popup and ends by posting to its opener: Django's default COOP
    # (same-origin) on this redirect would cut the popup off from the app's window. It carries no content.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("oauth/callback", views.oauth_callback_view, name="oauth-callback"),
]

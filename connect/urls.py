from __future__ import annotations

from django.urls import path

from . import views

app_name = "connect"

urlpatterns = [
    path("connect/<str:token>/", views.start, name="start"),
    path("connect/<str:token>/finish", views.finish, name="finish"),
    path("connect/<str:token>/<slug:connector_type>/", views.service, name="service"),
    path("connect/<str:token>/<slug:connector_type>/oauth", views.oauth_start, name="oauth"),
]

from __future__ import annotations

from django.urls import include, path

from .views import admin, connect, connectors, executions, playground, webhooks, workspaces

app_name = "dashboard"

workspace_patterns = [
    path("", connectors.connector_list_view, name="connectors"),
    path("connectors/new/", connectors.catalog, name="catalog"),
    path("connectors/new/<slug:type_slug>/", connectors.connector_new, name="connector_new"),
    path("connectors/new/<slug:type_slug>/connect/", connectors.connector_connect, name="connector_connect"),
    path("connectors/connected/", connectors.oauth_return, name="oauth_return"),
    path("connectors/<str:connector_id>/", connectors.connector_detail, name="connector_detail"),
    path("connectors/<str:connector_id>/edit/", connectors.connector_edit, name="connector_edit"),
    path("connectors/<str:connector_id>/delete/", connectors.connector_delete_view, name="connector_delete"),
    path("connectors/<str:connector_id>/check/", connectors.connector_check, name="connector_check"),
    path("connectors/<str:connector_id>/refresh/", connectors.connector_refresh, name="connector_refresh"),
    path("connectors/<str:connector_id>/reauthorise/", connectors.connector_reauthorise, name="connector_reauthorise"),
    path("connectors/<str:connector_id>/executions/", connectors.connector_executions, name="connector_executions"),
    path("connectors/<str:connector_id>/playground/", playground.playground_form, name="playground"),
    path("connectors/<str:connector_id>/playground/run/", playground.playground_run, name="playground_run"),
    path("executions/", executions.execution_list_view, name="executions"),
    path("executions/<str:execution_id>/", executions.execution_detail, name="execution_detail"),
    path("members/", workspaces.members, name="members"),
    path("members/add/", workspaces.member_add, name="member_add"),
    path("members/<int:member_id>/role/", workspaces.member_role, name="member_role"),
    path("members/<int:member_id>/remove/", workspaces.member_remove, name="member_remove"),
    path("api-keys/", admin.api_keys, name="api_keys"),
    path("api-keys/new/", admin.api_key_new, name="api_key_new"),
    path("api-keys/<int:key_id>/revoke/", admin.api_key_revoke_view, name="api_key_revoke"),
    path("api-keys/applications/new/", admin.application_new, name="application_new"),
    path("api-keys/applications/<str:client_id>/revoke/", admin.application_revoke_view, name="application_revoke"),
    path("oauth-apps/", admin.oauth_apps, name="oauth_apps"),
    path("oauth-apps/save/", admin.oauth_app_save, name="oauth_app_save"),
    path("oauth-apps/<int:app_id>/delete/", admin.oauth_app_delete_view, name="oauth_app_delete"),
    path("connect/", connect.connect_view, name="connect"),
    path("connect/origins/", connect.connect_origins, name="connect_origins"),
    path("webhooks/", webhooks.webhooks_view, name="webhooks"),
    path("webhooks/new/", webhooks.webhook_new, name="webhook_new"),
    path("webhooks/<uuid:endpoint_id>/toggle/", webhooks.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<uuid:endpoint_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/<uuid:message_id>/redeliver/",
        webhooks.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("audit/", admin.audit_log, name="audit"),
]

urlpatterns = [
    path("", workspaces.home, name="home"),
    path("workspaces/new/", workspaces.workspace_create_view, name="workspace_create"),
    path("w/<slug:slug>/", include(workspace_patterns)),
]

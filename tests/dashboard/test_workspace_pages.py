"""Playground, executions and charts, members, API keys, OAuth apps, audit log, workspace creation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.models import Execution, OAuthApp
from tests.dashboard.conftest import SENTINELS, make_execution
from workspaces.models import ApiKey, Membership, Role, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def stub(settings, httpserver):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"github": {"base_url": httpserver.url_for("").rstrip("/")}}
    return httpserver


def test_playground_runs_an_action_and_pages_through_results(github, owner_client, ws, stub):
    next_url = stub.url_for("/repos/acme/api/issues") + "?state=open&page=2"
    stub.expect_request("/repos/acme/api/issues", query_string={"state": "open", "per_page": "2"}).respond_with_json(
        [{"number": 1, "title": "First"}, {"number": 2, "title": "Second"}],
        headers={"Link": f'<{next_url}>; rel="next"'},
    )
    url = reverse("dashboard:playground_run", args=[ws.slug, github.pk])
    response = owner_client.post(
        url,
        {
            "entity": "issues",
            "action": "list",
            "params.owner": "acme",
            "params.repo": "api",
            "params.state": "open",
            "params.per_page": "2",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200, html
    assert "&quot;title&quot;: &quot;First&quot;" in html
    assert 'id="pg-next"' in html and "has_next_page" in html
    execution = Execution.objects.get(connector=github)
    assert execution.params["owner"] == "acme" and execution.actor_user is not None
    # The form keeps what was typed, for the next run.
    assert 'value="acme"' in html and 'value="api"' in html


def test_playground_shows_param_errors_inline(github, owner_client, ws):
    response = owner_client.post(
        reverse("dashboard:playground_run", args=[ws.slug, github.pk]),
        {"entity": "users", "action": "get"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="params.username"' in html and "This field is required." in html
    assert not Execution.objects.exists()


def test_playground_pickers_rerender_the_params_form(github, owner_client, ws):
    url = reverse("dashboard:playground", args=[ws.slug, github.pk])
    html = owner_client.get(url, {"entity": "issues"}, headers={"HX-Request": "true"}).content.decode()
    assert 'id="playground"' in html and "<html" not in html
    assert 'name="params.owner"' in html and "paginated" in html
    assert 'name="params.cursor"' not in html  # the Next page button drives the cursor
    html = owner_client.get(url, {"entity": "issues", "action": "create"}).content.decode()
    assert 'name="params.title"' in html and "data-array-add" in html  # labels: array of strings


def test_executions_list_filters_and_charts(github, hubspot, owner_client, ws):
    make_execution(github, duration_ms=100)
    make_execution(github, status="error", error_code="upstream_error", upstream_status=500, duration_ms=900)
    make_execution(hubspot, entity="contacts", action="list", duration_ms=300)
    old = make_execution(github, entity="old", action="one")
    Execution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    url = reverse("dashboard:executions", args=[ws.slug])
    html = owner_client.get(url).content.decode()
    assert html.count('<svg class="chart"') == 3
    assert "Executions per hour" in html and "p50" in html and "GitHub prod" in html
    assert "old.one" not in html  # the page opens on the last 24 hours
    assert "old.one" in owner_client.get(url, {"range": "7d"}).content.decode()
    errors = owner_client.get(url, {"status": "error"}, headers={"HX-Request": "true"}).content.decode()
    assert "upstream_error" in errors and "contacts.list" not in errors
    recent = owner_client.get(url, {"range": "24h", "connector": str(hubspot.pk)}).content.decode()
    assert "contacts.list" in recent and "old.one" not in recent and "users.me" not in recent


def test_execution_stats_selector(github, ws):
    from dashboard.selectors import execution_stats

    for ms in (100, 200, 300, 400, 1000):
        make_execution(github, duration_ms=ms)
    make_execution(github, status="error", duration_ms=50)
    stats = execution_stats(workspace=ws)
    assert stats.total == 6 and stats.errors == 1 and len(stats.hours) == 24
    assert stats.hours[-1].total == 6
    (row,) = stats.latency
    assert row.p50 == 250 and row.p95 == 850  # percentile_cont: interpolated between ranks


def test_execution_detail(github, owner_client, ws):
    failed = make_execution(
        github, status="error", error_code="rate_limited", error_message="Slow down", upstream_status=429, attempts=4
    )
    html = owner_client.get(reverse("dashboard:execution_detail", args=[ws.slug, failed.pk])).content.decode()
    for text in ("rate_limited", "Slow down", "429", "Attempts", "octocat"):
        assert text in html


def test_api_key_is_shown_once(members, owner_client, ws):
    url = reverse("dashboard:api_key_new", args=[ws.slug])
    response = owner_client.post(url, {"name": "CI"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    key = ApiKey.objects.get(workspace=ws, name="CI")
    start = html.index('id="new-key-value"')
    raw = html[start:].split('value="', 1)[1].split('"', 1)[0]
    assert raw.startswith(f"pb_{key.prefix}_")
    assert "data-copy" in html and response["Cache-Control"] == "no-store"
    later = owner_client.get(reverse("dashboard:api_keys", args=[ws.slug])).content.decode()
    assert raw not in later and f"pb_{key.prefix}_" in later
    assert owner_client.post(url, {"name": ""}).status_code == 422
    revoke = owner_client.post(reverse("dashboard:api_key_revoke", args=[ws.slug, key.pk]), follow=True)
    assert "revoked" in revoke.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_members_invite_change_role_remove(members, owner_client, ws):
    from tests.factories import UserFactory

    UserFactory(username="carol")
    add = reverse("dashboard:member_add", args=[ws.slug])
    assert owner_client.post(add, {"username": "nobody", "role": "viewer"}).status_code == 422
    response = owner_client.post(add, {"username": "carol", "role": "operator"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "carol" in response.content.decode()
    carol = Membership.objects.get(workspace=ws, user__username="carol")
    assert carol.role == Role.OPERATOR
    assert owner_client.post(add, {"username": "carol", "role": "viewer"}).status_code == 422  # already a member
    owner_client.post(reverse("dashboard:member_role", args=[ws.slug, carol.pk]), {"role": "admin"})
    carol.refresh_from_db()
    assert carol.role == Role.ADMIN
    owner_client.post(reverse("dashboard:member_remove", args=[ws.slug, carol.pk]))
    assert not Membership.objects.filter(pk=carol.pk).exists()


def test_the_last_owner_stays(members, owner_client, ws):
    me = members[Role.OWNER]
    response = owner_client.post(
        reverse("dashboard:member_role", args=[ws.slug, me.pk]), {"role": "viewer"}, follow=True
    )
    assert "last owner" in response.content.decode()
    me.refresh_from_db()
    assert me.role == Role.OWNER


def test_oauth_apps_never_show_the_secret(members, owner_client, ws):
    from connectors.models import ConnectorDefinition

    hubspot = ConnectorDefinition.objects.get(slug="hubspot")
    save = reverse("dashboard:oauth_app_save", args=[ws.slug])
    missing = owner_client.post(save, {"definition": str(hubspot.pk), "client_id": "cid"})
    assert missing.status_code == 422 and "This field is required." in missing.content.decode()
    owner_client.post(
        save, {"definition": str(hubspot.pk), "client_id": "cid", "client_secret": SENTINELS["oauth_app_secret"]}
    )
    app = OAuthApp.objects.get(workspace=ws)
    html = owner_client.get(reverse("dashboard:oauth_apps", args=[ws.slug])).content.decode()
    assert "cid" in html and SENTINELS["oauth_app_secret"] not in html
    # Replacing without a secret keeps the stored one.
    owner_client.post(save, {"definition": str(hubspot.pk), "client_id": "cid2", "client_secret": ""})
    app.refresh_from_db()
    assert app.client_id == "cid2" and app.client_secret_encrypted
    owner_client.post(reverse("dashboard:oauth_app_delete", args=[ws.slug, app.pk]))
    assert not OAuthApp.objects.filter(pk=app.pk).exists()


def test_audit_log_filters(github, members, owner_client, ws):
    owner_client.post(reverse("dashboard:api_key_new", args=[ws.slug]), {"name": "audited"})
    url = reverse("dashboard:audit", args=[ws.slug])
    html = owner_client.get(url).content.decode()
    assert "connector.create" in html and "api_key.create" in html
    only_keys = owner_client.get(url, {"action": "api_key.create"}, headers={"HX-Request": "true"}).content.decode()
    assert "api_key.create" in only_keys and "connector.create" not in only_keys
    by_owner = owner_client.get(url, {"actor": "owner-user"}).content.decode()
    assert "api_key.create" in by_owner
    future = owner_client.get(url, {"since": "2999-01-01"}).content.decode()
    assert "No audit events match" in future


def test_create_workspace_and_switch(members, owner_client):
    response = owner_client.post(reverse("dashboard:workspace_create"), {"name": "Second team"})
    workspace = Workspace.objects.get(name="Second team")
    assert response["Location"] == reverse("dashboard:connectors", args=[workspace.slug])
    assert Membership.objects.get(workspace=workspace).role == Role.OWNER
    html = owner_client.get(response["Location"]).content.decode()
    assert "Second team" in html and "Acme Ops" in html  # the switcher lists both
    assert owner_client.post(reverse("dashboard:workspace_create"), {"name": " "}).status_code == 422


def test_refreshing_a_connector_that_needs_reauthorisation_explains_instead_of_failing(owner_client, hubspot):
    from django.urls import reverse

    from connectors.models import Connector

    Connector.objects.filter(pk=hubspot.pk).update(status="needs_reauth", status_detail="invalid_grant")
    response = owner_client.post(
        reverse("dashboard:connector_refresh", args=["acme", hubspot.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Refresh failed" in response.headers.get("HX-Trigger", "") + response.content.decode()
    assert "Re-authorise" in response.headers.get("HX-Trigger", "") + response.content.decode()

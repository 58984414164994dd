"""Every dashboard page: status codes, sign-in, membership, and that no secret ever reaches the HTML."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.dashboard.conftest import SENTINELS
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything(ws, github, hubspot, execution, api_key, oauth_app):
    from tests.dashboard.conftest import make_execution

    make_execution(
        github, status="error", error_code="upstream_error", error_message="Bad gateway", upstream_status=502
    )
    return {"github": github, "hubspot": hubspot, "execution": execution, "api_key": api_key, "oauth_app": oauth_app}


def page_urls(ws, objects) -> list[str]:
    s = ws.slug
    gh, hs, ex = objects["github"], objects["hubspot"], objects["execution"]
    return [
        reverse("dashboard:connectors", args=[s]),
        reverse("dashboard:connectors", args=[s]) + "?q=git&status=healthy&type=github",
        reverse("dashboard:catalog", args=[s]),
        reverse("dashboard:catalog", args=[s]) + "?q=hub",
        reverse("dashboard:connector_new", args=[s, "github"]),
        reverse("dashboard:connector_new", args=[s, "github"]) + "?auth_scheme=oauth",
        reverse("dashboard:connector_new", args=[s, "hubspot"]),
        reverse("dashboard:connector_new", args=[s, "stripe"]),
        reverse("dashboard:connector_detail", args=[s, gh.pk]),
        reverse("dashboard:connector_detail", args=[s, hs.pk]),
        reverse("dashboard:connector_edit", args=[s, gh.pk]),
        reverse("dashboard:connector_edit", args=[s, hs.pk]),
        reverse("dashboard:connector_delete", args=[s, gh.pk]),
        reverse("dashboard:connector_executions", args=[s, gh.pk]) + "?page=1",
        reverse("dashboard:playground", args=[s, gh.pk]) + "?entity=issues&action=list",
        reverse("dashboard:executions", args=[s]),
        reverse("dashboard:executions", args=[s]) + f"?connector={gh.pk}&status=error&range=24h",
        reverse("dashboard:execution_detail", args=[s, ex.pk]),
        reverse("dashboard:members", args=[s]),
        reverse("dashboard:api_keys", args=[s]),
        reverse("dashboard:oauth_apps", args=[s]),
        reverse("dashboard:audit", args=[s]),
        reverse("dashboard:audit", args=[s])
        + "?action=connector.create&actor=system&since=2020-01-01&until=2999-01-01",
        reverse("dashboard:workspace_create"),
        reverse("password_change"),
    ]


def test_every_page_renders_for_the_owner_and_holds_no_secret(ws, everything, owner_client):
    for url in page_urls(ws, everything):
        for htmx in (False, True):
            response = owner_client.get(url, headers={"HX-Request": "true"} if htmx else {})
            assert response.status_code == 200, (url, htmx, response.status_code)
            html = response.content.decode()
            for name, secret in SENTINELS.items():
                assert secret not in html, f"{name} leaked on {url} (htmx={htmx})"


def test_reading_pages_work_for_a_viewer(ws, everything, client_as):
    viewer = client_as(Role.VIEWER)
    admin_only = ("/connectors/new/", "/edit/", "/delete/")
    for url in page_urls(ws, everything):
        response = viewer.get(url)
        expected = 403 if any(part in url for part in admin_only) else 200
        assert response.status_code == expected, url


def test_viewer_sees_no_write_controls(ws, github, client_as):
    html = client_as(Role.VIEWER).get(reverse("dashboard:connector_detail", args=[ws.slug, github.pk])).content.decode()
    assert "Check credentials" not in html
    assert reverse("dashboard:connector_edit", args=[ws.slug, github.pk]) not in html
    assert 'id="pg-run"' not in html
    html = client_as(Role.ADMIN).get(reverse("dashboard:connector_detail", args=[ws.slug, github.pk])).content.decode()
    assert "Check credentials" in html and 'id="pg-run"' in html


def test_anonymous_is_sent_to_sign_in(ws, github):
    client = Client()
    for url in (reverse("dashboard:home"), reverse("dashboard:connectors", args=[ws.slug])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_non_member_gets_404_for_the_whole_workspace(ws, everything, other_ws):
    stranger = Client()
    stranger.force_login(other_ws.memberships.first().user)
    for url in page_urls(ws, everything)[:-2]:
        assert stranger.get(url).status_code == 404, url


def test_login_page_and_sign_in(members):
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b"Sign in to Patchbay" in page.content
    bad = client.post(reverse("login"), {"username": "owner-user", "password": "wrong"})
    assert bad.status_code == 200 and b"alert-error" in bad.content
    ok = client.post(reverse("login"), {"username": "owner-user", "password": "correct horse battery staple"})
    assert ok.status_code == 302


def test_home_redirects_to_a_workspace_or_to_create_one(ws, members, db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(members[Role.VIEWER].user)
    assert client.get("/")["Location"] == reverse("dashboard:connectors", args=[ws.slug])
    lonely = Client()
    lonely.force_login(UserFactory(username="lonely"))
    assert lonely.get("/")["Location"] == reverse("dashboard:workspace_create")


def test_empty_state_leads_to_add_connector(ws, owner_client):
    html = owner_client.get(reverse("dashboard:connectors", args=[ws.slug])).content.decode()
    assert "No connectors yet" in html
    assert reverse("dashboard:catalog", args=[ws.slug]) in html


def test_connector_table_search_filters_and_paginates(ws, owner_client):
    from tests.dashboard.conftest import make_github

    for i in range(17):
        make_github(ws, name=f"Repo reader {i:02d}")
    url = reverse("dashboard:connectors", args=[ws.slug])
    first = owner_client.get(url)
    assert first.content.decode().count('class="entity"') == 15
    assert b"Page 1 of 2" in first.content
    partial = owner_client.get(url, {"q": "reader 03"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert "<html" not in html and 'id="connector-results"' in html
    assert "Repo reader 03" in html and "Repo reader 04" not in html
    none = owner_client.get(url, {"status": "needs_reauth"}).content.decode()
    assert "No connectors match" in none


def test_password_change_pages(owner_client):
    assert owner_client.get(reverse("password_change")).status_code == 200
    response = owner_client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "a much better passphrase 42",
            "new_password2": "a much better passphrase 42",
        },
    )
    assert response.status_code == 302
    assert owner_client.get(response["Location"]).status_code == 200

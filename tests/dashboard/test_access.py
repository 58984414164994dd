"""The role matrix for every POST, other workspaces' ids, and CSRF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from connectors.models import Connector
from tests.dashboard.conftest import ROLES
from workspaces.models import ApiKey, Membership, Role

pytestmark = pytest.mark.django_db

RANK = {role: i for i, role in enumerate(ROLES)}


@pytest.fixture
def stub_github(settings, httpserver):
    """GitHub's API on loopback, so checks and playground runs never leave the machine."""
    httpserver.expect_request("/user").respond_with_json({"login": "octocat", "id": 1})
    settings.PATCHBAY_CATALOG_OVERRIDES = {"github": {"base_url": httpserver.url_for("").rstrip("/")}}
    return httpserver


# (name, minimum role, builds (url, data) from the fixtures)
POSTS: list[tuple[str, str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]]] = [
    ("workspace_create", Role.VIEWER, lambda o: (reverse("dashboard:workspace_create"), {"name": "New one"})),
    (
        "connector_new",
        Role.ADMIN,
        lambda o: (
            reverse("dashboard:connector_new", args=["acme", "github"]),
            {
                "name": "gh",
                "auth_scheme": "pat",
                "credentials.personal_access_token": "ghp_x",
                "replication_config.repositories": "a/b",
            },
        ),
    ),
    (
        "connector_connect",
        Role.ADMIN,
        lambda o: (reverse("dashboard:connector_connect", args=["acme", "hubspot"]), {"name": "hs"}),
    ),
    (
        "connector_edit",
        Role.ADMIN,
        lambda o: (
            reverse("dashboard:connector_edit", args=["acme", o["github"].pk]),
            {"name": "renamed", "replication_config.repositories": "a/b"},
        ),
    ),
    (
        "connector_delete",
        Role.ADMIN,
        lambda o: (reverse("dashboard:connector_delete", args=["acme", o["github"].pk]), {}),
    ),
    (
        "connector_check",
        Role.OPERATOR,
        lambda o: (reverse("dashboard:connector_check", args=["acme", o["github"].pk]), {}),
    ),
    (
        "connector_refresh",
        Role.ADMIN,
        lambda o: (reverse("dashboard:connector_refresh", args=["acme", o["github"].pk]), {}),
    ),
    (
        "connector_reauthorise",
        Role.ADMIN,
        lambda o: (reverse("dashboard:connector_reauthorise", args=["acme", o["hubspot"].pk]), {}),
    ),
    (
        "playground_run",
        Role.OPERATOR,
        lambda o: (
            reverse("dashboard:playground_run", args=["acme", o["github"].pk]),
            {"entity": "users", "action": "me"},
        ),
    ),
    (
        "member_add",
        Role.OWNER,
        lambda o: (reverse("dashboard:member_add", args=["acme"]), {"username": "newbie", "role": "viewer"}),
    ),
    (
        "member_role",
        Role.OWNER,
        lambda o: (reverse("dashboard:member_role", args=["acme", o["target_member"].pk]), {"role": "operator"}),
    ),
    (
        "member_remove",
        Role.OWNER,
        lambda o: (reverse("dashboard:member_remove", args=["acme", o["target_member"].pk]), {}),
    ),
    ("api_key_new", Role.ADMIN, lambda o: (reverse("dashboard:api_key_new", args=["acme"]), {"name": "ci"})),
    ("api_key_revoke", Role.ADMIN, lambda o: (reverse("dashboard:api_key_revoke", args=["acme", o["api_key"].pk]), {})),
    (
        "oauth_app_save",
        Role.ADMIN,
        lambda o: (
            reverse("dashboard:oauth_app_save", args=["acme"]),
            {"definition": str(o["hubspot"].definition_id), "client_id": "cid", "client_secret": "csecret"},
        ),
    ),
    (
        "oauth_app_delete",
        Role.ADMIN,
        lambda o: (reverse("dashboard:oauth_app_delete", args=["acme", o["oauth_app"].pk]), {}),
    ),
]


@pytest.fixture
def objects(ws, github, hubspot, api_key, oauth_app, members, stub_github):
    from tests.factories import MembershipFactory, UserFactory

    UserFactory(username="newbie")
    return {
        "github": github,
        "hubspot": hubspot,
        "api_key": api_key,
        "oauth_app": oauth_app,
        "target_member": MembershipFactory(workspace=ws, user=UserFactory(username="target"), role=Role.VIEWER),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "min_role", "build"), POSTS, ids=[p[0] for p in POSTS])
def test_role_matrix(role, name, min_role, build, objects, client_as):
    url, data = build(objects)
    for htmx in (False, True):
        response = client_as(role).post(url, data, headers={"HX-Request": "true"} if htmx else {})
        if RANK[role] < RANK[min_role]:
            assert response.status_code == 403, (name, role, htmx, response.status_code)
        else:
            assert response.status_code in (200, 201, 302, 422), (name, role, htmx, response.status_code)
            assert response.status_code != 403
        if RANK[role] >= RANK[min_role]:
            break  # one allowed run changes data; the second would test a different state


def test_denied_posts_change_nothing(objects, client_as, ws):
    viewer = client_as(Role.VIEWER)
    for _name, _min, build in POSTS[1:]:
        url, data = build(objects)
        viewer.post(url, data)
    assert Connector.objects.filter(workspace=ws).count() == 2
    assert Connector.objects.get(pk=objects["github"].pk).name == "GitHub prod"
    assert ApiKey.objects.get(pk=objects["api_key"].pk).revoked_at is None
    assert Membership.objects.get(pk=objects["target_member"].pk).role == Role.VIEWER


def test_gets_never_change_data(objects, owner_client, ws):
    """Every POST-only endpoint refuses GET (405) rather than acting."""
    for _name, _min, build in POSTS:
        url, _ = build(objects)
        if any(p in url for p in ("/edit/", "/delete/", "/workspaces/new/", "/connectors/new/github/")):
            continue  # these show a form or a confirmation page on GET
        assert owner_client.get(url).status_code == 405, url
    assert Connector.objects.filter(workspace=ws).count() == 2


def test_other_workspaces_ids_are_404(ws, members, other_objects, owner_client):
    o = other_objects
    s = ws.slug
    gets = [
        reverse("dashboard:connector_detail", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_edit", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_delete", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_executions", args=[s, o["connector"].pk]),
        reverse("dashboard:playground", args=[s, o["connector"].pk]),
        reverse("dashboard:execution_detail", args=[s, o["execution"].pk]),
        reverse("dashboard:connector_detail", args=[s, "not-a-uuid"]),
        reverse("dashboard:execution_detail", args=[s, "not-a-uuid"]),
    ]
    for url in gets:
        assert owner_client.get(url).status_code == 404, url
    posts = [
        reverse("dashboard:connector_delete", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_edit", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_check", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_refresh", args=[s, o["connector"].pk]),
        reverse("dashboard:connector_reauthorise", args=[s, o["connector"].pk]),
        reverse("dashboard:playground_run", args=[s, o["connector"].pk]),
        reverse("dashboard:api_key_revoke", args=[s, o["api_key"].pk]),
        reverse("dashboard:member_role", args=[s, o["member"].pk]),
        reverse("dashboard:member_remove", args=[s, o["member"].pk]),
        reverse("dashboard:oauth_app_delete", args=[s, o["oauth_app"].pk]),
    ]
    for url in posts:
        assert owner_client.post(url, {"role": "viewer"}).status_code == 404, url
    assert Connector.objects.filter(pk=o["connector"].pk).exists()
    assert ApiKey.objects.get(pk=o["api_key"].pk).revoked_at is None
    assert o["member"].__class__.objects.filter(pk=o["member"].pk).exists()
    # Other workspaces' connectors never show up in this one's lists either.
    assert b"Their GitHub" not in owner_client.get(reverse("dashboard:connectors", args=[s])).content
    assert b"Their GitHub" not in owner_client.get(reverse("dashboard:executions", args=[s])).content


def test_csrf_is_enforced(ws, members, github):
    client = Client(enforce_csrf_checks=True)
    client.force_login(members[Role.OWNER].user)
    url = reverse("dashboard:api_key_new", args=[ws.slug])
    assert client.post(url, {"name": "no token"}).status_code == 403
    assert client.post(url, {"name": "no token"}, headers={"HX-Request": "true"}).status_code == 403
    delete = reverse("dashboard:connector_delete", args=[ws.slug, github.pk])
    assert client.post(delete).status_code == 403
    assert Connector.objects.filter(pk=github.pk).exists()
    # The token the page hands out (in the form and in <body hx-headers>) is accepted.
    page = client.get(reverse("dashboard:api_keys", args=[ws.slug]))
    token = page.context["csrf_token"]
    assert f'"x-csrftoken": "{token}"' in page.content.decode()
    ok = client.post(url, {"name": "with token"}, headers={"X-CSRFToken": str(token), "HX-Request": "true"})
    assert ok.status_code == 200
    assert ApiKey.objects.filter(workspace=ws, name="with token").exists()

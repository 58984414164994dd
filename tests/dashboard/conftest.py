"""Fixtures for the dashboard view tests: a workspace with one member per role, and objects created through the
services with sentinel secrets, so every page can be searched for them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from connectors.models import ConnectorDefinition, Execution, ExecutionStatus
from connectors.services import connector_create
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Membership, Role, Workspace
from workspaces.services import Actor, api_key_create

SENTINELS = {
    "pat": "ghp_SENTINEL_dashboard_pat_51c7",
    "hubspot_secret": "SENTINEL_hubspot_client_secret_0e2d",
    "hubspot_refresh": "SENTINEL_hubspot_refresh_token_9b41",
    "oauth_app_secret": "SENTINEL_oauth_app_secret_a3f0",
    "stripe": "sk_test_SENTINEL_stripe_77aa",
}
ROLES = [Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER]


@pytest.fixture
def ws(db) -> Workspace:
    return WorkspaceFactory(name="Acme Ops", slug="acme")


@pytest.fixture
def members(ws) -> dict[str, Membership]:
    return {
        role: MembershipFactory(workspace=ws, user=UserFactory(username=f"{role}-user"), role=role) for role in ROLES
    }


@pytest.fixture
def client_as(members):
    def make(role: str, *, enforce_csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(members[role].user)
        return client

    return make


@pytest.fixture
def owner_client(client_as) -> Client:
    return client_as(Role.OWNER)


@pytest.fixture
def other_ws(db) -> Workspace:
    other = WorkspaceFactory(name="Other Co", slug="other")
    MembershipFactory(workspace=other, user=UserFactory(username="stranger"), role=Role.OWNER)
    return other


def make_github(ws: Workspace, name: str = "GitHub prod") -> Any:
    return connector_create(
        workspace=ws,
        definition=ConnectorDefinition.objects.get(slug="github"),
        name=name,
        credentials={"personal_access_token": SENTINELS["pat"]},
        replication_config={"repositories": ["acme/api", "acme/web"]},
        auth_scheme="pat",
        actor=Actor.system(),
    )


def make_hubspot(ws: Workspace) -> Any:
    return connector_create(
        workspace=ws,
        definition=ConnectorDefinition.objects.get(slug="hubspot"),
        name="HubSpot CRM",
        credentials={
            "client_id": "hs-client-id",
            "client_secret": SENTINELS["hubspot_secret"],
            "refresh_token": SENTINELS["hubspot_refresh"],
        },
        auth_scheme="oauth",
        actor=Actor.system(),
    )


def make_execution(connector: Any, **fields: Any) -> Execution:
    defaults = {
        "workspace": connector.workspace,
        "connector": connector,
        "entity": "users",
        "action": "me",
        "params": {"username": "octocat"},
        "status": ExecutionStatus.SUCCESS,
        "result": {"login": "octocat"},
        "attempts": 1,
        "duration_ms": 120,
    }
    defaults.update(fields)
    return Execution.objects.create(**defaults)


@pytest.fixture
def github(ws):
    return make_github(ws)


@pytest.fixture
def hubspot(ws):
    return make_hubspot(ws)


@pytest.fixture
def execution(github) -> Execution:
    return make_execution(github)


@pytest.fixture
def api_key(ws, members):
    return api_key_create(workspace=ws, name="Backend", created_by=members[Role.OWNER].user)[0]


@pytest.fixture
def oauth_app(ws):
    from connectors.oauth.services import oauth_app_upsert

    return oauth_app_upsert(
        workspace=ws,
        definition=ConnectorDefinition.objects.get(slug="hubspot"),
        client_id="hs-app-client",
        client_secret=SENTINELS["oauth_app_secret"],
        scopes="crm.objects.contacts.read",
        actor=Actor.system(),
    )


@pytest.fixture
def other_objects(other_ws):
    """One of everything in another workspace: the dashboard must answer 404 for each of them."""
    from connectors.oauth.services import oauth_app_upsert

    connector = make_github(other_ws, name="Their GitHub")
    return {
        "connector": connector,
        "execution": make_execution(connector),
        "api_key": api_key_create(workspace=other_ws, name="Theirs")[0],
        "member": other_ws.memberships.first(),
        "oauth_app": oauth_app_upsert(
            workspace=other_ws,
            definition=ConnectorDefinition.objects.get(slug="hubspot"),
            client_id="their-client",
            client_secret="their-secret",
            scopes="",
            actor=Actor.system(),
        ),
    }

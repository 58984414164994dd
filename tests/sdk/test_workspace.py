"""Workspace operations beyond the seed examples, against the live server."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from patchbay import ConnectorDetail, ConnectorInfo, Definition, Workspace

from connectors.models import Connector
from tests.sdk.conftest import GITHUB_ID, HUBSPOT_ID, customers_page


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_create_by_connector_type_and_list_all_pages(env, make_stripe):
    ids = [make_stripe(name=f"S{i}") for i in range(5)]

    async def main() -> tuple[str, list[ConnectorInfo], list[ConnectorInfo]]:
        async with Workspace() as ws:
            github = await ws.create_connector(
                connector_type="github",
                name="GH",
                credentials={"personal_access_token": "ghp_x"},
                replication_config={"repositories": ["a/b"]},
            )
            everything = await ws.list_connectors(page_size=2)  # four requests, following `next`
            only_stripe = await ws.list_connectors(connector_type="stripe", page_size=2)
            return github, everything, only_stripe

    github, everything, only_stripe = run(main())
    assert [c.id for c in everything] == [github, *reversed(ids)]
    assert [c.id for c in only_stripe] == list(reversed(ids))
    info = everything[0]
    assert (info.name, info.connector_type, info.slug, info.definition_id, info.status) == (
        "GH",
        "GitHub",
        "github",
        GITHUB_ID,
        "unknown",  # created without `check`: nothing has proven the credentials yet
    )
    assert isinstance(info.created_at, datetime) and info.created_at.tzinfo is not None
    assert isinstance(info.updated_at, datetime) and info.last_used_at is None


def test_describe_update_and_check(env, make_stripe, upstream):
    connector_id = make_stripe(name="Before")
    upstream.expect_request("/v1/customers", headers={"Authorization": "Bearer sk_test_new"}).respond_with_json(
        customers_page([], False)
    )

    async def main() -> tuple[ConnectorDetail, ConnectorDetail, Any]:
        async with Workspace() as ws:
            before = await ws.describe_connector(connector_id)
            after = await ws.update_connector(connector_id, name="After", credentials={"api_key": "sk_test_new"})
            return before, after, await ws.check_connector(connector_id)

    before, after, check = run(main())
    assert before.name == "Before" and before.auth_scheme == "api_key" and before.credential_fields == ["api_key"]
    assert after.name == "After" and after.updated_at >= before.updated_at
    assert check.ok and check.execution_id
    assert Connector.objects.get(pk=connector_id).name == "After"


def test_definitions(server, monkeypatch):
    monkeypatch.delenv("PATCHBAY_API_KEY", raising=False)  # definitions are public

    async def main() -> tuple[list[Definition], list[Definition], dict[str, Any]]:
        async with Workspace(base_url=server) as ws:
            everything = await ws.list_definitions()
            github = await ws.list_definitions(name="GitHub")
            return everything, github, await ws.get_definition(github[0].id)

    everything, github, detail = run(main())
    assert {"github", "hubspot", "stripe", "linear", "notion"} <= {d.slug for d in everything}
    assert [(d.id, d.definition_id, d.slug) for d in github] == [(GITHUB_ID, GITHUB_ID, "github")]
    assert {s.key for s in github[0].auth_schemes} >= {"pat", "oauth"}
    assert "list" in detail["entities"]["issues"]["actions"]


def test_initiate_oauth_returns_the_consent_url(env, workspace):
    from connectors.models import ConnectorDefinition
    from connectors.oauth.services import oauth_app_upsert
    from workspaces.services import Actor

    oauth_app_upsert(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(pk=HUBSPOT_ID),
        client_id="hs-app-client",
        client_secret="hs-app-secret",
        scopes=None,
        actor=Actor.system(),
    )

    async def main() -> str:
        async with Workspace() as ws:
            return await ws.initiate_oauth(
                connector_type="hubspot", redirect_url="https://app.example.com/done", name="HubSpot via OAuth"
            )

    consent_url = run(main())
    query = parse_qs(urlsplit(consent_url).query)
    assert consent_url.startswith("https://app.hubspot.com/oauth/authorize")
    assert query["client_id"] == ["hs-app-client"] and query["state"][0]


def test_end_users_get_connect_links_and_their_own_connectors(env, workspace, make_stripe):
    from patchbay import ConnectSession, connect

    make_stripe(name="Team Stripe")  # a second Stripe connector, not the end user's: connect() must not pick it

    async def main() -> tuple[ConnectSession, str, list[ConnectorInfo], dict]:
        async with Workspace() as ws:
            session = await ws.create_connect_session("u_42", display_name="Ann", allowed_connector_types=["stripe"])
            mine = await ws.create_connector(
                connector_type="stripe", name="Ann's Stripe", credentials={"api_key": "sk_test_u42"}, end_user_id="u_42"
            )
            listed = await ws.list_connectors(end_user_id="u_42")
        async with connect("stripe", end_user_id="u_42") as stripe:
            resolved = await stripe.resolve()  # one of two Stripe connectors: the end user's
        return session, mine, listed, {"resolved": resolved}

    session, mine, listed, out = run(main())
    assert session.token.startswith("pbcs_") and session.connect_url.endswith(f"/connect/{session.token}/")
    assert session.end_user_id == "u_42" and session.allowed_connector_types == ["stripe"]
    assert [(c.id, c.end_user_id) for c in listed] == [(mine, "u_42")]
    assert out["resolved"] == mine and Connector.objects.get(pk=mine).end_user_id == "u_42"

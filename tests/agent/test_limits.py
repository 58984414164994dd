"""Least-privilege API keys: every limit (connectors, read-only, agent-only) on every surface (REST, proxy, tool
definitions, MCP), enforced with a 403 that says why; keys created and shown with their limits."""

from __future__ import annotations

import pytest

from connectors.models import Execution
from tests.conftest import ApiClient
from workspaces.models import ApiKey
from workspaces.services import api_key_create

from .conftest import make_connector
from .test_mcp import mcp_call

CONNECTORS = "/api/v1/integrations/connectors"


def limited(workspace, **limits) -> str:
    return api_key_create(workspace=workspace, name="agent", **limits)[1]


@pytest.fixture
def pair(workspace, vendor):
    return make_connector(workspace, "github"), make_connector(workspace, "stripe")


@pytest.mark.parametrize("by", ["type", "id"])
def test_connector_limit_on_the_rest_api(workspace, pair, by) -> None:
    github, stripe = pair
    api = ApiClient(limited(workspace, connectors=["github" if by == "type" else str(github.pk)]))
    listed = api.get(CONNECTORS).json()["data"]
    assert [c["id"] for c in listed] == [str(github.pk)]
    refused = api.get(f"{CONNECTORS}/{stripe.pk}")
    assert refused.status_code == 403 and "limited to connectors" in refused.json()["message"]
    run = api.post(f"{CONNECTORS}/{stripe.pk}/execute", {"entity": "customers", "action": "list"})
    assert run.status_code == 403
    assert api.post(f"{CONNECTORS}/{stripe.pk}/proxy", {"path": "/v1/customers"}).status_code == 403
    assert api.get("/api/v1/integrations/connectors/resolve", {"connector_type": "stripe"}).status_code == 403
    assert api.get("/api/v1/integrations/connectors/resolve", {"connector_type": "github"}).status_code == 200
    create = api.post(CONNECTORS, {"connector_type": "stripe", "name": "New", "credentials": {"api_key": "sk_x"}})
    assert create.status_code == 403 and "may not create" in create.json()["message"]
    ok = api.post(f"{CONNECTORS}/{github.pk}/execute", {"entity": "issues", "action": "list",
                                                          "params": {"owner": "octo", "repo": "hello"}})  # fmt: skip
    assert ok.status_code == 200
    tools = api.get("/api/v1/integrations/tools").json()["routes"]
    assert {r["connector_type"] for r in tools.values()} == {"github"}
    assert api.get("/api/v1/integrations/tools", {"connectors": "stripe"}).status_code == 403
    assert not Execution.objects.filter(connector=stripe).exists()


def test_read_only_key(workspace, pair, vendor) -> None:
    github, stripe = pair
    api = ApiClient(limited(workspace, read_only=True))
    write = api.post(f"{CONNECTORS}/{stripe.pk}/execute", {"entity": "customers", "action": "create",
                                                            "params": {"email": "x@example.com"}})  # fmt: skip
    assert write.status_code == 403 and "read-only" in write.json()["message"]
    read = api.post(f"{CONNECTORS}/{stripe.pk}/execute", {"entity": "customers", "action": "list"})
    assert read.status_code == 200
    assert api.post(f"{CONNECTORS}/{stripe.pk}/proxy", {"method": "POST", "path": "/v1/x"}).status_code == 403
    assert api.post(f"{CONNECTORS}/{stripe.pk}/proxy", {"method": "GET", "path": "/v1/customers"}).status_code == 200
    assert api.patch(f"{CONNECTORS}/{stripe.pk}", {"name": "Renamed"}).status_code == 403
    assert api.delete(f"{CONNECTORS}/{stripe.pk}").status_code == 403
    create = api.post(CONNECTORS, {"connector_type": "stripe", "name": "New", "credentials": {"api_key": "sk_x"}})
    assert create.status_code == 403
    tools = api.get("/api/v1/integrations/tools", {"connectors": "stripe"}).json()["routes"]
    assert "stripe_customers_list" in tools and "stripe_customers_create" not in tools
    assert all(r["method"] == "GET" for r in vendor.requests)


def test_agent_only_key(workspace, pair) -> None:
    api = ApiClient(limited(workspace, agent_only=True))
    refused = api.get(CONNECTORS)
    assert refused.status_code == 403 and "/mcp" in refused.json()["message"]
    assert api.get("/api/v1/integrations/tools").status_code == 200


def test_limits_on_mcp(live_server, workspace, pair, vendor, transactional_db) -> None:
    github, stripe = pair
    key = limited(workspace, connectors=["stripe"], read_only=True, agent_only=True)
    out = mcp_call(
        f"{live_server.url}/mcp",
        key,
        [
            ("list_connectors", {}),
            ("execute", {"connector": str(github.pk), "entity": "issues", "action": "list",
                         "params": {"owner": "octo", "repo": "hello"}}),
            ("execute", {"connector": "stripe", "entity": "customers", "action": "create", "params": {}}),
            ("execute", {"connector": "stripe", "entity": "customers", "action": "list", "select_fields": ["id"]}),
            ("proxy", {"connector": "stripe", "method": "DELETE", "path": "/v1/customers/cus_1"}),
        ],
    )  # fmt: skip
    listed, other, write, read, delete = out["results"]
    assert [c["connector_type"] for c in listed.structured_content["connectors"]] == ["stripe"]
    assert other.is_error and other.structured_content["error_code"] == "forbidden"
    assert write.is_error and "read-only" in write.structured_content["message"]
    assert not read.is_error and read.structured_content["result"] == [{"id": "cus_1"}, {"id": "cus_2"}]
    assert delete.is_error and delete.structured_content["error_code"] == "forbidden"
    per_action = mcp_call(f"{live_server.url}/mcp?mode=per_action", key, [])
    names = {t.name for t in per_action["tools"]}
    assert "stripe_customers_list" in names and "stripe_customers_create" not in names
    assert not any(n.startswith("github_") for n in names)


def test_an_mcp_refusal_for_a_key_without_the_agent_surface_is_not_possible(live_server, workspace, pair) -> None:
    """Every key may use MCP; agent-only narrows a key to it. A REST-only limit does not exist, by design."""
    out = mcp_call(f"{live_server.url}/mcp", limited(workspace, read_only=True), [("list_connectors", {})])
    assert not out["results"][0].is_error


def test_keys_are_created_and_shown_with_their_limits(api, workspace, pair) -> None:
    created = api.post("/api/v1/account/api-keys", {"name": "support agent", "connectors": ["stripe"],
                                                     "read_only": True})  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("pb_") and body["limits"] == {
        "connectors": ["stripe"], "read_only": True, "agent_only": False,
    }  # fmt: skip
    agent = ApiClient(body["key"])
    assert agent.get("/api/v1/account/api-keys/current").json()["limits"]["connectors"] == ["stripe"]
    assert agent.post("/api/v1/account/api-keys", {"name": "escalate"}).status_code == 403
    assert agent.post("/api/v1/integrations/applications", {"name": "escalate"}).status_code == 403
    listed = api.get("/api/v1/account/api-keys").json()
    assert {k["name"]: k["limits"]["read_only"] for k in listed} == {"support agent": True, "test key": False}
    bad = api.post("/api/v1/account/api-keys", {"name": "x", "connectors": ["not a slug!"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "connectors"
    key = ApiKey.objects.get(name="support agent")
    assert key.connector_limits == ["stripe"] and key.read_only and not key.agent_only


def test_the_dashboard_creates_and_shows_limited_keys(client, user, workspace) -> None:
    client.force_login(user)
    from workspaces.models import Membership

    Membership.objects.filter(user=user, workspace=workspace).update(role="owner")
    url = f"/w/{workspace.slug}/api-keys/new/"
    response = client.post(url, {"name": "agent", "connectors": "github, stripe", "read_only": "on"})
    assert response.status_code == 200
    key = ApiKey.objects.get(name="agent")
    assert key.connector_limits == ["github", "stripe"] and key.read_only and not key.agent_only
    page = client.get(f"/w/{workspace.slug}/api-keys/").content.decode()
    assert "github, stripe" in page and "Read-only" in page


def test_application_credentials_carry_limits_into_their_tokens(api, workspace, pair) -> None:
    github, stripe = pair
    created = api.post("/api/v1/integrations/applications", {"name": "airbyte agent", "connectors": ["github"],
                                                              "read_only": True})  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["limits"] == {"connectors": ["github"], "read_only": True, "agent_only": False}
    token = ApiClient(None).post(
        "/api/v1/account/applications/token", {"client_id": body["client_id"], "client_secret": body["client_secret"]}
    )
    app = ApiClient(token.json()["access_token"])
    assert [c["id"] for c in app.get(CONNECTORS).json()["data"]] == [str(github.pk)]
    assert app.get(f"{CONNECTORS}/{stripe.pk}").status_code == 403
    params = {"owner": "o", "repo": "r", "title": "t"}
    write = app.post(f"{CONNECTORS}/{github.pk}/execute", {"entity": "issues", "action": "create", "params": params})
    assert write.status_code == 403 and "read-only" in write.json()["message"]


def test_the_dashboard_creates_and_revokes_limited_application_credentials(client, user, workspace) -> None:
    from workspaces.models import ApplicationCredential, Membership

    client.force_login(user)
    Membership.objects.filter(user=user, workspace=workspace).update(role="owner")
    response = client.post(
        f"/w/{workspace.slug}/api-keys/applications/new/",
        {"name": "support", "connectors": "stripe", "agent_only": "on"},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    credential = ApplicationCredential.objects.get(name="support")
    assert credential.connector_limits == ["stripe"] and credential.agent_only and not credential.read_only
    page = response.content.decode()
    assert credential.client_id in page and "Copy the secret now" in page
    assert client.get(f"/w/{workspace.slug}/api-keys/").content.decode().count("Agents only") >= 2  # label + badge
    bad = client.post(f"/w/{workspace.slug}/api-keys/applications/new/", {"name": ""})
    assert bad.status_code == 422
    client.post(f"/w/{workspace.slug}/api-keys/applications/{credential.client_id}/revoke/")
    credential.refresh_from_db()
    assert credential.revoked_at is not None

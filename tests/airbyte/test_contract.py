"""The hosted API's contract that Airbyte's SDK relies on, through the REST API (no SDK needed): application
credentials and their tokens, JSON 404s under /api/, workspace_name, the extra shapes, execute options."""

from __future__ import annotations

import pytest
from django.core import signing

from connectors.models import Execution
from tests.conftest import ApiClient
from workspaces.models import ApplicationCredential, AuditEvent
from workspaces.services import _hash_secret

pytestmark = pytest.mark.django_db

APPS = "/api/v1/integrations/applications"
TOKEN = "/api/v1/account/applications/token"
BASE = "/api/v1/integrations/connectors"
STRIPE_ID = "e094cb9a-26de-4645-8761-65c0c425d1de"
SDK_HEADERS = {"X-ADP-Agent-SDK": "airbyte-agent-sdk"}


def new_application(api: ApiClient, name: str = "agent") -> dict:
    response = api.post(APPS, {"name": name})
    assert response.status_code == 201, response.json()
    return response.json()


def token_for(app: dict) -> str:
    response = ApiClient(None).post(TOKEN, {"client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert response.status_code == 200, response.json()
    return response.json()["access_token"]


# --- Application credentials -------------------------------------------------------------------------------------


def test_credentials_are_shown_once_stored_hashed_and_exchanged_for_a_token(api, workspace):
    app = new_application(api)
    assert app["client_id"].startswith("pbc_") and len(app["client_secret"]) >= 40
    stored = ApplicationCredential.objects.get(client_id=app["client_id"])
    assert stored.workspace == workspace
    assert app["client_secret"] not in stored.hashed_secret and stored.hashed_secret == _hash_secret(
        app["client_secret"]
    )
    listed = api.get(APPS).json()
    assert [a["client_id"] for a in listed] == [app["client_id"]]
    assert "client_secret" not in listed[0] and listed[0]["last_used_at"] is None

    response = ApiClient(None).post(TOKEN, {"client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] >= 900
    assert api.get(APPS).json()[0]["last_used_at"] is not None

    # The token works wherever an API key does, in the credential's workspace only.
    as_app = ApiClient(body["access_token"])
    assert as_app.get(BASE).status_code == 200
    created = as_app.post(BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_1"}})
    assert created.status_code == 201
    event = AuditEvent.objects.get(action="connector.create")
    assert event.actor_application == stored and event.actor_api_key is None
    assert event.actor_display.startswith("Application agent")


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "pbc_nope", "client_secret": "x"},
        {"client_id": "", "client_secret": ""},
    ],
)
def test_wrong_credentials_are_a_401_in_json(api, body):
    new_application(api)
    response = ApiClient(None).post(TOKEN, body)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"] == "Unknown client_id or wrong client_secret."


def test_a_wrong_secret_for_a_real_client_id_is_a_401(api):
    app = new_application(api)
    response = ApiClient(None).post(TOKEN, {"client_id": app["client_id"], "client_secret": "wrong"})
    assert response.status_code == 401 and "wrong client_secret" in response.json()["message"]
    missing = ApiClient(None).post(TOKEN, {"client_id": app["client_id"]})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "client_secret"


def test_revoking_kills_the_credentials_and_every_token_already_issued(api):
    app = new_application(api)
    token = token_for(app)
    assert ApiClient(token).get(BASE).status_code == 200
    assert api.delete(f"{APPS}/{app['client_id']}").status_code == 204
    refused = ApiClient(token).get(BASE)
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    again = ApiClient(None).post(TOKEN, {"client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert again.status_code == 401 and "revoked" in again.json()["message"]
    assert api.get(APPS).json()[0]["revoked_at"] is not None
    assert AuditEvent.objects.filter(action="application.revoke").count() == 1


def test_an_expired_or_forged_token_is_refused(api, settings, monkeypatch):
    app = new_application(api)
    token = token_for(app)
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + settings.PATCHBAY_APPLICATION_TOKEN_SECONDS + 5)
    expired = ApiClient(token).get(BASE)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    monkeypatch.undo()
    forged = ApiClient(token[:-3] + "abc").get(BASE)
    assert forged.status_code == 401 and forged.json()["message"] == "Unknown access token."
    other_salt = "pbt_" + signing.dumps({"c": ApplicationCredential.objects.get().pk})  # signed, wrong namespace
    assert ApiClient(other_salt).get(BASE).status_code == 401


def test_a_token_cannot_manage_credentials_and_other_workspaces_cannot_see_them(api, other_api):
    app = new_application(api)
    as_app = ApiClient(token_for(app))
    assert as_app.post(APPS, {"name": "escalate"}).status_code == 403
    assert as_app.get(APPS).status_code == 403
    assert as_app.delete(f"{APPS}/{app['client_id']}").status_code == 403
    assert other_api.delete(f"{APPS}/{app['client_id']}").status_code == 404
    assert other_api.get(APPS).json() == []
    assert api.post(APPS, {"name": ""}).json()["errors"][0]["field"] == "name"
    assert ApiClient(None).get(APPS).status_code == 401


# --- JSON 404 under /api/ ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api"),
        ("get", "/api/"),
        ("get", "/api/nothing"),
        ("get", "/api/v2/integrations/connectors"),
        ("get", "/api/v1/nothing/here"),
        ("post", "/api/v1/account/applications/tokens"),
        ("post", "/api/v1/account/nothing"),
        ("get", "/api/v1/integrations/connectors/x/y/z"),
        ("post", "/api/v1/integrations/connectors/abc/execute/prepare"),
        ("get", "/api/v1/workspaces"),
    ],
)
def test_every_unknown_path_under_api_is_a_json_404(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 404, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"] == "Not found."


# --- workspace_name -------------------------------------------------------------------------------------------------


def test_workspace_name_default_own_name_or_slug_work_any_other_is_404(api, workspace):
    created = api.post(
        BASE,
        {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_1"}, "workspace_name": "default"},
    )
    assert created.status_code == 201
    cid = created.json()["id"]
    for name in ("default", workspace.name, workspace.slug, workspace.name.upper()):
        assert len(api.get(BASE, {"workspace_name": name}).json()["data"]) == 1, name
        assert api.get(f"{BASE}/{cid}", {"workspace_name": name}).status_code == 200
    for name in ("Other Co", "someone-else", ""):
        listed = api.get(BASE, {"workspace_name": name})
        assert listed.status_code == 404 and listed.json()["message"].startswith("No workspace named")
        assert api.get(f"{BASE}/{cid}", {"workspace_name": name}).status_code == 404
    refused = api.post(
        BASE, {"connector_type": "stripe", "name": "S2", "credentials": {"api_key": "k"}, "workspace_name": "Other"}
    )
    assert refused.status_code == 404
    assert len(api.get(BASE).json()["data"]) == 1


# --- Shapes ---------------------------------------------------------------------------------------------------------


def test_rows_and_details_carry_the_hosted_source_template_names(api):
    cid = api.post(BASE, {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "k"}}).json()["id"]
    row = api.get(BASE, {"definition_id": STRIPE_ID}).json()["data"][0]
    detail = api.get(f"{BASE}/{cid}").json()
    for body in (row, detail):
        assert body["summarized_source_template"] == {"name": "Stripe"}
        assert body["source_template"] == {"source_definition_id": STRIPE_ID}
        assert body["connector_type"] == "Stripe" and body["slug"] == "stripe"


def test_field_errors_name_the_field_for_airbyte_sdk_callers(api):
    body = {"connector_type": "github", "name": "G", "credentials": {"personal_access_token": "x"}}
    plain = api.post(BASE, body).json()["errors"]
    assert plain == [
        {"field": "replication_config.repositories", "message": "This field is required.", "error_code": "required"}
    ]
    sdk = api.post(BASE, body, headers=SDK_HEADERS).json()["errors"]
    assert sdk[0]["userPresentableMessage"] == "replication_config.repositories: This field is required."
    pydantic = api.post(BASE, {"connector_type": "stripe"}, headers=SDK_HEADERS).json()["errors"]
    assert {e["userPresentableMessage"] for e in pydantic} >= {"name: This field is required."}


def test_listing_without_limit_returns_up_to_the_unpaged_bound(api, workspace):
    from connectors.api import UNPAGED_LIST_LIMIT
    from connectors.models import ConnectorDefinition
    from connectors.services import connector_create
    from workspaces.services import Actor

    stripe = ConnectorDefinition.objects.get(slug="stripe")
    for i in range(60):
        connector_create(
            workspace=workspace,
            definition=stripe,
            name=f"S{i}",
            credentials={"api_key": f"k{i}"},
            replication_config=None,
            auth_scheme=None,
            actor=Actor.system(),
        )
    everything = api.get(BASE).json()
    assert len(everything["data"]) == 60 and everything["next"] is None
    assert UNPAGED_LIST_LIMIT >= 1000
    page = api.get(BASE, {"limit": 50}).json()
    assert len(page["data"]) == 50 and page["next"]
    assert api.get(BASE, {"limit": 201}).status_code == 422


# --- Execute options ------------------------------------------------------------------------------------------------


@pytest.fixture
def stub(httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    return httpserver


@pytest.fixture
def stripe(api):
    body = {"connector_type": "stripe", "name": "Stripe", "credentials": {"api_key": "sk_test_OPTIONS"}}
    return api.post(BASE, body).json()["id"]


CUSTOMERS = {
    "object": "list",
    "has_more": True,
    "data": [
        {"id": "cus_1", "email": "a@example.com", "address": {"city": "Paris", "line1": "1 rue"}, "bio": "x" * 500},
        {"id": "cus_2", "email": "b@example.com", "address": None, "bio": "short"},
    ],
}


def test_execute_accepts_the_hosted_options_projects_truncates_and_keeps_intent(api, stripe, stub):
    stub.expect_request("/v1/customers").respond_with_json(CUSTOMERS)
    body = {
        "entity": "customers",
        "action": "list",
        "params": {"limit": 2},
        "skip_truncation": False,
        "select_fields": ["id", "address.city", "bio"],
        "exclude_fields": ["address.line1"],
        "intent": "Find the customer who wrote in about invoice 42",
    }
    response = api.post(f"{BASE}/{stripe}/execute", body)
    assert response.status_code == 200, response.json()
    result = response.json()["result"]
    assert [set(r) for r in result] == [{"id", "address", "bio"}, {"id", "bio"}]  # cus_2's address is null
    assert result[0]["address"] == {"city": "Paris"}
    assert result[0]["bio"].startswith("x" * 200) and result[0]["bio"].endswith("full value]")
    assert result[1]["bio"] == "short"
    execution = Execution.objects.get(pk=response.json()["execution_metadata"]["execution_id"])
    assert execution.intent == "Find the customer who wrote in about invoice 42"
    assert execution.result[0]["bio"] == "x" * 500  # the record keeps everything; only the answer is shaped

    default = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list", "exclude_fields": ["bio"]})
    assert all("bio" not in r and "email" in r for r in default.json()["result"])


def test_vendor_pagination_keys_for_airbyte_sdk_callers(api, stripe, stub):
    stub.expect_request("/v1/customers").respond_with_json(CUSTOMERS)
    request = {"entity": "customers", "action": "list", "params": {"limit": 2}}
    plain = api.post(f"{BASE}/{stripe}/execute", request).json()["connector_metadata"]
    assert plain == {"has_next_page": True, "end_cursor": plain["end_cursor"]}
    sdk = api.post(f"{BASE}/{stripe}/execute", request, headers=SDK_HEADERS).json()["connector_metadata"]
    assert sdk["has_next_page"] is True and sdk["has_more"] is True and sdk["end_cursor"]


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"select_fields": ["a..b"]}, "select_fields"),
        ({"exclude_fields": [""]}, "exclude_fields"),
        ({"select_fields": "id"}, "select_fields"),
        ({"intent": "x" * 513}, "intent"),
        ({"skip_truncation": "maybe"}, "skip_truncation"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_execute_options_are_422_naming_the_field(api, stripe, extra, field):
    response = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list", **extra})
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not Execution.objects.exists()


@pytest.mark.parametrize(
    "slug,entity,action,meta,expected",
    [
        ("stripe", "customers", "list", {"has_next_page": True, "end_cursor": "c1"}, {"has_more": True}),
        (
            "notion",
            "users",
            "list",
            {"has_next_page": True, "end_cursor": "n1"},
            {"has_more": True, "next_cursor": "n1"},
        ),
        ("salesforce", "soql", "query", {"has_next_page": False, "end_cursor": None}, {"done": True}),
        ("jira", "projects", "list", {"has_next_page": True, "end_cursor": "50"}, {"isLast": False}),
        ("stripe", "customers", "get", {"has_next_page": False, "end_cursor": None}, {}),
    ],
)
def test_vendor_page_keys_come_from_the_manifest(slug, entity, action, meta, expected):
    from types import SimpleNamespace

    from connectors.api import vendor_page_keys
    from connectors.models import ConnectorDefinition

    execution = SimpleNamespace(entity=entity, action=action, connector_metadata=meta)
    assert vendor_page_keys(ConnectorDefinition.objects.get(slug=slug), execution) == expected

"""The names another product uses, accepted beside ours: params (Stripe `id`, GitHub `number`), entities and actions
(GitHub `issue_comments` for `comments`), credentials (Airbyte's `token`, `client_secret`, the option_title markers)
and Stripe's `account_id` configuration. What is stored and sent is always under our own names."""

from __future__ import annotations

import pytest

from connectors.catalog import UnknownOperation
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.engine.conftest import RAW, point_at

BASE = "/api/v1/integrations/connectors"
STRIPE_ID = "e094cb9a-26de-4645-8761-65c0c425d1de"
GITHUB_ID = "ef69ef6e-aa7f-4af1-a01d-ef775033524e"
REPOS = {"repositories": ["octo/hello"]}


# --- Param aliases ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"customer": "cus_1"}, {"id": "cus_1"}])
def test_either_name_of_a_param_is_valid(manifests, params) -> None:
    assert validate_params(manifests["stripe"], "customers", "get", params) == []


def test_both_names_of_a_param_is_an_error_naming_both(manifests) -> None:
    errors = validate_params(manifests["stripe"], "customers", "get", {"customer": "cus_1", "id": "cus_2"})
    assert {e["field"] for e in errors} == {"params.customer", "params.id"}
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}
    assert "customer, id" in errors[0]["message"]


def test_errors_name_the_field_the_caller_used(manifests) -> None:
    assert validate_params(manifests["stripe"], "customers", "get", {"id": ""}) == [
        {"field": "params.id", "message": "Must be at least 1 character.", "error_code": "invalid_value"}
    ]
    github = manifests["github"]
    errors = validate_params(github, "issues", "get", {"owner": "o", "repo": "r", "number": "seven"})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.number", "invalid_type")]
    errors = validate_params(github, "issues", "get", {"owner": "o", "repo": "r", "issue_number": 0})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.issue_number", "invalid_value")]


def test_a_missing_param_says_which_other_names_it_takes(manifests) -> None:
    (error,) = validate_params(manifests["stripe"], "customers", "get", {})
    assert error["field"] == "params.customer" and error["error_code"] == "required"
    assert error["message"] == "This field is required. Also accepted as id."


@pytest.mark.parametrize("params", [{"issue_number": 7}, {"number": 7}])
def test_both_names_build_the_same_request(httpserver, params) -> None:
    httpserver.expect_request("/repos/octo/hello/issues/7/comments", method="GET").respond_with_json([])
    result = execute_operation(
        manifest=point_at(RAW["github"], httpserver.url_for("")),
        credentials={"personal_access_token": "ghp_x"},
        config=REPOS,
        entity="comments",
        action="list",
        params={"owner": "octo", "repo": "hello", **params},
        limits=Limits(max_attempts=1),
    )
    assert result.result == []
    ((request, _response),) = httpserver.log
    assert "number" not in request.args and "issue_number" not in request.args


def test_the_public_description_lists_param_aliases(manifests) -> None:
    from connectors.catalog.describe import public_description

    stripe = public_description(manifests["stripe"])["entities"]
    assert stripe["customers"]["actions"]["get"]["params"]["properties"]["customer"]["aliases"] == ["id"]
    github = public_description(manifests["github"])
    assert github["entities"]["comments"]["aliases"] == ["issue_comments"]
    pat = next(s for s in github["authSchemesDetail"] if s["key"] == "pat")
    assert pat["credentialAliases"]["token"] == "personal_access_token"


# --- Entity and action aliases ----------------------------------------------------------------------------------


def test_our_earlier_entity_name_still_works(manifests, httpserver) -> None:
    github = manifests["github"]
    assert github.action("issue_comments", "list") is github.action("comments", "list")
    assert "issue_comments" not in github.operations()  # listed once, under Airbyte's name
    assert github.aliases()["issue_comments.create"] == "comments.create"
    httpserver.expect_request("/repos/octo/hello/issues/3/comments", method="POST").respond_with_json({"id": 1})
    result = execute_operation(
        manifest=point_at(RAW["github"], httpserver.url_for("")),
        credentials={"personal_access_token": "ghp_x"},
        config=REPOS,
        entity="issue_comments",
        action="create",
        params={"owner": "octo", "repo": "hello", "issue_number": 3, "body": "hi"},
        limits=Limits(max_attempts=1),
    )
    assert result.result == {"id": 1}


def test_an_unknown_action_of_an_aliased_entity_lists_its_actions(manifests) -> None:
    with pytest.raises(UnknownOperation) as caught:
        manifests["github"].action("issue_comments", "explode")
    assert "Unknown action 'explode' for entity 'comments'" in str(caught.value)


# --- Through the API --------------------------------------------------------------------------------------------


@pytest.fixture
def stub(httpserver, settings):
    url = httpserver.url_for("").rstrip("/")
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": url}, "github": {"base_url": url}}
    return httpserver


def _stripe(api, **body) -> str:
    payload = {"definition_id": STRIPE_ID, "name": "Stripe", "credentials": {"api_key": "sk_test_x"}, **body}
    created = api.post(BASE, payload)
    assert created.status_code == 201, created.json()
    return created.json()["id"]


@pytest.mark.django_db
def test_execute_with_both_names_is_a_422_naming_both(api, stub) -> None:
    connector = _stripe(api)
    both = {"entity": "customers", "action": "get", "params": {"customer": "cus_1", "id": "cus_1"}}
    answer = api.post(f"{BASE}/{connector}/execute", both)
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"params.customer", "params.id"}
    stub.expect_request("/v1/customers/cus_1").respond_with_json({"id": "cus_1", "object": "customer"})
    one = api.post(f"{BASE}/{connector}/execute", {"entity": "customers", "action": "get", "params": {"id": "cus_1"}})
    assert one.status_code == 200, one.json()
    assert one.json()["result"] == {"id": "cus_1", "object": "customer"}


# --- Credential aliases -----------------------------------------------------------------------------------------


def _github(api, credentials):
    body = {"definition_id": GITHUB_ID, "name": "GitHub", "credentials": credentials, "replication_config": REPOS}
    return api.post(BASE, body)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"token": "ghp_alias"}, "pat", {"option_title": "PAT Credentials", "personal_access_token": "ghp_alias"}),
        (
            {"auth_type": "PAT Credentials", "token": "ghp_alias"},
            "pat",
            {"option_title": "PAT Credentials", "personal_access_token": "ghp_alias"},
        ),
        (
            {"credentials_title": "OAuth Credentials", "access_token": "gho_x"},
            "oauth",
            {"option_title": "OAuth Credentials", "access_token": "gho_x"},
        ),
        # The seed document's shape, exactly as before.
        (
            {"option_title": "PAT Credentials", "personal_access_token": "ghp_seed"},
            "pat",
            {"option_title": "PAT Credentials", "personal_access_token": "ghp_seed"},
        ),
    ],
)
def test_airbyte_credential_names_are_stored_under_ours(api, credentials, scheme, stored) -> None:
    created = _github(api, credentials)
    assert created.status_code == 201, created.json()
    connector = Connector.objects.get(pk=created.json()["id"])
    assert connector.auth_scheme == scheme
    assert connector_credentials(connector) == stored


@pytest.mark.django_db
def test_a_credential_under_two_names_is_refused_naming_both(api) -> None:
    answer = _github(api, {"token": "ghp_a", "personal_access_token": "ghp_b"})
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert {e["field"] for e in errors} == {"credentials.token", "credentials.personal_access_token"}
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}
    assert "ghp_a" not in answer.text and "ghp_b" not in answer.text


@pytest.mark.django_db
def test_credential_errors_name_the_field_sent(api) -> None:
    answer = _github(api, {"token": ""})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["credentials.token"]


@pytest.mark.django_db
def test_an_alias_updates_the_stored_field(api) -> None:
    created = _github(api, {"option_title": "PAT Credentials", "personal_access_token": "ghp_old"})
    patched = api.patch(f"{BASE}/{created.json()['id']}", {"credentials": {"token": "ghp_new"}})
    assert patched.status_code == 200, patched.json()
    stored = connector_credentials(Connector.objects.get(pk=created.json()["id"]))
    assert stored == {"option_title": "PAT Credentials", "personal_access_token": "ghp_new"}


@pytest.mark.django_db
def test_stripe_replication_shape_client_secret_is_the_api_key(api) -> None:
    connector = _stripe(api, credentials={"client_secret": "sk_test_replication"})
    assert connector_credentials(Connector.objects.get(pk=connector)) == {"api_key": "sk_test_replication"}


# --- Configuration ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_stripe_account_id_sends_the_stripe_account_header(api, stub) -> None:
    connector = _stripe(api, replication_config={"account_id": "acct_1Connected"})
    page = {"object": "list", "data": [], "has_more": False}
    stub.expect_ordered_request("/v1/customers", headers={"Stripe-Account": "acct_1Connected"}).respond_with_json(page)
    stub.expect_ordered_request("/v1/customers", headers={"Stripe-Account": "acct_2Other"}).respond_with_json(page)
    first = api.post(f"{BASE}/{connector}/execute", {"entity": "customers", "action": "list"})
    assert first.status_code == 200, first.json()
    # A call's own Stripe-Account param wins over the connector's account.
    params = {"Stripe-Account": "acct_2Other"}
    second = api.post(f"{BASE}/{connector}/execute", {"entity": "customers", "action": "list", "params": params})
    assert second.status_code == 200, second.json()
    stub.check_assertions()


@pytest.mark.django_db
def test_stripe_without_account_id_sends_no_stripe_account_header(api, stub) -> None:
    connector = _stripe(api)
    stub.expect_request("/v1/balance").respond_with_json({"object": "balance", "available": []})
    assert api.post(f"{BASE}/{connector}/execute", {"entity": "balance", "action": "get"}).status_code == 200
    ((request, _response),) = stub.log
    assert "Stripe-Account" not in request.headers


@pytest.mark.django_db
def test_a_malformed_account_id_is_refused_at_create(api) -> None:
    payload = {"definition_id": STRIPE_ID, "name": "S", "credentials": {"api_key": "sk_test_x"}}
    answer = api.post(BASE, {**payload, "replication_config": {"account_id": "not-an-account"}})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["replication_config.account_id"]

"""Every Harvest operation against a loopback stand-in that answers as Harvest's API v2 reference
(help.getharvest.com/api-v2) documents.

Each case is written from Harvest's reference, not from the manifest: the request (method, path under /v2, query,
or the JSON body of a write; the bearer token and the Harvest-Account-Id header on every call) and what comes back:
a list under the resource's plural key (`results` for reports) with `per_page`, `total_pages`, `total_entries`,
`next_page` and `links.next`, the URL Harvest asks clients to follow (a cursor or a page number in its query), or
one object, bare.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import InvalidInput, validate_credentials
from core.errors import OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "harvest"
TOKEN, ACCOUNT = "1234567.pt.harvest_depth_4242", "987654"
LIMITS = Limits(max_attempts=1)
LIST, ONE, BARE = "list", "one", "bare"
NEXT_CURSOR = "eyJhZnRlciI6eyJpZCI6MzAwN319"

# (entity, action, params, method, path under /v2, expected query (GET) or JSON body (exact), records key, kind)
HARVEST_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str, str]] = [
    ("clients", "get", {"id": 5735776}, "GET", "/clients/5735776", {}, "", ONE),
    ("clients", "list", {"is_active": True, "updated_since": "2026-01-01T00:00:00Z"}, "GET", "/clients",
     {"is_active": "true", "updated_since": "2026-01-01T00:00:00Z"}, "clients", LIST),
    ("company", "get", {}, "GET", "/company", {}, "", BARE),
    ("contacts", "get", {"id": "4706479"}, "GET", "/contacts/4706479", {}, "", ONE),
    ("contacts", "list", {"client_id": 5735776, "per_page": 100}, "GET", "/contacts",
     {"client_id": "5735776", "per_page": "100"}, "contacts", LIST),
    ("estimate_item_categories", "get", {"id": 1378704}, "GET", "/estimate_item_categories/1378704", {}, "", ONE),
    ("estimate_item_categories", "list", {}, "GET", "/estimate_item_categories", {}, "estimate_item_categories",
     LIST),
    ("estimates", "get", {"id": 1439818}, "GET", "/estimates/1439818", {}, "", ONE),
    ("estimates", "list", {"client_id": 5735776, "state": "sent", "from": "2026-01-01", "to": "2026-03-31"},
     "GET", "/estimates", {"client_id": "5735776", "state": "sent", "from": "2026-01-01", "to": "2026-03-31"},
     "estimates", LIST),
    ("expense_categories", "get", {"id": 4195926}, "GET", "/expense_categories/4195926", {}, "", ONE),
    ("expense_categories", "list", {"is_active": False}, "GET", "/expense_categories", {"is_active": "false"},
     "expense_categories", LIST),
    ("expenses", "get", {"id": 15296442}, "GET", "/expenses/15296442", {}, "", ONE),
    ("expenses", "list", {"project_id": 14307913, "is_billed": False, "from": "2026-02-01"}, "GET", "/expenses",
     {"project_id": "14307913", "is_billed": "false", "from": "2026-02-01"}, "expenses", LIST),
    ("invoice_item_categories", "get", {"id": 1466293}, "GET", "/invoice_item_categories/1466293", {}, "", ONE),
    ("invoice_item_categories", "list", {"updated_since": "2026-01-01T00:00:00Z"}, "GET",
     "/invoice_item_categories", {"updated_since": "2026-01-01T00:00:00Z"}, "invoice_item_categories", LIST),
    ("invoices", "get", {"id": 13150403}, "GET", "/invoices/13150403", {}, "", ONE),
    ("invoices", "list", {"client_id": 5735776, "state": "open", "page": 2}, "GET", "/invoices",
     {"client_id": "5735776", "state": "open", "page": "2"}, "invoices", LIST),
    ("projects", "get", {"id": 14308069}, "GET", "/projects/14308069", {}, "", ONE),
    ("projects", "list", {"is_active": True, "client_id": 5735776}, "GET", "/projects",
     {"is_active": "true", "client_id": "5735776"}, "projects", LIST),
    ("roles", "get", {"id": 617670}, "GET", "/roles/617670", {}, "", ONE),
    ("roles", "list", {"per_page": 2000}, "GET", "/roles", {"per_page": "2000"}, "roles", LIST),
    ("task_assignments", "list", {"is_active": True}, "GET", "/task_assignments", {"is_active": "true"},
     "task_assignments", LIST),
    ("tasks", "get", {"id": 8083800}, "GET", "/tasks/8083800", {}, "", ONE),
    ("tasks", "list", {"updated_since": "2026-03-01T12:00:00Z"}, "GET", "/tasks",
     {"updated_since": "2026-03-01T12:00:00Z"}, "tasks", LIST),
    ("time_entries", "create",
     {"project_id": 14307913, "task_id": 8083365, "spent_date": "2026-03-21", "hours": 1.5, "notes": "Review"},
     "POST", "/time_entries",
     {"project_id": 14307913, "task_id": 8083365, "spent_date": "2026-03-21", "hours": 1.5, "notes": "Review"}, "",
     ONE),
    ("time_entries", "get", {"id": 636718192}, "GET", "/time_entries/636718192", {}, "", ONE),
    ("time_entries", "list",
     {"user_id": 1782959, "is_running": False, "approval_status": "approved", "from": "2026-03-01",
      "to": "2026-03-31"},
     "GET", "/time_entries",
     {"user_id": "1782959", "is_running": "false", "approval_status": "approved", "from": "2026-03-01",
      "to": "2026-03-31"}, "time_entries", LIST),
    ("time_projects", "list", {"from": "2026-01-01", "to": "2026-03-31", "include_fixed_fee": False}, "GET",
     "/reports/time/projects", {"from": "2026-01-01", "to": "2026-03-31", "include_fixed_fee": "false"},
     "results", LIST),
    ("time_tasks", "list", {"from": "2026-01-01", "to": "2026-01-31"}, "GET", "/reports/time/tasks",
     {"from": "2026-01-01", "to": "2026-01-31"}, "results", LIST),
    ("user_assignments", "list", {"user_id": 1782959, "is_active": True}, "GET", "/user_assignments",
     {"user_id": "1782959", "is_active": "true"}, "user_assignments", LIST),
    ("users", "get", {"id": 1782974}, "GET", "/users/1782974", {}, "", ONE),
    ("users", "list", {"is_active": True}, "GET", "/users", {"is_active": "true"}, "users", LIST),
    ("users", "me", {}, "GET", "/users/me", {}, "", ONE),
]  # fmt: skip
EXTRAS = {"users.me", "time_entries.create"}
TOKEN_STORED = {"auth_type": "Token", "token": TOKEN, "account_id": ACCOUNT}
OAUTH = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "account_id": ACCOUNT}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("/v2")),
        credentials=kwargs.pop("credentials", {"token": TOKEN, "account_id": ACCOUNT}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(httpserver, key: str, ids: list[int], next_query: str | None) -> dict[str, Any]:
    """A list answer as Harvest documents it; links.next is an absolute URL on the API host (null at the end)."""
    path = "/v2/clients" if key == "clients" else "/v2/x"
    nxt = httpserver.url_for(path) + "?" + next_query if next_query else None
    return {
        key: [{"id": i, "name": f"n{i}"} for i in ids],
        "per_page": 2000,
        "total_pages": 2 if next_query else 1,
        "total_entries": len(ids) + (1 if next_query else 0),
        "next_page": None,
        "previous_page": None,
        "page": 1,
        "links": {"first": None, "next": nxt, "previous": None, "last": None},
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in HARVEST_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "fe2b4084-3386-4d3b-9ad6-308f61a6f1e6"
    assert {s.key for s in manifest.auth_schemes} == {"oauth", "token"}
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "key", "kind"),
    HARVEST_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in HARVEST_CASES],
)
def test_harvest_operation(httpserver, vendor, entity, action, params, method, path, expected, key, kind) -> None:
    one = {"id": 42, "name": "One", "created_at": "2026-03-01T10:00:00Z"}
    cursor_query = f"cursor={NEXT_CURSOR}&per_page=2000&ref=next_cursor"
    if kind == LIST:
        answer = _page(httpserver, key, [1, 2], cursor_query)
        answer["links"]["next"] = httpserver.url_for("/v2" + path) + "?" + cursor_query
        vendor.answer(answer)
    elif kind == BARE:
        vendor.answer({"id": 8, "base_uri": "https://acme.harvestapp.com", "full_domain": "acme.harvestapp.com"})
    else:
        vendor.answer(one, status=201 if method == "POST" else 200)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, "/v2" + path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Harvest-Account-Id"] == ACCOUNT
    assert request.headers["User-Agent"].startswith("Patchbay/")  # Harvest requires a User-Agent naming the app
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert TOKEN not in raw and "access_token" not in raw and "account_id" not in raw
    if kind == LIST:
        assert [r["id"] for r in result.result] == [1, 2]
        assert result.has_next_page is True
        assert result.end_cursor == f"/v2{path}?{cursor_query}"
    elif kind == BARE:
        assert result.result["full_domain"] == "acme.harvestapp.com"
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == one  # Harvest answers one object bare, without an envelope
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_query",
    [
        f"cursor={NEXT_CURSOR}&is_active=true&per_page=2&ref=next_cursor",  # cursor-based
        "is_active=true&page=2&per_page=2",  # page-based
    ],
)
def test_next_page_follows_links_next_on_the_same_host(httpserver, vendor, next_query) -> None:
    vendor.answer(_page(httpserver, "clients", [1, 2], next_query))
    vendor.answer(_page(httpserver, "clients", [3], None))
    params = {"is_active": True, "per_page": 2}
    first = _run(httpserver, "clients", "list", params)
    last = _run(httpserver, "clients", "list", {**params, "cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == {"is_active": "true", "per_page": "2"}
    second = vendor.requests[1]
    assert second.path == "/v2/clients"
    assert second.query_string.decode() == next_query  # exactly the link Harvest gave, filters included
    assert second.headers["Harvest-Account-Id"] == ACCOUNT
    assert [r["id"] for r in last.result] == [3]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # links.next: null


def test_a_next_link_to_another_host_or_resource_is_not_followed(httpserver, vendor) -> None:
    answer = _page(httpserver, "clients", [1], None)
    answer["links"]["next"] = "https://evil.example.com/v2/clients?cursor=abc"
    vendor.answer(answer)
    assert _run(httpserver, "clients", "list", {}).has_next_page is False
    answer = _page(httpserver, "clients", [1], None)
    answer["links"]["next"] = httpserver.url_for("/v2/users") + "?page=2"
    vendor.answer(answer)
    assert _run(httpserver, "clients", "list", {}).has_next_page is False


def test_a_forged_cursor_is_refused_before_any_call(httpserver, vendor) -> None:
    for cursor in ("https://evil.example.com/v2/clients", "/v2/users?page=2", "/v2/clients/../users"):
        with pytest.raises(OperationInputError) as caught:
            _run(httpserver, "clients", "list", {"cursor": cursor})
        assert caught.value.code == "invalid_cursor"
    assert vendor.requests == []


# --- Params ---------------------------------------------------------------------------------------------------------


def test_params_are_checked_against_harvests_reference(manifests) -> None:
    manifest = manifests[SLUG]

    def errors(entity: str, action: str, params: dict[str, Any]) -> set[tuple[str, str]]:
        return {(e["field"], e["error_code"]) for e in validate_params(manifest, entity, action, params)}

    assert errors("time_projects", "list", {"from": "2026-01-01"}) == {("params.to", "required")}
    assert errors("clients", "list", {"per_page": 2001}) == {("params.per_page", "invalid_value")}
    assert errors("invoices", "list", {"state": "sent"}) == {("params.state", "invalid_choice")}
    assert errors("time_entries", "create", {"project_id": 1, "task_id": 2}) == {("params.spent_date", "required")}
    assert errors("clients", "get", {"id": "12/../34"}) != set()
    assert errors("clients", "list", {"unknown": 1}) != set()


# --- Auth -----------------------------------------------------------------------------------------------------------


def test_oauth_access_token_and_account_id(httpserver, vendor) -> None:
    vendor.answer({"id": 1782959, "first_name": "Ada"})
    credentials = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "oauth_tok_1"}
    credentials["account_id"] = ACCOUNT
    result = _run(httpserver, "users", "me", {}, credentials=credentials, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer oauth_tok_1"
    assert vendor.last.headers["Harvest-Account-Id"] == ACCOUNT
    assert result.result["first_name"] == "Ada"


@pytest.mark.parametrize(
    ("scheme", "credentials", "missing"),
    [
        ("token", {"token": TOKEN}, "account_id"),
        ("oauth", OAUTH, "access_token"),
    ],
)
def test_a_missing_credential_fails_before_any_call(httpserver, vendor, scheme, credentials, missing) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "users", "me", {}, credentials=credentials, auth_scheme=scheme)
    assert caught.value.code == "credentials_missing"
    assert missing in caught.value.message
    assert vendor.requests == []


def test_oauth_endpoints_are_harvest_ids(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert oauth.authorization_url == "https://id.getharvest.com/oauth2/authorize"
    assert oauth.token_url == "https://id.getharvest.com/api/v2/oauth2/token"
    assert (oauth.client_auth, oauth.token_body, oauth.pkce) == ("body", "form", False)


def test_rejected_token_is_credentials_rejected_with_harvests_message(httpserver, vendor) -> None:
    vendor.answer(
        {"error": "invalid_token", "error_description": "The access token provided is expired or invalid."},
        status=401,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "users", "me", {})
    assert caught.value.code == "credentials_rejected"
    assert "expired or invalid" in caught.value.message


def test_429_is_rate_limited_with_retry_after(httpserver, vendor) -> None:
    vendor.answer({"message": "Too many requests"}, status=429, headers={"Retry-After": "15"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "clients", "list", {})
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 15


# --- Credential shapes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"token": TOKEN, "account_id": ACCOUNT}, "token", TOKEN_STORED),  # Airbyte's agent connector
        ({"auth_type": "Token", "api_token": TOKEN, "account_id": ACCOUNT}, "token", TOKEN_STORED),  # replication
        ({"api_token": TOKEN, "account_id": ACCOUNT}, "token", TOKEN_STORED),
        (OAUTH, "oauth", {"auth_type": "Client", **OAUTH}),
        ({"auth_type": "Client", **OAUTH}, "oauth", {"auth_type": "Client", **OAUTH}),
    ],
)
def test_airbyte_credential_shapes_are_stored_under_ours(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests[SLUG], credentials)
    assert chosen.key == scheme
    assert normalised == stored


def test_a_token_under_two_names_is_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests[SLUG], {"token": "a", "api_token": "b", "account_id": ACCOUNT})
    errors = {(e.field, e.error_code) for e in caught.value.errors}
    assert errors == {("credentials.token", "conflicting_fields"), ("credentials.api_token", "conflicting_fields")}


def test_the_account_id_is_required_and_numeric(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests[SLUG], {"auth_type": "Token", "token": TOKEN})
    assert {e.field for e in caught.value.errors} == {"credentials.account_id"}
    with pytest.raises(InvalidInput):
        validate_credentials(manifests[SLUG], {"token": TOKEN, "account_id": "acme"})

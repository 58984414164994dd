"""Every monday.com operation against a loopback stand-in that answers as monday.com's GraphQL API reference
(developer.monday.com/api-reference) documents.

Each case is written from monday.com's reference, not from the manifest: one POST to /v2 with a GraphQL document
(the root field the reference names, with its arguments) and its variables, the raw token in Authorization and the
API-Version header; the answer under `data.<root field>`. Items page by cursor: `items_page { cursor items }`, the
cursor null on the last page.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

TOKEN = "eyJhbGciOiJIUzI1NiJ9.depth_4242"
LIMITS = Limits(max_attempts=1)
CURSOR = "MSw5NzI4MDA0NjcsaV9YcmxJb0p1VEdYc1VWeGlxeF9kLDg4MiwzNXw0MTQ1NzU1MTE5"
VERSION = "2026-07"
ONE_ITEM = {"id": "obj_1", "name": "One"}
OAUTH = {"client_id": "c", "client_secret": "s", "access_token": "t", "refresh_token": "r"}

# (entity, action, params, root field and arguments the document must call, exact variables, records path)
MONDAY_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, Any], str]] = [
    ("activity_logs", "list", {"board_id": "b1", "limit": 50, "from": "2026-01-01T00:00:00Z"},
     r"boards\(ids: \[\$board_id\]\) \{ activity_logs\(limit: \$limit, page: \$page, from: \$from",
     {"board_id": "b1", "limit": 50, "from": "2026-01-01T00:00:00Z"}, "boards.0.activity_logs"),
    ("boards", "get", {"board_id": "b1"}, r"boards\(ids: \[\$board_id\]\)", {"board_id": "b1"}, "boards.0"),
    ("boards", "list", {"limit": 10, "page": 2, "state": "all", "workspace_ids": ["w1"]},
     r"boards\(limit: \$limit, page: \$page, board_kind: \$board_kind, state: \$state",
     {"limit": 10, "page": 2, "state": "all", "workspace_ids": ["w1"]}, "boards"),
    ("items", "create",
     {"board_id": "b1", "item_name": "Launch", "group_id": "topics", "column_values": '{"status": {"label": "Done"}}'},
     r"mutation CreateItem.*create_item\(board_id: \$board_id, item_name: \$item_name",
     {"board_id": "b1", "item_name": "Launch", "group_id": "topics", "column_values": '{"status": {"label": "Done"}}'},
     "create_item"),
    ("items", "get", {"item_id": "i1"}, r"items\(ids: \[\$item_id\]\)", {"item_id": "i1"}, "items.0"),
    ("items", "list", {"board_id": "b1", "limit": 100},
     r"boards\(ids: \[\$board_id\]\) \{ items_page\(limit: \$limit, cursor: \$cursor, query_params: \$query_params\)",
     {"board_id": "b1", "limit": 100}, "boards.0.items_page.items"),
    ("tags", "list", {"ids": ["t1"]}, r"tags\(ids: \$ids\)", {"ids": ["t1"]}, "tags"),
    ("teams", "get", {"team_id": "tm1"}, r"teams\(ids: \[\$team_id\]\)", {"team_id": "tm1"}, "teams.0"),
    ("teams", "list", {}, r"teams\(ids: \$ids\)", {}, "teams"),
    ("updates", "create", {"item_id": "i1", "body": "<p>Shipped</p>"},
     r"mutation CreateUpdate.*create_update\(item_id: \$item_id,\s*body: \$body",
     {"item_id": "i1", "body": "<p>Shipped</p>"}, "create_update"),
    ("updates", "get", {"update_id": "u1"}, r"updates\(ids: \[\$update_id\]\)", {"update_id": "u1"}, "updates.0"),
    ("updates", "list", {"limit": 100, "page": 3}, r"updates\(limit: \$limit, page: \$page\)",
     {"limit": 100, "page": 3}, "updates"),
    ("users", "get", {"user_id": "42"}, r"users\(ids: \[\$user_id\]\)", {"user_id": "42"}, "users.0"),
    ("users", "list", {"kind": "non_guests", "emails": ["ada@example.com"]},
     r"users\(limit: \$limit, page: \$page, kind: \$kind,\s*emails: \$emails",
     {"kind": "non_guests", "emails": ["ada@example.com"]}, "users"),
    ("users", "me", {}, r"\{ me \{ id name email", {}, "me"),
    ("workspaces", "get", {"workspace_id": "w1"}, r"workspaces\(ids: \[\$workspace_id\]\)", {"workspace_id": "w1"},
     "workspaces.0"),
    ("workspaces", "list", {"kind": "open", "limit": 50},
     r"workspaces\(limit: \$limit,\s*page: \$page, kind: \$kind, state: \$state\)", {"kind": "open", "limit": 50},
     "workspaces"),
]  # fmt: skip
EXTRAS = {"users.me", "items.create", "updates.create"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["monday"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_key": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _nest(path: str, leaf: Any) -> dict[str, Any]:
    """{"data": ...} with `leaf` at a dotted path whose integer parts are one-element lists."""
    value = leaf
    for part in reversed(path.split(".")):
        value = [value] if part.isdigit() else {part: value}
    return {"data": value, "account_id": 1}


def _items_page(ids: list[str], cursor: str | None) -> dict[str, Any]:
    return {"data": {"boards": [{"items_page": {"cursor": cursor, "items": [{"id": i, "name": i} for i in ids]}}]}}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["monday"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in MONDAY_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "80a54ea2-9959-4040-aac1-eee42423ec9b"
    reference = reference_operations("monday")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "call", "variables", "records"),
    MONDAY_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in MONDAY_CASES],
)
def test_monday_operation(httpserver, vendor, entity, action, params, call, variables, records) -> None:
    listed = not re.search(r"\.0$|^me$|^create_", records)
    leaf = [ONE_ITEM, {"id": "obj_2", "name": "Two"}] if listed else ONE_ITEM
    answer = _nest(records, leaf)
    if entity == "items" and action == "list":
        answer = _items_page(["obj_1", "obj_2"], CURSOR)
    vendor.answer(answer)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("POST", "/v2")
    assert request.headers["Authorization"] == TOKEN  # the raw token, no Bearer
    assert request.headers["API-Version"] == VERSION
    assert request.headers["Content-Type"].startswith("application/json")
    document = json.loads(vendor.bodies[-1])
    assert re.search(call, " ".join(document["query"].split())), document["query"]
    assert document["variables"] == variables
    assert TOKEN not in vendor.bodies[-1].decode()
    if entity == "items" and action == "list":
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, CURSOR)
    elif listed:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == ONE_ITEM


# --- Pagination -----------------------------------------------------------------------------------------------------


def test_items_next_page_sends_the_cursor_as_a_variable(httpserver, vendor) -> None:
    vendor.answer(_items_page(["a", "b"], CURSOR))
    vendor.answer(_items_page(["c"], None))
    first = _run(httpserver, "items", "list", {"board_id": "b1", "limit": 2})
    last = _run(httpserver, "items", "list", {"board_id": "b1", "limit": 2, "cursor": first.end_cursor})
    before, after = (json.loads(b) for b in vendor.bodies)
    assert before["variables"] == {"board_id": "b1", "limit": 2}
    assert after["variables"] == {"board_id": "b1", "limit": 2, "cursor": CURSOR}
    assert after["query"] == before["query"]
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # cursor: null on the last page


def test_numbered_lists_take_page_as_a_param(manifests) -> None:
    monday = manifests["monday"]
    for entity in ("boards", "users", "workspaces", "updates", "activity_logs"):
        action = monday.action(entity, "list")
        assert "page" in action.param_properties and not action.is_paginated, entity
    assert validate_params(monday, "boards", "list", {"page": 0})[0]["field"] == "params.page"
    assert validate_params(monday, "items", "list", {"board_id": "b1", "limit": 501})[0]["field"] == "params.limit"


# --- Errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ComplexityException", "rate_limited"),
        ("COMPLEXITY_BUDGET_EXHAUSTED", "rate_limited"),
        ("DAILY_LIMIT_EXCEEDED", "rate_limited"),
        ("USER_UNAUTHORIZED", "credentials_rejected"),
        ("InvalidBoardIdException", "not_found"),
    ],
)
def test_graphql_errors_are_classified_by_their_code(httpserver, vendor, code, expected) -> None:
    vendor.answer(
        {"errors": [{"message": "Budget exhausted", "extensions": {"code": code, "retry_in_seconds": 30}}],
         "account_id": 1}
    )  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "boards", "get", {"board_id": "b1"})
    assert caught.value.code == expected


def test_a_429_is_rate_limited_with_retry_after(httpserver, vendor) -> None:
    vendor.answer({"errors": [{"message": "Rate limit exceeded"}]}, status=429, headers={"Retry-After": "12"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "users", "me", {})
    assert (caught.value.code, caught.value.retry_after) == ("rate_limited", 12)


# --- Auth -----------------------------------------------------------------------------------------------------------


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"data": {"me": {"id": "1", "name": "Ada"}}})
    result = _run(httpserver, "users", "me", {}, credentials={"access_token": "mo_oauth_1"}, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer mo_oauth_1"
    assert result.result == {"id": "1", "name": "Ada"}


def test_oauth_uses_mondays_endpoints(manifests) -> None:
    oauth = manifests["monday"].scheme("oauth").oauth
    assert oauth.authorization_url == "https://auth.monday.com/oauth2/authorize"
    assert oauth.token_url == "https://auth.monday.com/oauth2/token"
    assert {"boards:read", "users:read", "me:read"} <= set(oauth.scopes)


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"api_key": TOKEN}, "api_token", {"auth_type": "api_token", "api_key": TOKEN}),  # Airbyte's agent connector
        # Airbyte's replication shape: the token is `api_token`, marked with auth_type.
        ({"auth_type": "api_token", "api_token": TOKEN}, "api_token", {"auth_type": "api_token", "api_key": TOKEN}),
        (
            {"auth_type": "oauth2.0", "client_id": "c", "client_secret": "s", "access_token": "t", "subdomain": ""},
            "oauth",
            {"auth_type": "oauth2.0", "client_id": "c", "client_secret": "s", "access_token": "t", "subdomain": ""},
        ),
        (
            OAUTH,
            "oauth",
            {"auth_type": "oauth2.0", **OAUTH},
        ),
    ],
)
def test_airbyte_credential_shapes_are_stored_under_ours(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests["monday"], credentials)
    assert (chosen.key, normalised) == (scheme, stored)


def test_a_token_under_both_names_is_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["monday"], {"api_key": TOKEN, "api_token": "other"})
    assert {e.field for e in caught.value.errors} == {"credentials.api_key", "credentials.api_token"}
    assert TOKEN not in str(caught.value.errors)


@pytest.mark.parametrize(
    ("entity", "action", "name"),
    [("boards", "get", "board_id"), ("items", "get", "item_id"), ("users", "get", "user_id")],
)
def test_id_is_accepted_for_each_get(httpserver, vendor, entity, action, name) -> None:
    vendor.answer({"data": {}})
    _run(httpserver, entity, action, {"id": "7"})
    assert json.loads(vendor.bodies[-1])["variables"] == {name: "7"}


@pytest.mark.parametrize("cursor_in", ["variables", None, "body"])
def test_a_graphql_cursor_goes_in_the_variables(httpserver, vendor, cursor_in) -> None:
    """Engine: a `cursor` page style on a GraphQL body sends the cursor as a variable (the body is the document)."""
    data = copy.deepcopy(RAW["monday"])
    pagination = data["entities"]["items"]["actions"]["list"]["pagination"]
    pagination.pop("cursor_in")
    if cursor_in:
        pagination["cursor_in"] = cursor_in
    vendor.answer(_items_page(["c"], None))
    execute_operation(
        manifest=point_at(data, httpserver.url_for("")),
        credentials={"api_key": TOKEN},
        config={},
        entity="items",
        action="list",
        params={"board_id": "b1", "cursor": CURSOR},
        limits=LIMITS,
    )
    document = json.loads(vendor.bodies[-1])
    assert document["variables"] == {"board_id": "b1", "cursor": CURSOR}
    assert set(document) == {"query", "variables"}

"""Every Notion operation against a loopback stand-in that answers as Notion's API reference (version 2025-09-03,
data sources) documents.

Each case is written from Notion's reference, not from the manifest: the request the operation must send (method,
path, query or JSON body, the `Notion-Version` header, the bearer credential) and the shape of what comes back (a
list of records with `next_cursor` / `has_more` pagination, or one object).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.engine import Limits, execute_operation
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "ntn_depth_4242"
NOTION_VERSION = "2025-09-03"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
RICH_TEXT = [{"type": "text", "text": {"content": "Hello"}}]

# (entity, action, params, method, path, expected query (GET) or JSON body (exact), answer kind)
NOTION_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("blocks", "create", {"block_id": "b1", "children": [{"paragraph": {"rich_text": RICH_TEXT}}], "after": "b0"},
     "PATCH", "/v1/blocks/b1/children", {"children": [{"paragraph": {"rich_text": RICH_TEXT}}], "after": "b0"}, ONE),
    ("blocks", "get", {"block_id": "b1"}, "GET", "/v1/blocks/b1", {}, ONE),
    ("blocks", "list", {"block_id": "b1", "page_size": 20}, "GET", "/v1/blocks/b1/children", {"page_size": "20"}, LIST),
    ("blocks", "update", {"block_id": "b1", "paragraph": {"rich_text": RICH_TEXT}, "in_trash": False},
     "PATCH", "/v1/blocks/b1", {"paragraph": {"rich_text": RICH_TEXT}, "in_trash": False}, ONE),
    ("comments", "create", {"parent": {"page_id": "p1"}, "rich_text": RICH_TEXT},
     "POST", "/v1/comments", {"parent": {"page_id": "p1"}, "rich_text": RICH_TEXT}, ONE),
    ("comments", "list", {"block_id": "p1", "page_size": 10}, "GET", "/v1/comments",
     {"block_id": "p1", "page_size": "10"}, LIST),
    ("data_sources", "get", {"data_source_id": "ds1"}, "GET", "/v1/data_sources/ds1", {}, ONE),
    ("data_sources", "list", {"query": "Tasks", "page_size": 25}, "POST", "/v1/search",
     {"filter": {"property": "object", "value": "data_source"}, "query": "Tasks", "page_size": 25}, LIST),
    ("data_sources", "query",
     {"data_source_id": "ds1", "filter": {"property": "Done", "checkbox": {"equals": True}},
      "sorts": [{"property": "Due", "direction": "ascending"}], "page_size": 5},
     "POST", "/v1/data_sources/ds1/query",
     {"filter": {"property": "Done", "checkbox": {"equals": True}},
      "sorts": [{"property": "Due", "direction": "ascending"}], "page_size": 5}, LIST),
    ("data_sources", "update", {"data_source_id": "ds1", "title": RICH_TEXT, "properties": {"Old": None}},
     "PATCH", "/v1/data_sources/ds1", {"title": RICH_TEXT, "properties": {"Old": None}}, ONE),
    ("pages", "create",
     {"parent": {"type": "data_source_id", "data_source_id": "ds1"}, "properties": {"Name": {"title": RICH_TEXT}}},
     "POST", "/v1/pages",
     {"parent": {"type": "data_source_id", "data_source_id": "ds1"}, "properties": {"Name": {"title": RICH_TEXT}}},
     ONE),
    ("pages", "get", {"page_id": "p1", "filter_properties": ["title"]}, "GET", "/v1/pages/p1",
     {"filter_properties": "title"}, ONE),
    ("pages", "list", {"query": "Plan", "sort": {"direction": "descending", "timestamp": "last_edited_time"}},
     "POST", "/v1/search",
     {"filter": {"property": "object", "value": "page"}, "query": "Plan",
      "sort": {"direction": "descending", "timestamp": "last_edited_time"}}, LIST),
    ("pages", "update", {"page_id": "p1", "in_trash": True}, "PATCH", "/v1/pages/p1", {"in_trash": True}, ONE),
    ("users", "get", {"user_id": "u1"}, "GET", "/v1/users/u1", {}, ONE),
    ("users", "list", {"page_size": 50}, "GET", "/v1/users", {"page_size": "50"}, LIST),
    ("users", "me", {}, "GET", "/v1/users/me", {}, ONE),
    ("workspace", "search", {"query": "Roadmap", "filter": {"property": "object", "value": "page"}, "page_size": 3},
     "POST", "/v1/search",
     {"query": "Roadmap", "filter": {"property": "object", "value": "page"}, "page_size": 3}, LIST),
]  # fmt: skip
EXTRAS = {"users.me", "data_sources.query", "workspace.search"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["notion"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(ids: list[str], next_cursor: str | None) -> dict[str, Any]:
    return {
        "object": "list",
        "results": [{"object": "page", "id": i} for i in ids],
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": "page_or_data_source",
        "page_or_data_source": {},
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["notion"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in NOTION_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["notion"]["headers"]["Notion-Version"] == NOTION_VERSION
    reference = reference_operations("notion")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    NOTION_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in NOTION_CASES],
)
def test_notion_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"object": "block", "id": "obj_1"}
    vendor.answer(_page(["obj_1", "obj_2"], "cursor_2") if kind == LIST else one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Notion-Version"] == NOTION_VERSION
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert TOKEN not in raw  # the credential goes only in the Authorization header
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, "cursor_2")


@pytest.mark.parametrize(
    ("entity", "action", "params", "where"),
    [
        ("data_sources", "query", {"data_source_id": "ds1", "page_size": 2}, "body"),
        ("pages", "list", {"query": "Plan"}, "body"),
        ("workspace", "search", {}, "body"),
        ("users", "list", {"page_size": 2}, "query"),
        ("blocks", "list", {"block_id": "b1"}, "query"),
        ("comments", "list", {"block_id": "p1"}, "query"),
    ],
)
def test_next_page_sends_start_cursor_where_notion_reads_it(httpserver, vendor, entity, action, params, where) -> None:
    """POST lists (search, data source queries) take start_cursor in the JSON body; GET lists in the query."""
    vendor.answer(_page(["a", "b"], "cursor_2"))
    vendor.answer(_page(["c"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    if where == "body":
        before, after = json.loads(vendor.bodies[0]), json.loads(vendor.bodies[1])
        assert "start_cursor" not in before
        assert after == {**before, "start_cursor": "cursor_2"}  # the same request, one page on
    else:
        before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
        assert after == {**before, "start_cursor": "cursor_2"} and not vendor.bodies[1]
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_has_more_false_ends_even_with_a_cursor(httpserver, vendor) -> None:
    vendor.answer({**_page(["a"], "stale"), "has_more": False})
    result = _run(httpserver, "users", "list", {})
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"object": "user", "id": "bot_1", "type": "bot"})
    result = _run(httpserver, "users", "me", {}, credentials={"access_token": "oauth_tok_1"}, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer oauth_tok_1"
    assert vendor.last.headers["Notion-Version"] == NOTION_VERSION
    assert result.result["id"] == "bot_1"


# --- Aliases: our earlier names (databases, blocks.append) ----------------------------------------------------------


def test_aliases_resolve_to_airbytes_names(manifests) -> None:
    notion = manifests["notion"]
    assert "databases" not in notion.operations()  # listed once, under Airbyte's name
    assert notion.aliases() == {
        "databases.list": "data_sources.list",
        "databases.get": "data_sources.get",
        "databases.update": "data_sources.update",
        "databases.query": "data_sources.query",
        "blocks.append": "blocks.create",
    }
    assert notion.action("databases", "query") is notion.action("data_sources", "query")
    assert notion.action("blocks", "append") is notion.action("blocks", "create")


@pytest.mark.parametrize(
    ("alias", "canonical", "params"),
    [
        (("databases", "list"), ("data_sources", "list"), {"query": "Tasks"}),
        (("databases", "get"), ("data_sources", "get"), {"data_source_id": "ds1"}),
        (("databases", "query"), ("data_sources", "query"), {"data_source_id": "ds1", "page_size": 1}),
        (("databases", "update"), ("data_sources", "update"), {"data_source_id": "ds1", "in_trash": True}),
        (("blocks", "append"), ("blocks", "create"), {"block_id": "b1", "children": [{"divider": {}}]}),
    ],
)
def test_an_alias_sends_the_same_request(httpserver, vendor, alias, canonical, params) -> None:
    for _ in range(2):
        vendor.answer(_page(["a"], "cursor_2"))
    by_alias = _run(httpserver, *alias, params)
    by_name = _run(httpserver, *canonical, params)
    first, second = vendor.requests
    assert (first.method, first.path, first.query_string) == (second.method, second.path, second.query_string)
    assert vendor.bodies[0] == vendor.bodies[1]
    assert first.headers["Notion-Version"] == NOTION_VERSION
    assert (by_alias.result, by_alias.has_next_page) == (by_name.result, by_name.has_next_page)


def test_data_source_query_needs_a_data_source_id(manifests) -> None:
    """A database ID is not a data source ID under 2025-09-03, so `database_id` is not taken in its place."""
    from connectors.catalog.params import validate_params

    errors = validate_params(manifests["notion"], "databases", "query", {"database_id": "db1"})
    assert {(e["field"], e["error_code"]) for e in errors} >= {("params.data_source_id", "required")}


# --- Through the API ------------------------------------------------------------------------------------------------

NOTION_ID = "6e00b415-b02e-4160-bf02-58176a0ae687"
BASE = "/api/v1/integrations/connectors"


@pytest.mark.django_db
def test_execute_through_the_api_under_our_earlier_name(api, httpserver, settings) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {"notion": {"base_url": httpserver.url_for("").rstrip("/")}}
    created = api.post(BASE, {"definition_id": NOTION_ID, "name": "Notion", "credentials": {"token": TOKEN}})
    assert created.status_code == 201, created.json()
    httpserver.expect_request(
        "/v1/data_sources/ds1/query", method="POST", headers={"Notion-Version": NOTION_VERSION}
    ).respond_with_json(_page(["row_1"], "cursor_2"))
    body = {"entity": "databases", "action": "query", "params": {"data_source_id": "ds1"}}
    answer = api.post(f"{BASE}/{created.json()['id']}/execute", body)
    assert answer.status_code == 200, answer.json()
    assert [r["id"] for r in answer.json()["result"]] == ["row_1"]
    assert answer.json()["connector_metadata"]["end_cursor"] == "cursor_2"

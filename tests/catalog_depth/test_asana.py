"""Every Asana operation against a loopback stand-in that answers as Asana's REST API reference (API 1.0,
developers.asana.com/reference) documents.

Each case is written from Asana's reference, not from the manifest: the request the operation must send (method,
path, query, or the JSON body with its `data` envelope, the bearer credential) and the shape of what comes back:
`{"data": [...], "next_page": {"offset": ...}}` for lists, `{"data": {...}}` for one object. Task search pages on
creation time (Asana offers no offset there); typeahead answers one page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "2/1204_depth_4242"
LIMITS = Limits(max_attempts=1)
OFFSET = "eyJ0eXAiOjE3fQ.next_page_2"
LIST, ONE, SEARCH, UNPAGED = "list", "one", "search", "unpaged"
SEARCH_DEFAULTS = {"sort_by": "created_at", "sort_ascending": "false", "opt_fields": "name,resource_subtype,created_at"}
ATTACHMENT_FIELDS = "name,resource_subtype,download_url,permanent_url,view_url,host,size,created_at"

# (entity, action, params, method, path, expected query (GET/DELETE) or JSON body (exact), answer kind)
ASANA_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("attachments", "download", {"attachment_gid": "a1"}, "GET", "/attachments/a1",
     {"opt_fields": ATTACHMENT_FIELDS}, ONE),
    ("attachments", "get", {"attachment_gid": "a1", "opt_fields": "name,host"}, "GET", "/attachments/a1",
     {"opt_fields": "name,host"}, ONE),
    ("attachments", "list", {"parent": "t1", "limit": 10}, "GET", "/attachments",
     {"parent": "t1", "limit": "10"}, LIST),
    ("project_sections", "create", {"project_gid": "p1", "data": {"name": "Next", "insert_after": "s0"}},
     "POST", "/projects/p1/sections", {"data": {"name": "Next", "insert_after": "s0"}}, ONE),
    ("project_sections", "list", {"project_gid": "p1", "limit": 5}, "GET", "/projects/p1/sections",
     {"limit": "5"}, LIST),
    ("project_tasks", "list", {"project_gid": "p1", "completed_since": "now"}, "GET", "/projects/p1/tasks",
     {"completed_since": "now"}, LIST),
    ("projects", "create",
     {"data": {"name": "Launch", "workspace": "w1", "team": "tm1", "privacy_setting": "private_to_team"}},
     "POST", "/projects",
     {"data": {"name": "Launch", "workspace": "w1", "team": "tm1", "privacy_setting": "private_to_team"}}, ONE),
    ("projects", "delete", {"project_gid": "p1"}, "DELETE", "/projects/p1", {}, ONE),
    ("projects", "get", {"project_gid": "p1"}, "GET", "/projects/p1", {}, ONE),
    ("projects", "list", {"workspace": "w1", "archived": False, "limit": 20}, "GET", "/projects",
     {"workspace": "w1", "archived": "false", "limit": "20"}, LIST),
    ("projects", "update", {"project_gid": "p1", "data": {"archived": True}}, "PUT", "/projects/p1",
     {"data": {"archived": True}}, ONE),
    ("section_tasks", "create", {"section_gid": "s1", "data": {"task": "t1", "insert_before": "t0"}},
     "POST", "/sections/s1/addTask", {"data": {"task": "t1", "insert_before": "t0"}}, ONE),
    ("section_tasks", "list", {"section_gid": "s1", "completed_since": "2026-01-01T00:00:00Z"}, "GET",
     "/sections/s1/tasks", {"completed_since": "2026-01-01T00:00:00Z"}, LIST),
    ("sections", "delete", {"section_gid": "s1"}, "DELETE", "/sections/s1", {}, ONE),
    ("sections", "get", {"section_gid": "s1"}, "GET", "/sections/s1", {}, ONE),
    ("sections", "update", {"section_gid": "s1", "data": {"name": "Done"}}, "PUT", "/sections/s1",
     {"data": {"name": "Done"}}, ONE),
    ("tag_tasks", "list", {"tag_gid": "g1", "limit": 3}, "GET", "/tags/g1/tasks", {"limit": "3"}, LIST),
    ("tags", "delete", {"tag_gid": "g1"}, "DELETE", "/tags/g1", {}, ONE),
    ("tags", "get", {"tag_gid": "g1"}, "GET", "/tags/g1", {}, ONE),
    ("tags", "update", {"tag_gid": "g1", "data": {"color": "dark-red"}}, "PUT", "/tags/g1",
     {"data": {"color": "dark-red"}}, ONE),
    ("task_dependencies", "list", {"task_gid": "t1"}, "GET", "/tasks/t1/dependencies", {}, LIST),
    ("task_dependents", "list", {"task_gid": "t1", "limit": 7}, "GET", "/tasks/t1/dependents", {"limit": "7"}, LIST),
    ("task_projects", "list", {"task_gid": "t1", "include_inherited_projects": True}, "GET", "/tasks/t1/projects",
     {"include_inherited_projects": "true"}, LIST),
    ("task_stories", "create", {"task_gid": "t1", "data": {"text": "Looks good"}}, "POST", "/tasks/t1/stories",
     {"data": {"text": "Looks good"}}, ONE),
    ("task_stories", "list",
     {"task_gid": "t1", "resource_subtype": "comment_added", "sort_ascending": False, "limit": 50},
     "GET", "/tasks/t1/stories", {"resource_subtype": "comment_added", "sort_ascending": "false", "limit": "50"}, LIST),
    ("task_subtasks", "list", {"task_gid": "t1"}, "GET", "/tasks/t1/subtasks", {}, LIST),
    ("task_tags", "create", {"task_gid": "t1", "data": {"tag": "g1"}}, "POST", "/tasks/t1/addTag",
     {"data": {"tag": "g1"}}, ONE),
    ("task_tags", "delete", {"task_gid": "t1", "data": {"tag": "g1"}}, "POST", "/tasks/t1/removeTag",
     {"data": {"tag": "g1"}}, ONE),
    ("tasks", "create", {"data": {"name": "Write docs", "projects": ["p1"], "due_on": "2026-12-01"}},
     "POST", "/tasks", {"data": {"name": "Write docs", "projects": ["p1"], "due_on": "2026-12-01"}}, ONE),
    ("tasks", "delete", {"task_gid": "t1"}, "DELETE", "/tasks/t1", {}, ONE),
    ("tasks", "get", {"task_gid": "t1", "opt_fields": "name,assignee"}, "GET", "/tasks/t1",
     {"opt_fields": "name,assignee"}, ONE),
    ("tasks", "list", {"project": "p1", "modified_since": "2026-01-01T00:00:00Z", "limit": 100}, "GET", "/tasks",
     {"project": "p1", "modified_since": "2026-01-01T00:00:00Z", "limit": "100"}, LIST),
    ("tasks", "update", {"task_gid": "t1", "data": {"completed": True}}, "PUT", "/tasks/t1",
     {"data": {"completed": True}}, ONE),
    ("team_projects", "list", {"team_gid": "tm1", "archived": True}, "GET", "/teams/tm1/projects",
     {"archived": "true"}, LIST),
    ("team_users", "list", {"team_gid": "tm1"}, "GET", "/teams/tm1/users", {}, LIST),
    ("teams", "get", {"team_gid": "tm1"}, "GET", "/teams/tm1", {}, ONE),
    ("user_teams", "list", {"user_gid": "me", "organization": "w1"}, "GET", "/users/me/teams",
     {"organization": "w1"}, LIST),
    ("users", "get", {"user_gid": "u1", "workspace": "w1"}, "GET", "/users/u1", {"workspace": "w1"}, ONE),
    ("users", "list", {"workspace": "w1", "limit": 100}, "GET", "/users", {"workspace": "w1", "limit": "100"}, LIST),
    ("users", "me", {}, "GET", "/users/me", {}, ONE),
    ("workspace_memberships", "create", {"workspace_gid": "w1", "data": {"user": "new@example.com"}},
     "POST", "/workspaces/w1/addUser", {"data": {"user": "new@example.com"}}, ONE),
    ("workspace_projects", "list", {"workspace_gid": "w1", "archived": False}, "GET", "/workspaces/w1/projects",
     {"archived": "false"}, LIST),
    ("workspace_tags", "create", {"workspace_gid": "w1", "data": {"name": "Urgent", "color": "dark-red"}},
     "POST", "/workspaces/w1/tags", {"data": {"name": "Urgent", "color": "dark-red"}}, ONE),
    ("workspace_tags", "list", {"workspace_gid": "w1"}, "GET", "/workspaces/w1/tags", {}, LIST),
    ("workspace_task_search", "list",
     {"workspace_gid": "w1", "text": "invoice", "assignee.any": "me", "completed": False, "limit": 50},
     "GET", "/workspaces/w1/tasks/search",
     {"text": "invoice", "assignee.any": "me", "completed": "false", "limit": "50", **SEARCH_DEFAULTS}, SEARCH),
    ("workspace_teams", "list", {"workspace_gid": "w1"}, "GET", "/workspaces/w1/teams", {}, LIST),
    ("workspace_users", "list", {"workspace_gid": "w1"}, "GET", "/workspaces/w1/users", {}, LIST),
    ("workspaces", "get", {"workspace_gid": "w1"}, "GET", "/workspaces/w1", {}, ONE),
    ("workspaces", "list", {"limit": 10}, "GET", "/workspaces", {"limit": "10"}, LIST),
    ("workspaces", "search", {"workspace_gid": "w1", "resource_type": "project", "query": "Lau", "count": 5},
     "GET", "/workspaces/w1/typeahead", {"resource_type": "project", "query": "Lau", "count": "5"}, UNPAGED),
]  # fmt: skip
EXTRAS = {"users.me", "task_stories.list", "workspaces.search"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["asana"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"personal_access_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(gids: list[str], offset: str | None) -> dict[str, Any]:
    """A list answer as Asana documents it: next_page is null on the last page."""
    path = f"/tasks?offset={offset}"
    next_page = {"offset": offset, "path": path, "uri": f"https://app.asana.com/api/1.0{path}"} if offset else None
    return {"data": [{"gid": g, "resource_type": "task", "name": g} for g in gids], "next_page": next_page}


def _found(created: list[str]) -> dict[str, Any]:
    """A task search answer: no next_page; each task carries the created_at asked for in opt_fields."""
    return {"data": [{"gid": f"t{i}", "resource_type": "task", "created_at": c} for i, c in enumerate(created)]}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["asana"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in ASANA_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.version == "2.0.0"
    reference = reference_operations("asana")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    ASANA_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in ASANA_CASES],
)
def test_asana_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"gid": "obj_1", "resource_type": "task", "name": "One"}
    answers = {
        LIST: _page(["obj_1", "obj_2"], OFFSET),
        SEARCH: _found(["2026-03-02T10:00:00.000Z", "2026-03-01T09:00:00.000Z"]),
        UNPAGED: {"data": [{"gid": "obj_1", "resource_type": "project", "name": "Launch"}]},
        ONE: {"data": one},
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    if method in ("GET", "DELETE"):
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected  # fields inside Asana's `data` envelope
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert TOKEN not in raw  # the token goes only in the Authorization header
    if kind == ONE:
        assert result.result == one  # unwrapped from `data`
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == LIST:
        assert [r["gid"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, OFFSET)
    elif kind == SEARCH:
        assert [r["gid"] for r in result.result] == ["t0", "t1"]
        assert (result.has_next_page, result.end_cursor) == (True, "2026-03-01T09:00:00.000Z")
    else:
        assert [r["name"] for r in result.result] == ["Launch"]
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_attachment_download_asks_for_the_download_url(httpserver, vendor) -> None:
    """Asana has no file-content endpoint: the attachment's short-lived download_url is the download."""
    url = "https://asana-user-private-us-east-1.s3.amazonaws.com/assets/123/report.pdf?X-Amz-Expires=120"
    vendor.answer({"data": {"gid": "a1", "resource_type": "attachment", "name": "report.pdf", "download_url": url}})
    result = _run(httpserver, "attachments", "download", {"attachment_gid": "a1"})
    assert "download_url" in query_of(vendor.last)["opt_fields"].split(",")
    assert result.result["download_url"] == url
    assert len(vendor.requests) == 1  # the file host is never called by the engine


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params"),
    [
        ("tasks", "list", {"project": "p1", "limit": 2}),
        ("project_tasks", "list", {"project_gid": "p1", "completed_since": "now"}),
        ("workspace_users", "list", {"workspace_gid": "w1"}),
        ("task_stories", "list", {"task_gid": "t1", "limit": 2}),
        ("attachments", "list", {"parent": "t1"}),
        ("users", "list", {"workspace": "w1"}),
    ],
)
def test_next_page_sends_the_offset_token_asana_returned(httpserver, vendor, entity, action, params) -> None:
    vendor.answer(_page(["a", "b"], OFFSET))
    vendor.answer(_page(["c"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert "offset" not in before
    assert after == {**before, "offset": OFFSET}  # the same request, one page on
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["gid"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # next_page: null


def test_task_search_pages_on_creation_time(httpserver, vendor) -> None:
    """Asana's documented way through search results: newest first, then created_at.before the last one seen."""
    params = {"workspace_gid": "w1", "text": "invoice", "limit": 2}
    vendor.answer(_found(["2026-03-02T10:00:00.000Z", "2026-03-01T09:00:00.000Z"]))
    vendor.answer(_found(["2026-02-20T08:00:00.000Z"]))
    vendor.answer(_found([]))
    first = _run(httpserver, "workspace_task_search", "list", params)
    second = _run(httpserver, "workspace_task_search", "list", {**params, "cursor": first.end_cursor})
    third = _run(httpserver, "workspace_task_search", "list", {**params, "cursor": second.end_cursor})
    queries = [query_of(r) for r in vendor.requests]
    assert queries[0] == {"text": "invoice", "limit": "2", **SEARCH_DEFAULTS}
    assert queries[1] == {**queries[0], "created_at.before": "2026-03-01T09:00:00.000Z"}
    assert queries[2] == {**queries[0], "created_at.before": "2026-02-20T08:00:00.000Z"}
    assert (third.result, third.has_next_page, third.end_cursor) == ([], False, None)


def test_task_search_without_created_at_in_the_fields_has_no_next_page(httpserver, vendor) -> None:
    vendor.answer({"data": [{"gid": "t1", "resource_type": "task", "name": "x"}]})
    result = _run(httpserver, "workspace_task_search", "list", {"workspace_gid": "w1", "opt_fields": "name"})
    assert query_of(vendor.last)["opt_fields"] == "name"  # the caller's fields win over the default
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_typeahead_is_one_page(manifests) -> None:
    action = manifests["asana"].action("workspaces", "search")
    assert not action.is_paginated
    errors = validate_params(manifests["asana"], "workspaces", "search", {"workspace_gid": "w1", "count": 101})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.count", "invalid_value"),
        ("params.resource_type", "required"),
    }


# --- Search ---------------------------------------------------------------------------------------------------------


def test_typeahead_search_returns_matching_objects(httpserver, vendor) -> None:
    vendor.answer({"data": [{"gid": "u1", "resource_type": "user", "name": "Ada Lovelace"}]})
    result = _run(httpserver, "workspaces", "search", {"workspace_gid": "w1", "resource_type": "user", "query": "ada"})
    assert vendor.last.path == "/workspaces/w1/typeahead"
    assert query_of(vendor.last) == {"resource_type": "user", "query": "ada"}
    assert result.result == [{"gid": "u1", "resource_type": "user", "name": "Ada Lovelace"}]


@pytest.mark.parametrize("name", ["text", "query"])
def test_task_search_takes_its_text_as_text_or_query(httpserver, vendor, name) -> None:
    vendor.answer(_found([]))
    _run(httpserver, "tasks", "search", {"workspace_gid": "w1", name: "quarterly report"})
    assert vendor.last.path == "/workspaces/w1/tasks/search"
    assert query_of(vendor.last)["text"] == "quarterly report"
    assert "query" not in query_of(vendor.last)


def test_task_search_with_text_and_query_is_refused(manifests) -> None:
    errors = validate_params(manifests["asana"], "tasks", "search", {"workspace_gid": "w1", "text": "a", "query": "b"})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.text", "conflicting_fields"),
        ("params.query", "conflicting_fields"),
    }


# --- Aliases: our earlier names -------------------------------------------------------------------------------------


def test_aliases_resolve_to_airbytes_names(manifests) -> None:
    asana = manifests["asana"]
    assert "stories" not in asana.operations()  # listed once, under Airbyte's name
    assert asana.aliases() == {
        "stories.list": "task_stories.list",
        "stories.create": "task_stories.create",
        "tasks.search": "workspace_task_search.list",
    }
    assert asana.action("stories", "create") is asana.action("task_stories", "create")
    assert asana.action("tasks", "search") is asana.action("workspace_task_search", "list")


@pytest.mark.parametrize(
    ("alias", "canonical", "params"),
    [
        (("stories", "list"), ("task_stories", "list"), {"task_gid": "t1", "limit": 5}),
        (("stories", "create"), ("task_stories", "create"), {"task_gid": "t1", "data": {"text": "hi"}}),
        (("tasks", "search"), ("workspace_task_search", "list"), {"workspace_gid": "w1", "text": "x"}),
    ],
)
def test_an_alias_sends_the_same_request(httpserver, vendor, alias, canonical, params) -> None:
    for _ in range(2):
        vendor.answer(_page(["a"], None))
    by_alias = _run(httpserver, *alias, params)
    by_name = _run(httpserver, *canonical, params)
    first, second = vendor.requests
    assert (first.method, first.path, first.query_string) == (second.method, second.path, second.query_string)
    assert vendor.bodies[0] == vendor.bodies[1]
    assert by_alias.result == by_name.result


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"data": {"gid": "u1", "resource_type": "user", "name": "Ada"}})
    credentials = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "oauth_tok_1"}
    result = _run(httpserver, "users", "me", {}, credentials=credentials, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer oauth_tok_1"
    assert result.result["gid"] == "u1"


# --- Through the API: credentials, configuration, earlier names -----------------------------------------------------

ASANA_ID = "d0243522-dccf-4978-8ba0-37ed47a0bdbf"
BASE = "/api/v1/integrations/connectors"
PAT = {"option_title": "PAT Credentials", "personal_access_token": TOKEN}


def _create(api, credentials: dict[str, Any], **body: Any):
    return api.post(BASE, {"definition_id": ASANA_ID, "name": "Asana", "credentials": credentials, **body})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"token": TOKEN}, "pat", PAT),  # Airbyte's agent connector
        ({"auth_type": "PAT Credentials", "token": TOKEN}, "pat", PAT),
        ({"credentials_title": "PAT Credentials", "personal_access_token": TOKEN}, "pat", PAT),
        (PAT, "pat", PAT),  # the seed document's replication shape, as before
        ({"personal_access_token": TOKEN}, "pat", PAT),  # Patchbay's own shape
        (
            {"credentials_title": "OAuth Credentials", "client_id": "c", "client_secret": "s", "refresh_token": "r"},
            "oauth",
            {"option_title": "OAuth Credentials", "client_id": "c", "client_secret": "s", "refresh_token": "r"},
        ),
        (
            {"option_title": "OAuth Credentials", "client_id": "c", "client_secret": "s", "refresh_token": "r"},
            "oauth",
            {"option_title": "OAuth Credentials", "client_id": "c", "client_secret": "s", "refresh_token": "r"},
        ),
    ],
)
def test_airbyte_credential_names_are_stored_under_ours(api, credentials, scheme, stored) -> None:
    created = _create(api, credentials)
    assert created.status_code == 201, created.json()
    connector = Connector.objects.get(pk=created.json()["id"])
    assert connector.auth_scheme == scheme
    assert connector_credentials(connector) == stored


@pytest.mark.django_db
def test_a_token_under_two_names_is_refused_naming_both(api) -> None:
    answer = _create(api, {"token": "2/a", "personal_access_token": "2/b"})
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert {e["field"] for e in errors} == {"credentials.token", "credentials.personal_access_token"}
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}
    assert "2/a" not in answer.text and "2/b" not in answer.text


@pytest.mark.django_db
def test_airbytes_source_config_fields_are_accepted(api) -> None:
    config = {"organization_export_ids": ["1204"], "num_workers": 10}
    created = _create(api, {"token": TOKEN}, replication_config=config)
    assert created.status_code == 201, created.json()
    assert Connector.objects.get(pk=created.json()["id"]).replication_config == config
    unknown = _create(api, {"token": TOKEN}, replication_config={"project_ids": ["1"]})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["replication_config.project_ids"]


@pytest.mark.django_db
def test_execute_through_the_api_under_our_earlier_name(api, httpserver, settings) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {"asana": {"base_url": httpserver.url_for("").rstrip("/")}}
    created = _create(api, {"token": TOKEN})
    assert created.status_code == 201, created.json()
    httpserver.expect_request(
        "/tasks/t1/stories", method="GET", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json(_page(["story_1"], OFFSET))
    body = {"entity": "stories", "action": "list", "params": {"task_gid": "t1"}}
    answer = api.post(f"{BASE}/{created.json()['id']}/execute", body)
    assert answer.status_code == 200, answer.json()
    assert [r["gid"] for r in answer.json()["result"]] == ["story_1"]
    assert answer.json()["connector_metadata"]["end_cursor"] == OFFSET

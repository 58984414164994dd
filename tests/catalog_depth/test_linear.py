"""Every Linear operation against a loopback stand-in that answers as Linear's GraphQL API documents.

Each case is written from Linear's API reference (https://linear.app/developers/graphql), not from the manifest: the
document sent (a query or a mutation on the right root field, with its variables), where the credentials go (the raw
API key in Authorization, or Bearer for OAuth) and the shape of what comes back: a relay connection's `nodes` with
`pageInfo { hasNextPage endCursor }` as pagination metadata, one object, or a mutation's payload.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from core.errors import OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

API_KEY = "lin_api_depth_4242"
OAUTH_TOKEN = "lin_oauth_depth_4242"
LIMITS = Limits(max_attempts=1)
CURSOR = "YTQ1ZmE2ZTgtZGVwdGg="
LIST, ONE = "list", "one"

# (entity, action, params, operation ("query Name" / "mutation Name"), root field, variables sent (exactly), kind)
CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    (
        "comments",
        "create",
        {"input": {"issueId": "iss_1", "body": "Looks good"}},
        "mutation CommentCreate",
        "commentCreate",
        {"input": {"issueId": "iss_1", "body": "Looks good"}},
        ONE,
    ),
    ("comments", "get", {"id": "com_1"}, "query Comment", "comment", {"id": "com_1"}, ONE),
    (
        "comments",
        "list",
        {"first": 20, "filter": {"issue": {"id": {"eq": "iss_1"}}}, "orderBy": "updatedAt"},
        "query Comments",
        "comments",
        {"first": 20, "filter": {"issue": {"id": {"eq": "iss_1"}}}, "orderBy": "updatedAt"},
        LIST,
    ),
    (
        "comments",
        "update",
        {"id": "com_1", "input": {"body": "Edited"}},
        "mutation CommentUpdate",
        "commentUpdate",
        {"id": "com_1", "input": {"body": "Edited"}},
        ONE,
    ),
    (
        "issues",
        "create",
        {"input": {"teamId": "team_1", "title": "Crash on save", "priority": 2}},
        "mutation IssueCreate",
        "issueCreate",
        {"input": {"teamId": "team_1", "title": "Crash on save", "priority": 2}},
        ONE,
    ),
    ("issues", "get", {"id": "ENG-123"}, "query Issue", "issue", {"id": "ENG-123"}, ONE),
    (
        "issues",
        "list",
        {"first": 10, "filter": {"team": {"key": {"eq": "ENG"}}}, "includeArchived": True},
        "query Issues",
        "issues",
        {"first": 10, "filter": {"team": {"key": {"eq": "ENG"}}}, "includeArchived": True},
        LIST,
    ),
    (
        "issues",
        "search",
        {"term": "crash on save", "includeComments": True, "teamId": "team_1"},
        "query SearchIssues",
        "searchIssues",
        {"term": "crash on save", "includeComments": True, "teamId": "team_1"},
        LIST,
    ),
    (
        "issues",
        "update",
        {"id": "ENG-123", "input": {"stateId": "state_done", "assigneeId": None, "addedLabelIds": ["lab_1"]}},
        "mutation IssueUpdate",
        "issueUpdate",
        {"id": "ENG-123", "input": {"stateId": "state_done", "assigneeId": None, "addedLabelIds": ["lab_1"]}},
        ONE,
    ),
    (
        "projects",
        "create",
        {"input": {"name": "Q3 launch", "teamIds": ["team_1"], "targetDate": "2026-09-30"}},
        "mutation ProjectCreate",
        "projectCreate",
        {"input": {"name": "Q3 launch", "teamIds": ["team_1"], "targetDate": "2026-09-30"}},
        ONE,
    ),
    ("projects", "get", {"id": "proj_1"}, "query Project", "project", {"id": "proj_1"}, ONE),
    ("projects", "list", {"first": 5}, "query Projects", "projects", {"first": 5}, LIST),
    (
        "projects",
        "update",
        {"id": "proj_1", "input": {"description": "Scope cut", "targetDate": None}},
        "mutation ProjectUpdate",
        "projectUpdate",
        {"id": "proj_1", "input": {"description": "Scope cut", "targetDate": None}},
        ONE,
    ),
    ("teams", "get", {"id": "team_1"}, "query Team", "team", {"id": "team_1"}, ONE),
    ("teams", "list", {}, "query Teams", "teams", {}, LIST),
    ("users", "get", {"id": "usr_1"}, "query User", "user", {"id": "usr_1"}, ONE),
    ("users", "list", {"includeDisabled": True}, "query Users", "users", {"includeDisabled": True}, LIST),
    ("users", "me", {}, "query Viewer", "viewer", {}, ONE),
    (
        "workflow_states",
        "list",
        {"filter": {"team": {"key": {"eq": "ENG"}}}},
        "query WorkflowStates",
        "workflowStates",
        {"filter": {"team": {"key": {"eq": "ENG"}}}},
        LIST,
    ),
]
IDS = [f"{c[0]}.{c[1]}" for c in CASES]
EXTRAS = {"users.me", "issues.search"}  # ours, not in Airbyte's list


@pytest.fixture(scope="module")
def linear(manifests):
    return manifests["linear"]


def _ours(manifest) -> set[str]:
    return {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(linear) -> None:
    ours = _ours(linear)
    assert ours == set(IDS), "a manifest operation without a stand-in case here (or the reverse)"
    assert linear.aliases() == {}  # our earlier names are Airbyte's: nothing to alias
    reference = reference_operations("linear")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS
        assert (len(ours), len(reference), len(ours & reference)) == (19, 17, 17)


def test_the_version_moved_past_the_first_depth_step(linear) -> None:
    assert tuple(int(part) for part in linear.version.split(".")) >= (1, 2, 0)


# --- The documents themselves ---------------------------------------------------------------------------------------


def _parse(query: str):
    graphql = pytest.importorskip("graphql")
    document = graphql.parse(query)
    (operation,) = document.definitions
    declared = {}
    for definition in operation.variable_definitions or ():
        declared[definition.variable.name.value] = graphql.print_ast(definition.type)
    (root,) = operation.selection_set.selections
    return operation.operation.value, operation.name.value, root, declared


@pytest.mark.parametrize(("entity", "action"), [c[:2] for c in CASES], ids=IDS)
def test_each_document_declares_exactly_the_params_it_takes(linear, entity, action) -> None:
    """Every param is a declared variable, every non-null variable a required param, and the operation kind matches
    how the engine treats it (queries read-only and retried, mutations not)."""
    spec = linear.action(entity, action)
    kind, _name, root, declared = _parse(spec.graphql_query)
    params = spec.params or {}
    properties = set(params.get("properties", {}))
    cursor = {"after"} if spec.is_paginated else set()
    assert set(declared) == properties | cursor, declared
    non_null = {name for name, type_ in declared.items() if type_.endswith("!")}
    assert non_null == set(params.get("required", [])), non_null
    used = {argument.value.name.value for argument in root.arguments or ()}
    assert used == set(declared)  # nothing declared and left unused (Linear refuses that document)
    assert spec.is_read_only is (kind == "query") and spec.is_idempotent is (kind == "query")
    if spec.is_paginated:
        assert declared["after"] == "String" and declared["first"] == "Int"
        selected = {field.name.value for field in root.selection_set.selections}
        assert {"nodes", "pageInfo"} <= selected
        page_info = next(f for f in root.selection_set.selections if f.name.value == "pageInfo")
        assert {f.name.value for f in page_info.selection_set.selections} == {"hasNextPage", "endCursor"}
        assert spec.pagination.page_info == f"data.{root.name.value}.pageInfo"
        assert spec.records == f"data.{root.name.value}.nodes"
    else:
        assert spec.records == f"data.{root.name.value}"


# --- Every operation against the stand-in ---------------------------------------------------------------------------


def _answer(root: str, kind: str, operation: str) -> dict[str, Any]:
    if kind == LIST:
        nodes = [{"id": "node_1"}, {"id": "node_2"}]
        return {"data": {root: {"nodes": nodes, "pageInfo": {"hasNextPage": True, "endCursor": CURSOR}}}}
    if operation.startswith("mutation"):
        return {"data": {root: {"success": True, "lastSyncId": 981, "record": {"id": "obj_1"}}}}
    return {"data": {root: {"id": "obj_1", "name": "One"}}}


def _run(httpserver, scheme: str, entity: str, action: str, params: dict[str, Any]):
    credentials = {"api_key": API_KEY} if scheme == "api_key" else {"access_token": OAUTH_TOKEN}
    return execute_operation(
        manifest=point_at(RAW["linear"], httpserver.url_for("")),
        auth_scheme=scheme,
        credentials=credentials,
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )


@pytest.mark.parametrize("scheme", ["api_key", "oauth"])
@pytest.mark.parametrize(("entity", "action", "params", "operation", "root", "variables", "kind"), CASES, ids=IDS)
def test_linear_operation(httpserver, vendor, scheme, entity, action, params, operation, root, variables, kind) -> None:
    answer = _answer(root, kind, operation)
    vendor.answer(answer, headers={"X-RateLimit-Requests-Remaining": "4999"})
    result = _run(httpserver, scheme, entity, action, params)
    (request,) = vendor.requests
    assert (request.method, request.path) == ("POST", "/graphql")
    assert not request.query_string
    assert request.headers["Content-Type"] == "application/json"
    expected_auth = API_KEY if scheme == "api_key" else f"Bearer {OAUTH_TOKEN}"
    assert request.headers["Authorization"] == expected_auth  # the personal key goes raw, no Bearer
    document = json.loads(vendor.bodies[-1])
    assert set(document) == {"query", "variables"}
    assert document["query"].startswith(operation + "(") or document["query"].startswith(operation + " ")
    assert f" {root}(" in document["query"] or f"{{ {root} {{" in document["query"]
    assert document["variables"] == variables
    assert API_KEY not in document["query"] and OAUTH_TOKEN not in json.dumps(document)
    if kind == LIST:
        assert result.result == [{"id": "node_1"}, {"id": "node_2"}]
        assert (result.has_next_page, result.end_cursor) == (True, CURSOR)
    else:
        assert result.result == answer["data"][root]
        assert (result.has_next_page, result.end_cursor) == (False, None)


PAGINATED = [c for c in CASES if c[6] == LIST]


@pytest.mark.parametrize(
    ("entity", "action", "params", "operation", "root", "variables", "kind"), PAGINATED, ids=[c[0] for c in PAGINATED]
)
def test_linear_next_page_sends_the_end_cursor_as_after(
    httpserver, vendor, entity, action, params, operation, root, variables, kind
) -> None:
    vendor.answer(_answer(root, LIST, operation))
    vendor.answer({"data": {root: {"nodes": [{"id": "node_3"}], "pageInfo": {"hasNextPage": False, "endCursor": "z"}}}})
    first = _run(httpserver, "api_key", entity, action, params)
    last = _run(httpserver, "api_key", entity, action, {**params, "cursor": first.end_cursor})
    assert json.loads(vendor.bodies[1])["variables"] == {**variables, "after": CURSOR}
    assert last.result == [{"id": "node_3"}]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # the last page: no cursor to send back


def test_an_empty_connection_has_no_next_page(httpserver, vendor) -> None:
    vendor.answer({"data": {"workflowStates": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}})
    result = _run(httpserver, "api_key", "workflow_states", "list", {})
    assert (result.result, result.has_next_page, result.end_cursor) == ([], False, None)


# --- Search ---------------------------------------------------------------------------------------------------------


def test_search_takes_query_as_another_name_for_term(httpserver, vendor, linear) -> None:
    vendor.answer(_answer("searchIssues", LIST, "query"))
    _run(httpserver, "api_key", "issues", "search", {"query": "ENG-123", "filter": {"priority": {"lte": 2}}})
    sent = json.loads(vendor.bodies[-1])["variables"]
    assert sent == {"term": "ENG-123", "filter": {"priority": {"lte": 2}}}
    errors = validate_params(linear, "issues", "search", {"term": "a", "query": "b"})
    assert {e["field"] for e in errors} == {"params.term", "params.query"}


def test_search_needs_a_term(linear) -> None:
    (error,) = validate_params(linear, "issues", "search", {"first": 5})
    assert (error["field"], error["error_code"]) == ("params.term", "required")
    (error,) = validate_params(linear, "issues", "search", {"term": ""})
    assert (error["field"], error["error_code"]) == ("params.term", "invalid_value")


# --- Refused before any call ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "field"),
    [
        ("issues", "update", {"id": "ENG-1"}, "params.input"),
        ("issues", "update", {"input": {"title": "x"}}, "params.id"),
        ("issues", "update", {"id": "ENG-1", "input": {"priority": 9}}, "params.input.priority"),
        ("projects", "create", {"input": {"name": "Q3"}}, "params.input.teamIds"),
        ("projects", "create", {"input": {"teamIds": ["team_1"]}}, "params.input.name"),
        ("projects", "update", {"input": {"name": "Q3"}}, "params.id"),
        ("comments", "update", {"id": "com_1", "input": {}}, "params.input.body"),
        ("comments", "get", {}, "params.id"),
        ("comments", "list", {"orderBy": "priority"}, "params.orderBy"),
        ("workflow_states", "list", {"first": 0}, "params.first"),
        ("workflow_states", "list", {"team": "ENG"}, "params.team"),
    ],
)
def test_invalid_params_are_refused_before_any_call(httpserver, vendor, entity, action, params, field) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "api_key", entity, action, params)
    assert field in {e["field"] for e in caught.value.errors}, caught.value.errors
    assert not vendor.requests


# --- Errors ---------------------------------------------------------------------------------------------------------


def test_a_graphql_error_on_a_mutation_is_an_error_not_a_result(httpserver, vendor) -> None:
    """Linear answers 200 (or 400) with an `errors` array; a failed update must not look like a result."""
    error = {"message": "Entity not found: Issue", "extensions": {"code": "INVALID_INPUT", "type": "invalid input"}}
    vendor.answer({"errors": [error], "data": None})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "api_key", "issues", "update", {"id": "ENG-404", "input": {"title": "x"}})
    assert "Entity not found" in caught.value.message
    assert len(vendor.requests) == 1


@pytest.mark.parametrize(
    ("entity", "action", "params", "attempts"),
    [
        ("comments", "list", {}, 2),  # a query is safe to send again after a 5xx
        ("comments", "update", {"id": "com_1", "input": {"body": "x"}}, 1),  # a mutation is not
    ],
)
def test_only_queries_are_retried_after_a_server_error(httpserver, vendor, entity, action, params, attempts) -> None:
    vendor.answer({"errors": [{"message": "Internal server error"}]}, status=500)
    vendor.answer(_answer("comments", LIST, "query"))
    run = dict(
        manifest=point_at(RAW["linear"], httpserver.url_for("")),
        credentials={"api_key": API_KEY},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=Limits(max_attempts=3),
        sleep=lambda _seconds: None,
    )
    if attempts == 1:
        with pytest.raises(UpstreamError):
            execute_operation(**run)
    else:
        assert len(execute_operation(**run).result) == 2
    assert len(vendor.requests) == attempts


def test_an_expired_token_is_credentials_rejected(httpserver, vendor) -> None:
    error = {"message": "Authentication required, not authenticated", "extensions": {"code": "AUTHENTICATION_ERROR"}}
    vendor.answer({"errors": [error]}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "oauth", "comments", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert OAUTH_TOKEN not in caught.value.message

"""Every ClickUp operation against a loopback stand-in that answers as ClickUp's API reference
(developer.clickup.com/reference, API v2, and v3 for Docs) documents.

Each case is written from ClickUp's reference, not from the manifest: the request the operation must send (method,
path under /api/v2 or /api/v3, query with ClickUp's bracketed array filters such as `statuses[]=`, or the exact JSON
body; the personal token as the bare Authorization header) and what comes back: a list under its plural key
(`{"teams": [...]}`), tasks 100 a page with `last_page`, Docs with `next_cursor`, one object (a task, a Space) as
the whole body, or one object under its singular key (`{"goal": {...}}`, `{"user": {...}}`, `{"data": {...}}`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

TOKEN = "pk_4242_DEPTHTOKEN0123456789ABCDEFGHIJ"
LIMITS = Limits(max_attempts=1)
V2 = "/api/v2"
ALL, PAGES, CURSOR, ONE, WHOLE = "all", "pages", "cursor", "one", "whole"
DOCS_CURSOR = "eyJuZXh0IjoiZG9jXzIifQ"

# (entity, action, params, method, path, expected query (GET) or exact JSON body, response key, answer kind)
CLICKUP_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str | None, str]] = [
    ("comments", "create",
     {"task_id": "9hz", "comment_text": "Looks good", "assignee": 183, "notify_all": True},
     "POST", f"{V2}/task/9hz/comment", {"comment_text": "Looks good", "assignee": 183, "notify_all": True}, None,
     WHOLE),
    ("comments", "get", {"comment_id": "458"}, "GET", f"{V2}/comment/458/reply", {}, "comments", ALL),
    ("comments", "list", {"task_id": "9hz", "start": 1700000000000, "start_id": "458"}, "GET",
     f"{V2}/task/9hz/comment", {"start": "1700000000000", "start_id": "458"}, "comments", ALL),
    ("comments", "update", {"comment_id": "458", "comment_text": "Done", "resolved": True}, "PUT",
     f"{V2}/comment/458", {"comment_text": "Done", "resolved": True}, None, WHOLE),
    ("docs", "get", {"workspaceId": "9011", "docId": "8cdu8-1"}, "GET", "/api/v3/workspaces/9011/docs/8cdu8-1", {},
     None, WHOLE),
    ("docs", "list", {"workspaceId": "9011", "parent_id": "90110", "parent_type": "SPACE", "limit": 10}, "GET",
     "/api/v3/workspaces/9011/docs", {"parent_id": "90110", "parent_type": "SPACE", "limit": "10"}, "docs", CURSOR),
    ("folders", "get", {"folder_id": "457"}, "GET", f"{V2}/folder/457", {}, None, WHOLE),
    ("folders", "list", {"space_id": "790", "archived": False}, "GET", f"{V2}/space/790/folder",
     {"archived": "false"}, "folders", ALL),
    ("goals", "get", {"goal_id": "e53a033c-900e-462d-a849-4a216b06d930"}, "GET",
     f"{V2}/goal/e53a033c-900e-462d-a849-4a216b06d930", {}, "goal", ONE),
    ("goals", "list", {"team_id": "9011", "include_completed": True}, "GET", f"{V2}/team/9011/goal",
     {"include_completed": "true"}, "goals", ALL),
    ("lists", "get", {"list_id": "124"}, "GET", f"{V2}/list/124", {}, None, WHOLE),
    ("lists", "list", {"folder_id": "457"}, "GET", f"{V2}/folder/457/list", {}, "lists", ALL),
    ("members", "list", {"task_id": "9hz"}, "GET", f"{V2}/task/9hz/member", {}, "members", ALL),
    ("spaces", "get", {"space_id": "790"}, "GET", f"{V2}/space/790", {}, None, WHOLE),
    ("spaces", "list", {"team_id": "9011", "archived": True}, "GET", f"{V2}/team/9011/space",
     {"archived": "true"}, "spaces", ALL),
    ("tasks", "create",
     {"list_id": "124", "name": "Write docs", "markdown_content": "# Plan", "assignees": [183], "tags": ["docs"],
      "priority": 3, "due_date": 1767225600000, "due_date_time": False, "notify_all": False,
      "custom_fields": [{"id": "0a52c486", "value": 23}]},
     "POST", f"{V2}/list/124/task",
     {"name": "Write docs", "markdown_content": "# Plan", "assignees": [183], "tags": ["docs"], "priority": 3,
      "due_date": 1767225600000, "due_date_time": False, "notify_all": False,
      "custom_fields": [{"id": "0a52c486", "value": 23}]}, None, WHOLE),
    ("tasks", "get", {"task_id": "9hz", "include_subtasks": True, "include_markdown_description": True}, "GET",
     f"{V2}/task/9hz", {"include_subtasks": "true", "include_markdown_description": "true"}, None, WHOLE),
    ("tasks", "list",
     {"list_id": "124", "statuses": ["to do", "in progress"], "assignees": ["183", "184"], "include_closed": True,
      "order_by": "updated", "date_updated_gt": 1700000000000},
     "GET", f"{V2}/list/124/task",
     {"statuses[]": ["to do", "in progress"], "assignees[]": ["183", "184"], "include_closed": "true",
      "order_by": "updated", "date_updated_gt": "1700000000000"}, "tasks", PAGES),
    ("tasks", "search",
     {"team_id": "9011", "list_ids": ["124", "125"], "tags": ["urgent"], "subtasks": True, "page": 0},
     "GET", f"{V2}/team/9011/task",
     {"list_ids[]": ["124", "125"], "tags[]": "urgent", "subtasks": "true", "page": "0"}, "tasks", PAGES),
    ("tasks", "update",
     {"task_id": "9hz", "status": "in progress", "assignees": {"add": [183], "rem": [182]}, "archived": False},
     "PUT", f"{V2}/task/9hz", {"status": "in progress", "assignees": {"add": [183], "rem": [182]}, "archived": False},
     None, WHOLE),
    ("teams", "list", {}, "GET", f"{V2}/team", {}, "teams", ALL),
    ("time_tracking", "get", {"team_id": "9011", "timer_id": "1963465985517105840", "include_task_tags": True},
     "GET", f"{V2}/team/9011/time_entries/1963465985517105840", {"include_task_tags": "true"}, "data", ONE),
    ("time_tracking", "list",
     {"team_id": "9011", "start_date": 1767225600000, "end_date": 1767830400000, "assignee": "183,184",
      "list_id": "124", "is_billable": True},
     "GET", f"{V2}/team/9011/time_entries",
     {"start_date": "1767225600000", "end_date": "1767830400000", "assignee": "183,184", "list_id": "124",
      "is_billable": "true"}, "data", ALL),
    ("user", "get", {}, "GET", f"{V2}/user", {}, "user", ONE),
    ("view_tasks", "list", {"view_id": "3c-105"}, "GET", f"{V2}/view/3c-105/task", {}, "tasks", PAGES),
    ("views", "get", {"view_id": "3c-105"}, "GET", f"{V2}/view/3c-105", {}, "view", ONE),
    ("views", "list", {"team_id": "9011"}, "GET", f"{V2}/team/9011/view", {}, "views", ALL),
]  # fmt: skip
EXTRAS = {"tasks.create", "tasks.update"}


def _query(request) -> dict[str, Any]:
    """The query string, a repeated name (ClickUp's `statuses[]`) as a list of its values in order."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(request.query_string.decode(), keep_blank_values=True):
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["clickup-api"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_key": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _tasks(ids: list[str], *, last_page: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {"tasks": [{"id": i, "name": i, "status": {"status": "to do"}} for i in ids]}
    if last_page is not None:
        body["last_page"] = last_page
    return body


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["clickup-api"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in CLICKUP_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "311a7a27-3fb5-4f7e-8265-5e4afe258b66"
    reference = reference_operations("clickup-api")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "key", "kind"),
    CLICKUP_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in CLICKUP_CASES],
)
def test_clickup_operation(httpserver, vendor, entity, action, params, method, path, expected, key, kind) -> None:
    one = {"id": "obj_1", "name": "One"}
    answers = {
        ALL: {key: [{"id": "obj_1"}, {"id": "obj_2"}]},
        PAGES: _tasks(["obj_1", "obj_2"], last_page=False),
        CURSOR: {key: [{"id": "obj_1"}, {"id": "obj_2"}], "next_cursor": DOCS_CURSOR},
        ONE: {key: one},
        WHOLE: one,
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == TOKEN  # the bare token: no Bearer, no Basic
    if method == "GET":
        assert not vendor.bodies[-1]
        assert _query(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not _query(request)
        assert json.loads(vendor.bodies[-1]) == expected
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert TOKEN not in raw
    if kind in (ONE, WHOLE):
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        expected_page = {
            ALL: (False, None),
            PAGES: (True, str(int(params.get("page", 0)) + 1)),
            CURSOR: (True, DOCS_CURSOR),
        }
        assert (result.has_next_page, result.end_cursor) == expected_page[kind]


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params"),
    [
        ("tasks", "list", {"list_id": "124", "include_closed": True}),
        ("tasks", "search", {"team_id": "9011", "statuses": ["open"]}),
        ("view_tasks", "list", {"view_id": "3c-105"}),
    ],
)
def test_task_pages_count_from_zero_until_last_page(httpserver, vendor, entity, action, params) -> None:
    vendor.answer(_tasks(["a", "b"], last_page=False))
    vendor.answer(_tasks(["c"], last_page=False))
    vendor.answer(_tasks(["d"], last_page=True))
    first = _run(httpserver, entity, action, params)
    second = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    third = _run(httpserver, entity, action, {**params, "cursor": second.end_cursor})
    queries = [_query(r) for r in vendor.requests]
    assert "page" not in queries[0]  # ClickUp's first page is page 0, its default
    assert queries[1] == {**queries[0], "page": "1"}
    assert queries[2] == {**queries[0], "page": "2"}
    assert {r.path for r in vendor.requests} == {vendor.requests[0].path}
    assert (first.end_cursor, second.end_cursor) == ("1", "2")
    assert [t["id"] for t in third.result] == ["d"]
    assert (third.has_next_page, third.end_cursor) == (False, None)


def test_without_last_page_a_short_page_is_the_last(httpserver, vendor) -> None:
    """ClickUp: at most 100 tasks a page; fewer means the end, whether or not the answer says last_page."""
    vendor.answer(_tasks([f"t{i}" for i in range(100)], last_page=None))
    vendor.answer(_tasks(["t100"], last_page=None))
    full = _run(httpserver, "tasks", "search", {"team_id": "9011", "page": 4})
    short = _run(httpserver, "tasks", "search", {"team_id": "9011", "cursor": full.end_cursor})
    assert (full.has_next_page, full.end_cursor) == (True, "5")
    assert _query(vendor.requests[1]) == {"page": "5"}
    assert (short.has_next_page, short.end_cursor) == (False, None)


def test_an_empty_task_page_ends(httpserver, vendor) -> None:
    vendor.answer({"tasks": [], "last_page": False})
    result = _run(httpserver, "tasks", "list", {"list_id": "124", "page": 3})
    assert (result.result, result.has_next_page, result.end_cursor) == ([], False, None)


@pytest.mark.parametrize("cursor", ["-1", "1.5", "abc", "1" * 10])
def test_a_page_cursor_must_be_a_page_number(httpserver, vendor, cursor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "tasks", "list", {"list_id": "124", "cursor": cursor})
    assert caught.value.code == "invalid_cursor"
    assert not vendor.requests


def test_docs_next_page_sends_the_cursor_clickup_returned(httpserver, vendor) -> None:
    vendor.answer({"docs": [{"id": "d1"}], "next_cursor": DOCS_CURSOR})
    vendor.answer({"docs": [{"id": "d2"}], "next_cursor": None})
    params = {"workspaceId": "9011", "archived": False}
    first = _run(httpserver, "docs", "list", params)
    last = _run(httpserver, "docs", "list", {**params, "cursor": first.end_cursor})
    assert _query(vendor.requests[0]) == {"archived": "false"}
    assert _query(vendor.requests[1]) == {"archived": "false", "cursor": DOCS_CURSOR}
    assert (last.has_next_page, last.end_cursor) == (False, None)


# --- Params ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("docs", "get", {"workspace_id": "9011", "doc_id": "8cdu8-1"}, "/api/v3/workspaces/9011/docs/8cdu8-1"),
        ("docs", "list", {"workspace_id": "9011"}, "/api/v3/workspaces/9011/docs"),
        ("time_tracking", "get", {"team_id": "9011", "time_entry_id": "196"}, f"{V2}/team/9011/time_entries/196"),
    ],
)
def test_airbytes_path_param_names_build_the_same_request(httpserver, vendor, entity, action, params, path) -> None:
    vendor.answer({"data": {"id": "196"}, "docs": []})
    _run(httpserver, entity, action, params)
    assert vendor.last.path == path


def test_a_path_param_under_both_names_is_refused(manifests) -> None:
    errors = validate_params(
        manifests["clickup-api"], "time_tracking", "get", {"team_id": "1", "timer_id": "2", "time_entry_id": "3"}
    )
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.timer_id", "conflicting_fields"),
        ("params.time_entry_id", "conflicting_fields"),
    }


@pytest.mark.parametrize(
    ("entity", "action", "params", "field"),
    [
        ("tasks", "create", {"list_id": "124"}, "params.name"),
        ("tasks", "create", {"list_id": "124", "name": "x", "priority": 5}, "params.priority"),
        ("tasks", "list", {"list_id": "124", "order_by": "name"}, "params.order_by"),
        ("docs", "list", {"workspaceId": "9011", "limit": 5}, "params.limit"),
        ("comments", "create", {"task_id": "9hz"}, "params.comment_text"),
    ],
)
def test_clickups_bounds_are_checked_before_any_call(manifests, entity, action, params, field) -> None:
    errors = validate_params(manifests["clickup-api"], entity, action, params)
    assert field in {e["field"] for e in errors}


def test_custom_task_ids_go_in_the_query_beside_the_body(httpserver, vendor) -> None:
    vendor.answer({"id": "90", "hist_id": "26", "date": 1568036964079})
    _run(
        httpserver,
        "comments",
        "create",
        {"task_id": "DEV-42", "custom_task_ids": True, "team_id": "9011", "comment_text": "hi"},
    )
    assert vendor.last.path == f"{V2}/task/DEV-42/comment"
    assert _query(vendor.last) == {"custom_task_ids": "true", "team_id": "9011"}
    assert json.loads(vendor.bodies[-1]) == {"comment_text": "hi"}


# --- Auth, errors, rate limits --------------------------------------------------------------------------------------


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"user": {"id": 183, "username": "Ada"}})
    result = _run(httpserver, "user", "get", {}, credentials={"access_token": "cu_oauth_1"}, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer cu_oauth_1"
    assert result.result == {"id": 183, "username": "Ada"}


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"api_key": TOKEN}, "api_key", {"api_key": TOKEN}),  # the reference's name
        ({"api_token": TOKEN}, "api_key", {"api_key": TOKEN}),  # Airbyte's replication name
        ({"access_token": "cu_oauth"}, "oauth", {"access_token": "cu_oauth"}),
    ],
)
def test_credential_names_are_stored_under_ours(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests["clickup-api"], credentials)
    assert chosen.key == scheme
    assert normalised == stored


def test_a_token_under_both_names_is_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["clickup-api"], {"api_key": "pk_a", "api_token": "pk_b"})
    assert {e.field for e in caught.value.errors} == {"credentials.api_key", "credentials.api_token"}
    assert "pk_a" not in str(caught.value.errors) and "pk_b" not in str(caught.value.errors)


def test_a_rejected_token_is_credentials_rejected_with_clickups_message(httpserver, vendor) -> None:
    from connectors.engine import UpstreamError

    vendor.answer({"err": "Token invalid", "ECODE": "OAUTH_025"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "user", "get", {})
    assert caught.value.code == "credentials_rejected"
    assert "Token invalid" in str(caught.value)


def test_a_rate_limited_call_waits_for_clickups_reset(httpserver, vendor) -> None:
    import time

    delays: list[float] = []
    reset = int(time.time()) + 3
    vendor.answer(
        {"err": "Rate limit reached", "ECODE": "APP_002"},
        status=429,
        headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    vendor.answer({"teams": [{"id": "9011"}]})
    result = _run(
        httpserver, "teams", "list", {}, limits=Limits(max_attempts=2, max_retry_seconds=30), sleep=delays.append
    )
    assert result.result == [{"id": "9011"}]
    assert len(delays) == 1 and 0 < delays[0] <= 4  # X-RateLimit-Reset, epoch seconds

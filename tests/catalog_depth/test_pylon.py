"""Every Pylon operation against a loopback stand-in that answers as Pylon's API reference
(docs.usepylon.com/pylon-docs/developer/api/api-reference) documents.

Each case is written from Pylon's reference, not from the manifest: the request the operation must send (method,
path, query or the exact JSON body, the API token as a bearer token) and what comes back: `{"data": [...],
"pagination": {"cursor": ..., "has_next_page": ...}, "request_id": ...}` for lists, `{"data": {...}}` for one
object. Pylon answers errors as `{"errors": ["..."], "request_id": ...}`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "pylon_depth_4242"
LIMITS = Limits(max_attempts=1)
NEXT = "eyJpZCI6Im9ial8yIn0"
LIST, ONE, EMPTY = "list", "one", "empty"
CF = [{"slug": "tier", "value": "enterprise"}]
RANGE = {"start_time": "2026-03-01T00:00:00Z", "end_time": "2026-03-31T00:00:00Z"}

# (entity, action, params, method, path, expected query (GET/DELETE) or exact JSON body, answer kind)
PYLON_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("accounts", "create",
     {"name": "Acme", "domains": ["acme.com"], "primary_domain": "acme.com", "tags": ["vip"], "custom_fields": CF},
     "POST", "/accounts",
     {"name": "Acme", "domains": ["acme.com"], "primary_domain": "acme.com", "tags": ["vip"], "custom_fields": CF},
     ONE),
    ("accounts", "get", {"id": "acc_1"}, "GET", "/accounts/acc_1", {}, ONE),
    ("accounts", "list", {"limit": 50}, "GET", "/accounts", {"limit": "50"}, LIST),
    ("accounts", "update", {"id": "acc_1", "owner_id": "u1", "tags": []}, "PATCH", "/accounts/acc_1",
     {"owner_id": "u1", "tags": []}, ONE),
    ("articles", "create",
     {"id": "kb_1", "title": "Reset your password", "body_html": "<p>Go to settings.</p>", "author_user_id": "u1",
      "is_published": True},
     "POST", "/knowledge-bases/kb_1/articles",
     {"title": "Reset your password", "body_html": "<p>Go to settings.</p>", "author_user_id": "u1",
      "is_published": True}, ONE),
    ("articles", "update", {"id": "kb_1", "article_id": "art_1", "title": "Reset a password"}, "PATCH",
     "/knowledge-bases/kb_1/articles/art_1", {"title": "Reset a password"}, ONE),
    ("collections", "create", {"id": "kb_1", "title": "Billing", "description": "Invoices and plans"}, "POST",
     "/knowledge-bases/kb_1/collections", {"title": "Billing", "description": "Invoices and plans"}, ONE),
    ("contacts", "create", {"name": "Ada", "email": "ada@acme.com", "account_id": "acc_1", "portal_role": "member"},
     "POST", "/contacts", {"name": "Ada", "email": "ada@acme.com", "account_id": "acc_1", "portal_role": "member"},
     ONE),
    ("contacts", "get", {"id": "con_1"}, "GET", "/contacts/con_1", {}, ONE),
    ("contacts", "list", {"limit": 999}, "GET", "/contacts", {"limit": "999"}, LIST),
    ("contacts", "update", {"id": "con_1", "account_external_id": "sf_001"}, "PATCH", "/contacts/con_1",
     {"account_external_id": "sf_001"}, ONE),
    ("custom_fields", "get", {"id": "cf_1"}, "GET", "/custom-fields/cf_1", {}, ONE),
    ("custom_fields", "list", {"object_type": "issue"}, "GET", "/custom-fields", {"object_type": "issue"}, LIST),
    ("issue_assignments", "update", {"id": "iss_1", "assignee_id": "u2", "team_id": "t1"}, "PATCH",
     "/issues/iss_1/assign", {"assignee_id": "u2", "team_id": "t1"}, ONE),
    ("issue_notes", "create", {"id": "iss_1", "body_html": "<p>Escalating</p>", "thread_id": "th_1"}, "POST",
     "/issues/iss_1/note", {"body_html": "<p>Escalating</p>", "thread_id": "th_1"}, ONE),
    ("issue_replies", "create", {"id": "iss_1", "body_html": "<p>Fixed!</p>", "message_id": "msg_1"}, "POST",
     "/issues/iss_1/reply", {"body_html": "<p>Fixed!</p>", "message_id": "msg_1"}, ONE),
    ("issue_statuses", "update", {"id": "iss_1", "state": "waiting_on_customer"}, "PATCH",
     "/issues/iss_1/update-status", {"state": "waiting_on_customer"}, ONE),
    ("issue_threads", "create", {"id": "iss_1", "name": "Engineering"}, "POST", "/issues/iss_1/threads",
     {"name": "Engineering"}, ONE),
    ("issues", "create",
     {"title": "Login fails", "body_html": "<p>500 on /login</p>", "requester_email": "ada@acme.com",
      "priority": "high", "tags": ["bug"]},
     "POST", "/issues",
     {"title": "Login fails", "body_html": "<p>500 on /login</p>", "requester_email": "ada@acme.com",
      "priority": "high", "tags": ["bug"]}, ONE),
    ("issues", "delete", {"id": "iss_1"}, "DELETE", "/issues/iss_1/delete", {}, EMPTY),
    ("issues", "get", {"id": "iss_1"}, "GET", "/issues/iss_1", {}, ONE),
    ("issues", "list", {**RANGE, "limit": 100}, "GET", "/issues", {**RANGE, "limit": "100"}, LIST),
    ("issues", "update", {"id": "iss_1", "priority": "urgent", "custom_fields": CF}, "PATCH", "/issues/iss_1",
     {"priority": "urgent", "custom_fields": CF}, ONE),
    ("me", "get", {}, "GET", "/me", {}, ONE),
    ("messages", "list", {"id": "iss_1"}, "GET", "/issues/iss_1/messages", {}, LIST),
    ("milestones", "create", {"name": "Kickoff", "project_id": "prj_1", "due_date": "2026-04-01T00:00:00Z"}, "POST",
     "/milestones", {"name": "Kickoff", "project_id": "prj_1", "due_date": "2026-04-01T00:00:00Z"}, ONE),
    ("milestones", "update", {"id": "ms_1", "name": "Go-live"}, "PATCH", "/milestones/ms_1", {"name": "Go-live"}, ONE),
    ("projects", "create", {"name": "Onboarding", "account_id": "acc_1"}, "POST", "/projects",
     {"name": "Onboarding", "account_id": "acc_1"}, ONE),
    ("projects", "update", {"id": "prj_1", "is_archived": True}, "PATCH", "/projects/prj_1", {"is_archived": True},
     ONE),
    ("tags", "create", {"value": "churn-risk", "object_type": "account", "hex_color": "#ff0000"}, "POST", "/tags",
     {"value": "churn-risk", "object_type": "account", "hex_color": "#ff0000"}, ONE),
    ("tags", "get", {"id": "tag_1"}, "GET", "/tags/tag_1", {}, ONE),
    ("tags", "list", {}, "GET", "/tags", {}, LIST),
    ("tags", "update", {"id": "tag_1", "value": "at-risk"}, "PATCH", "/tags/tag_1", {"value": "at-risk"}, ONE),
    ("tasks", "create", {"title": "Send SSO docs", "account_id": "acc_1", "due_date": "2026-04-02T00:00:00Z"},
     "POST", "/tasks", {"title": "Send SSO docs", "account_id": "acc_1", "due_date": "2026-04-02T00:00:00Z"}, ONE),
    ("tasks", "update", {"id": "task_1", "status": "completed"}, "PATCH", "/tasks/task_1", {"status": "completed"},
     ONE),
    ("teams", "create", {"name": "Tier 2", "user_ids": ["u1", "u2"]}, "POST", "/teams",
     {"name": "Tier 2", "user_ids": ["u1", "u2"]}, ONE),
    ("teams", "get", {"id": "t1"}, "GET", "/teams/t1", {}, ONE),
    ("teams", "list", {}, "GET", "/teams", {}, LIST),
    ("teams", "update", {"id": "t1", "user_ids": ["u3"]}, "PATCH", "/teams/t1", {"user_ids": ["u3"]}, ONE),
    ("ticket_forms", "list", {}, "GET", "/ticket-forms", {}, LIST),
    ("user_roles", "list", {}, "GET", "/user-roles", {}, LIST),
    ("users", "get", {"id": "u1"}, "GET", "/users/u1", {}, ONE),
    ("users", "list", {}, "GET", "/users", {}, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["pylon"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(ids: list[str], cursor: str | None) -> dict[str, Any]:
    """A list answer as Pylon documents it: has_next_page false (and no usable cursor) on the last page."""
    return {
        "data": [{"id": i, "name": i} for i in ids],
        "pagination": {"cursor": cursor or "", "has_next_page": cursor is not None},
        "request_id": "req_1",
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["pylon"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in PYLON_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 43
    assert manifest.definition_id == "f2e53e88-3c6b-4e5a-b7c2-a1d9c5e8f4b6"
    reference = reference_operations("pylon")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    PYLON_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in PYLON_CASES],
)
def test_pylon_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"id": "obj_1", "name": "One"}
    answers = {
        LIST: _page(["obj_1", "obj_2"], NEXT),
        ONE: {"data": one, "request_id": "req_1"},
        EMPTY: {"request_id": "req_1"},
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
        assert json.loads(vendor.bodies[-1]) == expected
    assert TOKEN not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == ONE:
        assert result.result == one  # unwrapped from `data`
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == LIST:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, NEXT)
    else:
        assert result.result == {"request_id": "req_1"}


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params"),
    [
        ("accounts", "list", {"limit": 2}),
        ("contacts", "list", {}),
        ("issues", "list", RANGE),
        ("messages", "list", {"id": "iss_1"}),
        ("custom_fields", "list", {"object_type": "account"}),
        ("tags", "list", {}),
    ],
)
def test_next_page_sends_the_cursor_pylon_returned(httpserver, vendor, entity, action, params) -> None:
    vendor.answer(_page(["a", "b"], NEXT))
    vendor.answer(_page(["c"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert "cursor" not in before
    assert after == {**before, "cursor": NEXT}  # the same request, one page on
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == ["c"]
    assert last.has_next_page is False


def test_has_next_page_false_ends_even_with_a_cursor(httpserver, vendor) -> None:
    vendor.answer({"data": [{"id": "a"}], "pagination": {"cursor": "stale", "has_next_page": False}})
    result = _run(httpserver, "accounts", "list", {})
    assert result.has_next_page is False


# --- Params ---------------------------------------------------------------------------------------------------------


def test_issue_list_needs_its_time_range(manifests) -> None:
    errors = validate_params(manifests["pylon"], "issues", "list", {})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.start_time", "required"),
        ("params.end_time", "required"),
    }


@pytest.mark.parametrize("limit", [0, 1000])
def test_limit_is_pylons_bounds(manifests, limit) -> None:
    errors = validate_params(manifests["pylon"], "accounts", "list", {"limit": limit})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.limit", "invalid_value")]


def test_enums_come_from_pylons_reference(manifests) -> None:
    pylon = manifests["pylon"]
    assert validate_params(pylon, "tags", "create", {"value": "x", "object_type": "ticket"})
    assert validate_params(pylon, "custom_fields", "list", {"object_type": "user"})
    assert validate_params(pylon, "issues", "create", {"title": "x", "body_html": "y", "priority": "p1"})
    assert validate_params(pylon, "contacts", "create", {"name": "x", "email": "a@b.c", "portal_role": "owner"})
    assert not validate_params(pylon, "tags", "create", {"value": "x", "object_type": "contact"})


def test_a_reply_needs_the_message_it_answers(manifests) -> None:
    errors = validate_params(manifests["pylon"], "issue_replies", "create", {"id": "iss_1", "body_html": "<p>x</p>"})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.message_id", "required")]


@pytest.mark.parametrize(
    ("action", "params", "path"),
    [
        ("create", {"kb_id": "kb_9", "title": "T", "body_html": "B", "author_user_id": "u1"},
         "/knowledge-bases/kb_9/articles"),
        ("update", {"kb_id": "kb_9", "article_id": "art_2", "title": "T"}, "/knowledge-bases/kb_9/articles/art_2"),
    ],
)  # fmt: skip
def test_airbytes_kb_id_builds_the_same_request(httpserver, vendor, action, params, path) -> None:
    vendor.answer({"data": {"id": "art_2"}})
    _run(httpserver, "articles", action, params)
    assert vendor.last.path == path
    assert "kb_id" not in json.loads(vendor.bodies[-1])


def test_a_knowledge_base_under_both_names_is_refused(manifests) -> None:
    params = {"id": "kb_1", "kb_id": "kb_2", "article_id": "a", "title": "T"}
    errors = validate_params(manifests["pylon"], "articles", "update", params)
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.id", "conflicting_fields"),
        ("params.kb_id", "conflicting_fields"),
    }


# --- Auth and errors ------------------------------------------------------------------------------------------------


def test_the_check_is_a_cheap_read_of_the_token_owner(manifests) -> None:
    check = manifests["pylon"].check
    assert (check.entity, check.action) == ("me", "get")
    assert manifests["pylon"].action("me", "get").is_read_only


def test_a_rejected_token_is_credentials_rejected_with_pylons_message(httpserver, vendor) -> None:
    vendor.answer({"errors": ["invalid api token"], "request_id": "req_9"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "me", "get", {})
    assert caught.value.code == "credentials_rejected"
    assert vendor.last.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_bad_request_carries_pylons_first_error(httpserver, vendor) -> None:
    vendor.answer({"errors": ["time range must be 30 days or less"], "request_id": "req_9"}, status=400)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "issues", "list", {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-03-01T00:00:00Z"})
    assert caught.value.code == "bad_request"
    assert "time range must be 30 days or less" in str(caught.value)


def test_a_rate_limited_answer_is_rate_limited(httpserver, vendor) -> None:
    vendor.answer({"errors": ["rate limit exceeded"]}, status=429, headers={"Retry-After": "30"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "issues", "list", RANGE)
    assert caught.value.code == "rate_limited"

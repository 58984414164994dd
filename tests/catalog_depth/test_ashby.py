"""Every Ashby operation against a loopback stand-in that answers as Ashby's API reference
(developers.ashbyhq.com/reference) documents.

Each case is written from Ashby's reference, not from the manifest: every call is a POST of a JSON body to
`/<object>.<verb>` with Basic auth (the API key as user name, an empty password); answers are
`{"success": true, "results": ...}`, lists paged by `cursor` in the body (`moreDataAvailable` / `nextCursor` out),
and failures are HTTP 200 with `"success": false` and an `errorInfo`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

SLUG = "ashby"
KEY = "ashby_depth_4242"
BASIC = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
LIMITS = Limits(max_attempts=1)
PAGED, ALL, ONE = "paged", "all", "one"
APP = "0b7f3a52-1b8c-4f4e-9d0e-5a1c2b3d4e5f"

# (entity, action, params, path, exact JSON body, kind)
ASHBY_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, Any], str]] = [
    ("applications", "get", {"applicationId": APP, "expand": ["openings"]}, "/application.info",
     {"applicationId": APP, "expand": ["openings"]}, ONE),
    ("applications", "list", {"status": "Active", "createdAfter": 1700000000000}, "/application.list",
     {"status": "Active", "createdAfter": 1700000000000}, PAGED),
    ("archive_reasons", "list", {"includeArchived": True}, "/archiveReason.list", {"includeArchived": True}, ALL),
    ("candidate_tags", "list", {}, "/candidateTag.list", {}, PAGED),
    ("candidates", "get", {"id": "c1"}, "/candidate.info", {"id": "c1"}, ONE),
    ("candidates", "list", {"limit": 25}, "/candidate.list", {"limit": 25}, PAGED),
    ("custom_fields", "list", {}, "/customField.list", {}, PAGED),
    ("departments", "get", {"departmentId": "d1"}, "/department.info", {"departmentId": "d1"}, ONE),
    ("departments", "list", {}, "/department.list", {}, ALL),
    ("feedback_form_definitions", "list", {}, "/feedbackFormDefinition.list", {}, PAGED),
    ("job_postings", "get", {"jobPostingId": "p1"}, "/jobPosting.info", {"jobPostingId": "p1"}, ONE),
    ("job_postings", "list", {"listedOnly": True}, "/jobPosting.list", {"listedOnly": True}, ALL),
    ("jobs", "get", {"id": "j1", "expand": ["location"]}, "/job.info", {"id": "j1", "expand": ["location"]}, ONE),
    ("jobs", "list", {"status": ["Open", "Draft"]}, "/job.list", {"status": ["Open", "Draft"]}, PAGED),
    ("locations", "get", {"locationId": "l1"}, "/location.info", {"locationId": "l1"}, ONE),
    ("locations", "list", {}, "/location.list", {}, ALL),
    ("sources", "list", {}, "/source.list", {}, ALL),
    ("users", "get", {"userId": "u1"}, "/user.info", {"userId": "u1"}, ONE),
    ("users", "list", {"includeDeactivated": True}, "/user.list", {"includeDeactivated": True}, PAGED),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _page(ids: list[str], next_cursor: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "success": True,
        "results": [{"id": i} for i in ids],
        "moreDataAvailable": next_cursor is not None,
        "syncToken": "sync-1",
    }
    if next_cursor:
        page["nextCursor"] = next_cursor
    return page


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in ASHBY_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "4e8c9fa0-3634-499b-b948-11581b5c3efa"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert ours == reference


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "body", "kind"), ASHBY_CASES, ids=[f"{c[0]}.{c[1]}" for c in ASHBY_CASES]
)
def test_ashby_operation(httpserver, vendor, entity, action, params, path, body, kind) -> None:
    one = {"id": "x1", "title": "Engineer"}
    if kind == PAGED:
        vendor.answer(_page(["a", "b"], "cur-2"))
    elif kind == ALL:
        vendor.answer({"success": True, "results": [{"id": "a"}, {"id": "b"}]})
    else:
        vendor.answer({"success": True, "results": one})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("POST", path)
    assert request.headers["Authorization"] == BASIC
    assert request.headers["Content-Type"].startswith("application/json")
    assert not request.query_string
    assert json.loads(vendor.bodies[-1]) == body
    assert KEY not in vendor.bodies[-1].decode()
    if kind == ONE:
        assert result.result == one
    else:
        assert [r["id"] for r in result.result] == ["a", "b"]
    if kind == PAGED:
        assert (result.has_next_page, result.end_cursor) == (True, "cur-2")
    else:
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_next_page_sends_the_cursor_in_the_body(httpserver, vendor) -> None:
    vendor.answer(_page(["a"], "cur-2"))
    vendor.answer(_page(["b"], None))
    first = _run(httpserver, "candidates", "list", {"limit": 1})
    last = _run(httpserver, "candidates", "list", {"limit": 1, "cursor": first.end_cursor})
    assert json.loads(vendor.bodies[0]) == {"limit": 1}
    assert json.loads(vendor.bodies[1]) == {"limit": 1, "cursor": "cur-2"}
    assert vendor.requests[1].path == "/candidate.list"
    assert [r["id"] for r in last.result] == ["b"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_more_data_false_ends_even_with_a_cursor(httpserver, vendor) -> None:
    vendor.answer({**_page(["a"], None), "nextCursor": "stale"})
    result = _run(httpserver, "users", "list", {})
    assert (result.has_next_page, result.end_cursor) == (False, None)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("invalid_api_key", "credentials_rejected"), ("application_not_found", "not_found"), ("x_unknown", "bad_request")],
)
def test_success_false_on_http_200_is_an_error(httpserver, vendor, code, expected) -> None:
    vendor.answer({"success": False, "errorInfo": {"code": code, "message": f"Failed: {code}"}, "errors": [code]})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "applications", "get", {"applicationId": APP})
    assert caught.value.code == expected
    assert code in str(caught.value)


def test_reads_are_retried_after_a_server_error(httpserver, vendor) -> None:
    """Every Ashby read is a POST; it changes nothing, so a 502 is retried."""
    vendor.answer({"success": False}, status=502)
    vendor.answer({"success": True, "results": {"id": "u1"}})
    result = _run(
        httpserver,
        "users",
        "get",
        {"userId": "u1"},
        limits=Limits(max_attempts=3, max_retry_seconds=30),
        sleep=lambda _: None,
    )
    assert result.result == {"id": "u1"}
    assert len(vendor.requests) == 2


@pytest.mark.parametrize(
    ("entity", "alias_params", "body"),
    [
        ("applications", {"id": APP}, {"applicationId": APP}),
        ("departments", {"id": "d1"}, {"departmentId": "d1"}),
        ("job_postings", {"id": "p1"}, {"jobPostingId": "p1"}),
        ("locations", {"id": "l1"}, {"locationId": "l1"}),
        ("users", {"id": "u1"}, {"userId": "u1"}),
    ],
)
def test_id_is_accepted_for_ashbys_id_fields(httpserver, vendor, entity, alias_params, body) -> None:
    vendor.answer({"success": True, "results": {"id": "x"}})
    _run(httpserver, entity, "get", alias_params)
    assert json.loads(vendor.bodies[-1]) == body


def test_params_follow_ashbys_types_and_enums(manifests) -> None:
    ashby = manifests[SLUG]
    assert not validate_params(ashby, "candidates", "get", {"externalMappingId": "e1"})
    assert validate_params(ashby, "candidates", "get", {"externalMappingId": 7})
    assert validate_params(ashby, "jobs", "list", {"status": ["Live"]})
    assert validate_params(ashby, "users", "list", {"limit": 101})


def test_the_api_key_is_the_only_credential(manifests) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], {"api_key": KEY})
    assert (scheme.key, stored) == ("api_key", {"api_key": KEY})
    check = manifests[SLUG].check
    assert (check.entity, check.action, check.params) == ("users", "list", {"limit": 1})

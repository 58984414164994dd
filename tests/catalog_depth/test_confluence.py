"""Every Confluence operation against a loopback stand-in that answers as Atlassian's Confluence Cloud REST API
reference documents (v2 for spaces, pages and blog posts; v1 for groups and the audit log).

Each case is written from Atlassian's reference, not from the manifest: the request the operation must send (method,
path, query with v2's comma-separated arrays, Basic auth with the account email and an API token) and what comes
back: v2 lists as `{"results": [...], "_links": {"next": ...}}` with the next page's URL in the Link header, v1 lists
as `{"results": [...], "start", "limit", "size"}` paged by start/limit, or one object (the whole body).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connectors.catalog import build_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, OperationInputError, execute_operation, resolve_base_url
from connectors.validation import validate_credentials
from core.errors import InvalidInput
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

EMAIL, TOKEN = "you@example.com", "ATATT_depth_4242"
BASIC = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
LIMITS = Limits(max_attempts=1)
V2, V1, ONE = "v2", "v1", "one"
NEXT_CURSOR = "eyJpZCI6IjEyMyJ9"

# (entity, action, params, method, path, expected query, answer kind)
CONFLUENCE_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str]] = [
    ("audit", "list", {"startDate": "2026-01-01", "endDate": "2026-02-01", "searchString": "permission", "limit": 2},
     "GET", "/wiki/rest/api/audit",
     {"startDate": "2026-01-01", "endDate": "2026-02-01", "searchString": "permission", "limit": "2"}, V1),
    ("blog_posts", "get", {"id": 42, "body-format": "storage", "include-labels": True}, "GET",
     "/wiki/api/v2/blogposts/42", {"body-format": "storage", "include-labels": "true"}, ONE),
    ("blog_posts", "list", {"space-id": [1, 2], "status": ["current"], "sort": "-created-date", "limit": 2}, "GET",
     "/wiki/api/v2/blogposts", {"space-id": "1,2", "status": "current", "sort": "-created-date", "limit": "2"}, V2),
    ("groups", "list", {"accessType": "admin", "limit": 2}, "GET", "/wiki/rest/api/group",
     {"accessType": "admin", "limit": "2"}, V1),
    ("pages", "get", {"id": 7, "body-format": "atlas_doc_format", "version": 3}, "GET", "/wiki/api/v2/pages/7",
     {"body-format": "atlas_doc_format", "version": "3"}, ONE),
    ("pages", "list", {"title": "Runbook", "space-id": [9], "body-format": "storage", "limit": 2}, "GET",
     "/wiki/api/v2/pages", {"title": "Runbook", "space-id": "9", "body-format": "storage", "limit": "2"}, V2),
    ("spaces", "get", {"id": 9, "description-format": "plain", "include-icon": True}, "GET", "/wiki/api/v2/spaces/9",
     {"description-format": "plain", "include-icon": "true"}, ONE),
    ("spaces", "list", {"keys": ["ENG", "OPS"], "type": "global", "status": "current", "limit": 2}, "GET",
     "/wiki/api/v2/spaces", {"keys": "ENG,OPS", "type": "global", "status": "current", "limit": "2"}, V2),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["confluence"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"username": EMAIL, "password": TOKEN}),
        config=kwargs.pop("config", {"subdomain": "acme"}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _v2_page(path: str, ids: list[int], cursor: str | None, query: str = "limit=2") -> tuple[dict, dict[str, str]]:
    """A v2 list answer: the next page's URL (relative to the site) in _links.next and in the Link header."""
    body: dict[str, Any] = {"results": [{"id": str(i), "title": f"t{i}"} for i in ids], "_links": {"base": "x"}}
    headers: dict[str, str] = {}
    if cursor:
        nxt = f"{path}?{query}&cursor={cursor}"
        body["_links"]["next"] = nxt
        headers["Link"] = f'<{nxt}>; rel="next", <https://acme.atlassian.net/wiki>; rel="base"'
    return body, headers


def _v1_page(ids: list[int], start: int, limit: int) -> dict[str, Any]:
    return {"results": [{"id": str(i)} for i in ids], "start": start, "limit": limit, "size": len(ids)}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["confluence"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in CONFLUENCE_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "cf40a7f8-71f8-45ce-a7fa-fca053e4028c"
    reference = reference_operations("confluence")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    CONFLUENCE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in CONFLUENCE_CASES],
)
def test_confluence_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"id": "7", "title": "Runbook", "_links": {"webui": "/spaces/ENG/pages/7"}}
    if kind == V2:
        body, headers = _v2_page(path, [1, 2], NEXT_CURSOR)
        vendor.answer(body, headers=headers)
    elif kind == V1:
        vendor.answer(_v1_page([1, 2], 0, 2))
    else:
        vendor.answer(one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == BASIC
    assert query_of(request) == expected
    assert not vendor.bodies[-1]
    assert TOKEN not in request.query_string.decode()
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert result.has_next_page is True
        assert result.end_cursor


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "path"),
    [("pages", "list", "/wiki/api/v2/pages"), ("spaces", "list", "/wiki/api/v2/spaces"),
     ("blog_posts", "list", "/wiki/api/v2/blogposts")],
)  # fmt: skip
def test_v2_next_page_sends_the_cursor_from_the_link_header(httpserver, vendor, entity, action, path) -> None:
    body, headers = _v2_page(path, [1, 2], NEXT_CURSOR)
    vendor.answer(body, headers=headers)
    vendor.answer(_v2_page(path, [3], None)[0])
    first = _run(httpserver, entity, action, {"limit": 2})
    last = _run(httpserver, entity, action, {"limit": 2, "cursor": first.end_cursor})
    assert "cursor" not in query_of(vendor.requests[0])
    assert query_of(vendor.requests[1]) == {"limit": "2", "cursor": NEXT_CURSOR}
    assert vendor.requests[1].path == path
    assert vendor.requests[1].headers["Authorization"] == BASIC
    assert [r["id"] for r in last.result] == ["3"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize(("entity", "path"), [("audit", "/wiki/rest/api/audit"), ("groups", "/wiki/rest/api/group")])
def test_v1_next_page_starts_after_the_records_read(httpserver, vendor, entity, path) -> None:
    vendor.answer(_v1_page([1, 2], 0, 2))
    vendor.answer(_v1_page([3], 2, 2))
    first = _run(httpserver, entity, "list", {"limit": 2})
    assert (first.has_next_page, first.end_cursor) == (True, "2")
    last = _run(httpserver, entity, "list", {"limit": 2, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"limit": "2", "start": "2"}
    assert vendor.requests[1].path == path
    assert last.has_next_page is False  # a short page is the last one


# --- Params and config ----------------------------------------------------------------------------------------------


def test_limits_and_enums_are_atlassians(manifests) -> None:
    confluence = manifests["confluence"]
    assert validate_params(confluence, "pages", "list", {"limit": 251})
    assert validate_params(confluence, "spaces", "list", {"type": "team"})
    assert validate_params(confluence, "groups", "list", {"limit": 201})
    assert validate_params(confluence, "audit", "list", {"limit": 1001})
    assert validate_params(confluence, "pages", "get", {})
    assert not validate_params(confluence, "pages", "list", {"limit": 250, "sort": "-modified-date"})


def test_the_subdomain_builds_the_site_url(manifests) -> None:
    template = manifests["confluence"].base_url
    assert resolve_base_url(template, config={"subdomain": "acme"}, credentials={}) == "https://acme.atlassian.net"


@pytest.mark.parametrize("subdomain", ["evil.com/x?", "acme.attacker.net#"])
def test_a_subdomain_cannot_move_the_call_to_another_host(httpserver, vendor, subdomain) -> None:
    with pytest.raises(OperationInputError):
        execute_operation(
            manifest=build_manifest(RAW["confluence"]),
            credentials={"username": EMAIL, "password": TOKEN},
            config={"subdomain": subdomain},
            entity="spaces",
            action="list",
            params={},
            limits=LIMITS,
        )
    assert not vendor.requests


# --- Credentials ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": EMAIL, "password": TOKEN},  # Airbyte's agent connector
        {"email": EMAIL, "api_token": TOKEN},  # Airbyte's replication names
        {"email": EMAIL, "password": TOKEN},
    ],
)
def test_both_credential_shapes_are_stored_under_the_references_names(manifests, credentials) -> None:
    scheme, stored = validate_credentials(manifests["confluence"], credentials)
    assert scheme.key == "api_token"
    assert stored == {"username": EMAIL, "password": TOKEN}


def test_a_token_under_two_names_is_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["confluence"], {"username": EMAIL, "password": "a", "api_token": "b"})
    assert {(e.field, e.error_code) for e in caught.value.errors} >= {
        ("credentials.password", "conflicting_fields"),
        ("credentials.api_token", "conflicting_fields"),
    }


def test_the_check_reads_one_space(manifests) -> None:
    check = manifests["confluence"].check
    assert (check.entity, check.action, check.params) == ("spaces", "list", {"limit": 1})

"""Every GitLab operation against a loopback stand-in that answers as GitLab's REST API v4 reference
(docs.gitlab.com/api/rest) documents.

Each case is written from GitLab's reference, not from the manifest: the request (method, /api/v4 path with the
project or group as an ID or URL-encoded path, query, exact JSON body, the bearer token) and the answer: a bare JSON
array paged by page/per_page with a Link header (rel="next"), or one object.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.urls import resolve_base_url
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

TOKEN = "glpat-depth_4242"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
P = {"project_id": 42}
G = {"group_id": 7}
PP = {"per_page": 50}

# (entity, action, params, method, path, expected query pairs, JSON body (None: no body), answer kind)
GITLAB_CASES: list[tuple[str, str, dict[str, Any], str, str, list[tuple[str, str]], Any, str]] = [
    ("branches", "get", {**P, "branch": "main"}, "GET", "/api/v4/projects/42/repository/branches/main", [], None, ONE),
    ("branches", "list", {**P, "search": "^release", **PP}, "GET", "/api/v4/projects/42/repository/branches",
     [("search", "^release"), ("per_page", "50")], None, LIST),
    ("commits", "get", {**P, "sha": "ed899a2f", "stats": True}, "GET",
     "/api/v4/projects/42/repository/commits/ed899a2f", [("stats", "true")], None, ONE),
    ("commits", "list", {**P, "ref_name": "main", "since": "2026-01-01T00:00:00Z", "with_stats": True}, "GET",
     "/api/v4/projects/42/repository/commits",
     [("ref_name", "main"), ("since", "2026-01-01T00:00:00Z"), ("with_stats", "true")], None, LIST),
    ("group_members", "get", {**G, "user_id": 3}, "GET", "/api/v4/groups/7/members/3", [], None, ONE),
    ("group_members", "list", {**G, "query": "ana", "user_ids": [3, 4]}, "GET", "/api/v4/groups/7/members",
     [("query", "ana"), ("user_ids", "3"), ("user_ids", "4")], None, LIST),
    ("group_milestones", "get", {**G, "milestone_id": 12}, "GET", "/api/v4/groups/7/milestones/12", [], None, ONE),
    ("group_milestones", "list", {**G, "state": "active", "iids[]": [1, 2]}, "GET", "/api/v4/groups/7/milestones",
     [("state", "active"), ("iids[]", "1"), ("iids[]", "2")], None, LIST),
    ("groups", "get", {"id": 7}, "GET", "/api/v4/groups/7", [], None, ONE),
    ("groups", "list", {"owned": True, "order_by": "path", "sort": "asc"}, "GET", "/api/v4/groups",
     [("owned", "true"), ("order_by", "path"), ("sort", "asc")], None, LIST),
    ("issues", "create", {**P, "title": "Checkout fails", "labels": "bug,p1", "assignee_ids": [3]}, "POST",
     "/api/v4/projects/42/issues", [], {"title": "Checkout fails", "labels": "bug,p1", "assignee_ids": [3]}, ONE),
    ("issues", "get", {**P, "issue_iid": 17}, "GET", "/api/v4/projects/42/issues/17", [], None, ONE),
    ("issues", "list",
     {**P, "state": "opened", "labels": "bug", "assignee_username": ["ana"], "order_by": "updated_at"}, "GET",
     "/api/v4/projects/42/issues",
     [("state", "opened"), ("labels", "bug"), ("assignee_username", "ana"), ("order_by", "updated_at")], None, LIST),
    ("merge_requests", "get", {**P, "merge_request_iid": 5, "include_diverged_commits_count": True}, "GET",
     "/api/v4/projects/42/merge_requests/5", [("include_diverged_commits_count", "true")], None, ONE),
    ("merge_requests", "list", {**P, "state": "merged", "target_branch": "main"}, "GET",
     "/api/v4/projects/42/merge_requests", [("state", "merged"), ("target_branch", "main")], None, LIST),
    ("pipelines", "get", {**P, "pipeline_id": 900}, "GET", "/api/v4/projects/42/pipelines/900", [], None, ONE),
    ("pipelines", "list", {**P, "status": "failed", "ref": "main", "order_by": "updated_at"}, "GET",
     "/api/v4/projects/42/pipelines", [("status", "failed"), ("ref", "main"), ("order_by", "updated_at")], None, LIST),
    ("project_members", "get", {**P, "user_id": 3}, "GET", "/api/v4/projects/42/members/3", [], None, ONE),
    ("project_members", "list", {**P}, "GET", "/api/v4/projects/42/members", [], None, LIST),
    ("project_milestones", "get", {**P, "milestone_id": 12}, "GET", "/api/v4/projects/42/milestones/12", [], None,
     ONE),
    ("project_milestones", "list", {**P, "search": "Q3"}, "GET", "/api/v4/projects/42/milestones", [("search", "Q3")],
     None, LIST),
    ("projects", "get", {"id": 42, "statistics": True}, "GET", "/api/v4/projects/42", [("statistics", "true")], None,
     ONE),
    ("projects", "list", {"membership": True, "simple": True, "per_page": 100, "page": 2}, "GET", "/api/v4/projects",
     [("membership", "true"), ("simple", "true"), ("per_page", "100"), ("page", "2")], None, LIST),
    ("releases", "get", {**P, "tag_name": "v1.4.2"}, "GET", "/api/v4/projects/42/releases/v1.4.2", [], None, ONE),
    ("releases", "list", {**P, "order_by": "released_at"}, "GET", "/api/v4/projects/42/releases",
     [("order_by", "released_at")], None, LIST),
    ("tags", "get", {**P, "tag_name": "v1.4.2"}, "GET", "/api/v4/projects/42/repository/tags/v1.4.2", [], None, ONE),
    ("tags", "list", {**P, "order_by": "version", "sort": "desc"}, "GET", "/api/v4/projects/42/repository/tags",
     [("order_by", "version"), ("sort", "desc")], None, LIST),
    ("users", "get", {"id": 3}, "GET", "/api/v4/users/3", [], None, ONE),
    ("users", "list", {"username": "ana"}, "GET", "/api/v4/users", [("username", "ana")], None, LIST),
    ("users", "me", {}, "GET", "/api/v4/user", [], None, ONE),
]  # fmt: skip
EXTRAS = {"users.me", "issues.create"}


def _pairs(request) -> list[tuple[str, str]]:
    return sorted(parse_qsl(request.query_string.decode(), keep_blank_values=True))


def _raw_path(request) -> str:
    return (request.environ.get("RAW_URI") or request.environ["REQUEST_URI"]).split("?", 1)[0]


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["gitlab"], httpserver.url_for("/api/v4")),
        credentials=kwargs.pop("credentials", {"access_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _link(origin: str, path: str, query: str) -> str:
    return f'<{origin}{path}?{query}>; rel="next", <{origin}{path}?page=1&per_page=20>; rel="first"'


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["gitlab"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in GITLAB_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["gitlab"]["definition_id"] == "5e6175e5-68e1-4c17-bff9-56103bbb0d80"
    reference = reference_operations("gitlab")
    if reference is not None:
        assert reference <= ours
        assert ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    GITLAB_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GITLAB_CASES],
)
def test_gitlab_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind) -> None:
    origin = httpserver.url_for("").rstrip("/")
    one = {"id": 1, "iid": 17, "name": "main"}
    if kind == LIST:
        vendor.answer([{"id": 1}, {"id": 2}], headers={"Link": _link(origin, path, "page=2&per_page=20"),
                                                       "X-Next-Page": "2", "X-Page": "1"})  # fmt: skip
    else:
        vendor.answer(one, status=201 if method == "POST" else 200)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert _pairs(request) == sorted(query)
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    assert TOKEN not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == LIST:
        assert [r["id"] for r in result.result] == [1, 2]
        assert result.has_next_page is True and result.end_cursor
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Paths: URL-encoded project paths and branch names ----------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "raw"),
    [
        ("projects", "get", {"id": "acme/web"}, "/api/v4/projects/acme%2Fweb"),
        ("issues", "list", {"project_id": "acme/sub/web"}, "/api/v4/projects/acme%2Fsub%2Fweb/issues"),
        ("branches", "get", {"project_id": 42, "branch": "release/1.x"},
         "/api/v4/projects/42/repository/branches/release%2F1.x"),
        ("groups", "get", {"id": "acme/platform"}, "/api/v4/groups/acme%2Fplatform"),
    ],
)  # fmt: skip
def test_a_full_path_is_one_url_encoded_segment(httpserver, vendor, entity, action, params, raw) -> None:
    vendor.answer([] if action == "list" else {"id": 1})
    _run(httpserver, entity, action, params)
    assert _raw_path(vendor.last).lower() == raw.lower()


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("issues", "get", {"id": 42, "issue_iid": 17}, "/api/v4/projects/42/issues/17"),
        ("projects", "get", {"project_id": 42}, "/api/v4/projects/42"),
        ("groups", "get", {"group_id": 7}, "/api/v4/groups/7"),
        ("users", "get", {"user_id": 3}, "/api/v4/users/3"),
        ("group_members", "list", {"id": 7}, "/api/v4/groups/7/members"),
    ],
)
def test_gitlabs_and_airbytes_id_names_build_the_same_request(httpserver, vendor, entity, action, params, path):
    vendor.answer([] if action == "list" else {"id": 1})
    _run(httpserver, entity, action, params)
    assert vendor.last.path == path


# --- Pagination -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("issues", "list", {**P, "state": "opened", "per_page": 2}, "/api/v4/projects/42/issues"),
        ("projects", "list", {"membership": True, "per_page": 2}, "/api/v4/projects"),
        ("commits", "list", {**P, "ref_name": "main", "per_page": 2}, "/api/v4/projects/42/repository/commits"),
    ],
)
def test_next_page_follows_the_link_header(httpserver, vendor, entity, action, params, path) -> None:
    origin = httpserver.url_for("").rstrip("/")
    first_query = sorted((k, "true" if v is True else str(v)) for k, v in params.items() if k not in P)
    next_query = "&".join(f"{k}={v}" for k, v in first_query) + "&page=2"
    vendor.answer([{"id": 1}, {"id": 2}], headers={"Link": _link(origin, path, next_query)})
    vendor.answer([{"id": 3}], headers={"Link": f'<{origin}{path}?page=1>; rel="first"'})
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert _pairs(vendor.requests[0]) == first_query
    assert _pairs(vendor.requests[1]) == sorted([*first_query, ("page", "2")])
    assert vendor.requests[1].path == path
    assert vendor.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert [r["id"] for r in last.result] == [3]
    assert (last.has_next_page, last.end_cursor) == (False, None)


# --- Auth schemes and config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"access_token": TOKEN}, "access_token", {"auth_type": "access_token", "access_token": TOKEN}),
        # Airbyte's replication shape marks each scheme with auth_type.
        ({"auth_type": "access_token", "access_token": TOKEN}, "access_token",
         {"auth_type": "access_token", "access_token": TOKEN}),
        ({"auth_type": "oauth2.0", "client_id": "app", "client_secret": "s3cr3t", "refresh_token": "r1",
          "access_token": "a1", "token_expiry_date": "2026-12-01T12:00:00Z"}, "oauth",
         {"auth_type": "oauth2.0", "client_id": "app", "client_secret": "s3cr3t", "refresh_token": "r1",
          "access_token": "a1", "token_expiry_date": "2026-12-01T12:00:00Z"}),
    ],
)  # fmt: skip
def test_both_credential_shapes_are_accepted(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests["gitlab"], credentials)
    assert chosen.key == scheme
    assert normalised == stored


def test_oauth_without_a_refresh_token_is_refused(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["gitlab"], {"auth_type": "oauth2.0", "access_token": "a1"})
    assert "credentials.refresh_token" in {e.field for e in caught.value.errors}


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"id": 3, "username": "ana"})
    credentials = {"client_id": "app", "client_secret": "s", "refresh_token": "r1", "access_token": "oauth_a1"}
    result = _run(httpserver, "users", "me", {}, credentials=credentials, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer oauth_a1"
    assert result.result == {"id": 3, "username": "ana"}


def test_oauth_endpoints_follow_the_instance(manifests) -> None:
    gitlab = manifests["gitlab"]
    oauth = gitlab.oauth_scheme().oauth
    config = validate_replication_config(gitlab, {"api_url": "gitlab.example.com"})
    urls = {
        name: resolve_base_url(url, config=config, credentials={}, config_defaults=gitlab.config_defaults)
        for name, url in oauth.urls().items()
    }
    assert urls["authorization_url"] == "https://gitlab.example.com/oauth/authorize"
    assert urls["token_url"] == "https://gitlab.example.com/oauth/token"
    assert urls["revoke_url"] == "https://gitlab.example.com/oauth/revoke"
    assert (oauth.pkce, oauth.rotates_refresh_token) == (True, True)


@pytest.mark.parametrize(
    ("config", "url"),
    [({}, "https://gitlab.com/api/v4"), ({"api_url": "gitlab.example.com"}, "https://gitlab.example.com/api/v4")],
)
def test_api_url_picks_gitlab_com_or_a_self_managed_host(manifests, config, url) -> None:
    gitlab = manifests["gitlab"]
    stored = validate_replication_config(gitlab, config)
    assert (
        resolve_base_url(gitlab.base_url, config=stored, credentials={}, config_defaults=gitlab.config_defaults) == url
    )


@pytest.mark.parametrize("api_url", ["https://gitlab.com", "evil.example/x?", "gitlab.com/api"])
def test_an_api_url_that_is_not_a_host_is_refused(manifests, api_url) -> None:
    gitlab = manifests["gitlab"]
    with pytest.raises(InvalidInput):
        validate_replication_config(gitlab, {"api_url": api_url})
    with pytest.raises(OperationInputError):
        resolve_base_url(gitlab.base_url, config={"api_url": api_url}, credentials={})


# --- Params and errors ------------------------------------------------------------------------------------------


def test_param_bounds_are_gitlabs(manifests) -> None:
    gitlab = manifests["gitlab"]
    assert validate_params(gitlab, "projects", "list", {"per_page": 101})
    assert validate_params(gitlab, "issues", "list", {**P, "state": "open"})
    assert validate_params(gitlab, "merge_requests", "list", {**P, "state": "draft"})
    assert not validate_params(gitlab, "merge_requests", "list", {**P, "state": "locked"})
    errors = validate_params(gitlab, "issues", "create", P)
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.title", "required")]


def test_gitlabs_not_found_and_rejected_token(httpserver, vendor) -> None:
    vendor.answer({"message": "404 Project Not Found"}, status=404)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "projects", "get", {"id": "acme/missing"})
    assert caught.value.code == "not_found"
    vendor.answer({"message": "401 Unauthorized"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "users", "me", {})
    assert caught.value.code == "credentials_rejected"

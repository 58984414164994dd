"""Every Sentry operation against a loopback stand-in that answers as Sentry's API reference (web API v0,
docs.sentry.io/api) documents.

Each case is written from Sentry's reference, not from the manifest: the request the operation must send (method,
path with its trailing slash, query or exact JSON body, the bearer token) and what comes back: a bare JSON array
paged by a Link header whose rel="next" link is always there and says results="true" or "false", or one object.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.pagination import parse_link_header
from connectors.engine.urls import resolve_base_url
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "sntrys_depth_4242"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
ORG, PROJ = {"organization_id_or_slug": "acme"}, {"organization_id_or_slug": "acme", "project_id_or_slug": "web"}

# (entity, action, params, method, path, expected query, expected JSON body (None: no body), answer kind)
SENTRY_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str]] = [
    ("events", "get", {**PROJ, "event_id": "9fac2ceed9344f2bbfdd1fdacb0ed9b1"}, "GET",
     "/api/0/projects/acme/web/events/9fac2ceed9344f2bbfdd1fdacb0ed9b1/", {}, None, ONE),
    ("events", "list", {**PROJ, "full": True, "sample": False}, "GET", "/api/0/projects/acme/web/events/",
     {"full": "true", "sample": "false"}, None, LIST),
    ("issues", "get", {**ORG, "issue_id": "1889724436"}, "GET", "/api/0/organizations/acme/issues/1889724436/", {},
     None, ONE),
    ("issues", "list", {**PROJ, "query": "is:unresolved level:error", "statsPeriod": "14d", "shortIdLookup": True},
     "GET", "/api/0/projects/acme/web/issues/",
     {"query": "is:unresolved level:error", "statsPeriod": "14d", "shortIdLookup": "true"}, None, LIST),
    ("issues", "update", {**ORG, "issue_id": "1889724436", "status": "resolved", "assignedTo": "team:12"}, "PUT",
     "/api/0/organizations/acme/issues/1889724436/", {}, {"status": "resolved", "assignedTo": "team:12"}, ONE),
    ("organizations", "list", {"owner": True}, "GET", "/api/0/organizations/", {"owner": "true"}, None, LIST),
    ("project_detail", "get", PROJ, "GET", "/api/0/projects/acme/web/detail/", {}, None, ONE),
    ("projects", "get", PROJ, "GET", "/api/0/projects/acme/web/", {}, None, ONE),
    ("projects", "list", ORG, "GET", "/api/0/organizations/acme/projects/", {}, None, LIST),
    ("releases", "get", {**ORG, "version": "backend@1.4.2", "health": True, "summaryStatsPeriod": "7d",
                         "status": "open"},
     "GET", "/api/0/organizations/acme/releases/backend@1.4.2/",
     {"health": "true", "summaryStatsPeriod": "7d", "status": "open"}, None, ONE),
    ("releases", "list", {**ORG, "query": "backend@"}, "GET", "/api/0/organizations/acme/releases/",
     {"query": "backend@"}, None, LIST),
]  # fmt: skip
EXTRAS = {"organizations.list", "issues.update"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["sentry"], httpserver.url_for("/api/0")),
        credentials=kwargs.pop("credentials", {"auth_token": TOKEN}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _link(origin: str, path: str, next_cursor: str, more: bool, query: dict[str, str] | None = None) -> str:
    """Sentry's Link header: both links always present, each with the request's query and its cursor;
    results= says whether that page has anything."""
    kept = "".join(f"{k}={quote(v)}&" for k, v in (query or {}).items())
    return (
        f'<{origin}{path}?{kept}&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
        f'<{origin}{path}?{kept}&cursor={next_cursor}>; rel="next"; results="{str(more).lower()}"; '
        f'cursor="{next_cursor}"'
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["sentry"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SENTRY_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["sentry"]["definition_id"] == "cdaf146a-9b75-49fd-9dd2-9d64a0bb4781"
    reference = reference_operations("sentry")
    if reference is not None:
        assert reference <= ours
        assert ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    SENTRY_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SENTRY_CASES],
)
def test_sentry_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind) -> None:
    origin = httpserver.url_for("").rstrip("/")
    one = {"id": "1", "slug": "web", "version": "backend@1.4.2"}
    if kind == LIST:
        vendor.answer([{"id": "1"}, {"id": "2"}], headers={"Link": _link(origin, path, "0:100:0", True)})
    else:
        vendor.answer(one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert query_of(request) == query
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    assert TOKEN not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == LIST:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert result.has_next_page is True and result.end_cursor
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("issues", "list", {**PROJ, "query": "is:unresolved"}, "/api/0/projects/acme/web/issues/"),
        ("events", "list", {**PROJ, "full": True}, "/api/0/projects/acme/web/events/"),
        ("releases", "list", ORG, "/api/0/organizations/acme/releases/"),
    ],
)
def test_next_page_sends_sentrys_cursor_and_results_false_ends(httpserver, vendor, entity, action, params, path):
    origin = httpserver.url_for("").rstrip("/")
    query = {k: ("true" if v is True else v) for k, v in params.items() if k not in PROJ}
    vendor.answer([{"id": "1"}], headers={"Link": _link(origin, path, "0:100:0", True, query)})
    vendor.answer([{"id": "2"}], headers={"Link": _link(origin, path, "0:200:0", False, query)})
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == query
    assert vendor.requests[1].path == path
    # The same request, one page on: the next link's query, with Sentry's cursor where Sentry reads it.
    assert query_of(vendor.requests[1]) == {**query, "cursor": "0:100:0"}
    assert vendor.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert [r["id"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_next_link_marked_results_false_is_no_next_page() -> None:
    header = (
        '<https://sentry.io/api/0/x/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
        '<https://sentry.io/api/0/x/?&cursor=0:100:0>; rel="next"; results="false"; cursor="0:100:0"'
    )
    assert parse_link_header(header) == {}
    assert parse_link_header(header.replace('results="false"; cursor="0:100:0"', 'results="true"')) == {
        "next": "https://sentry.io/api/0/x/?&cursor=0:100:0"
    }
    # Links without a results parameter (GitHub's) are read as before.
    assert parse_link_header('<https://api.github.com/x?page=2>; rel="next"') == {
        "next": "https://api.github.com/x?page=2"
    }


def test_an_empty_first_page_has_no_next_page(httpserver, vendor) -> None:
    origin = httpserver.url_for("").rstrip("/")
    vendor.answer([], headers={"Link": _link(origin, "/api/0/organizations/acme/projects/", "0:100:0", False)})
    result = _run(httpserver, "projects", "list", ORG)
    assert result.result == []
    assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Auth, config, params ---------------------------------------------------------------------------------------


def test_the_token_is_the_only_scheme_and_needs_a_value(manifests) -> None:
    sentry = manifests["sentry"]
    assert [s.key for s in sentry.auth_schemes] == ["auth_token"]
    scheme, stored = validate_credentials(sentry, {"auth_token": TOKEN})
    assert (scheme.key, stored) == ("auth_token", {"auth_token": TOKEN})
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(sentry, {"token": TOKEN})
    assert TOKEN not in str(caught.value.errors)


@pytest.mark.parametrize(
    ("config", "url"),
    [
        ({}, "https://sentry.io/api/0"),
        ({"hostname": "de.sentry.io"}, "https://de.sentry.io/api/0"),
        ({"hostname": "sentry.example.com"}, "https://sentry.example.com/api/0"),
    ],
)
def test_hostname_picks_the_region_or_self_hosted_sentry(manifests, config, url) -> None:
    sentry = manifests["sentry"]
    stored = validate_replication_config(sentry, config)
    defaults = sentry.config_defaults
    assert resolve_base_url(sentry.base_url, config=stored, credentials={}, config_defaults=defaults) == url


@pytest.mark.parametrize("hostname", ["https://sentry.io", "evil.example/x?", "sentry.io/api"])
def test_a_hostname_that_is_not_a_host_is_refused(manifests, hostname) -> None:
    sentry = manifests["sentry"]
    with pytest.raises(InvalidInput):
        validate_replication_config(sentry, {"hostname": hostname})
    with pytest.raises(OperationInputError) as caught:
        resolve_base_url(sentry.base_url, config={"hostname": hostname}, credentials={})
    assert caught.value.code == "invalid_config"


@pytest.mark.parametrize(
    ("entity", "action", "alias_params", "path"),
    [
        ("issues", "list", {"organization_slug": "acme", "project_slug": "web"}, "/api/0/projects/acme/web/issues/"),
        ("projects", "list", {"organization_slug": "acme"}, "/api/0/organizations/acme/projects/"),
        ("issues", "get", {"organization_slug": "acme", "issue_id": "7"}, "/api/0/organizations/acme/issues/7/"),
    ],
)
def test_airbytes_path_param_names_build_the_same_request(httpserver, vendor, entity, action, alias_params, path):
    vendor.answer([] if action == "list" else {"id": "7"})
    _run(httpserver, entity, action, alias_params)
    assert vendor.last.path == path


def test_a_path_param_under_both_names_is_refused(manifests) -> None:
    errors = validate_params(
        manifests["sentry"], "projects", "get",
        {"organization_id_or_slug": "acme", "organization_slug": "other", "project_id_or_slug": "web"},
    )  # fmt: skip
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}


def test_param_bounds_are_sentrys(manifests) -> None:
    sentry = manifests["sentry"]
    assert validate_params(sentry, "issues", "list", {**PROJ, "statsPeriod": "7d"})
    assert not validate_params(sentry, "issues", "list", {**PROJ, "statsPeriod": ""})
    assert validate_params(sentry, "releases", "get", {**ORG, "version": "1", "sort": "newest"})
    assert validate_params(sentry, "issues", "update", {**ORG, "issue_id": "1", "status": "closed"})


def test_a_rejected_token_and_sentrys_detail_message(httpserver, vendor) -> None:
    vendor.answer({"detail": "Invalid token"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "organizations", "list", {})
    assert caught.value.code == "credentials_rejected"
    vendor.answer({"detail": "The requested resource does not exist"}, status=404)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "issues", "get", {**ORG, "issue_id": "404"})
    assert caught.value.code == "not_found"


def test_a_429_waits_for_sentrys_reset_header(httpserver, vendor) -> None:
    import time

    waits: list[float] = []
    reset = int(time.time()) + 3
    vendor.answer({"detail": "slow down"}, status=429, headers={"X-Sentry-Rate-Limit-Reset": str(reset)})
    vendor.answer([{"id": "1"}])
    result = execute_operation(
        manifest=point_at(RAW["sentry"], httpserver.url_for("/api/0")),
        credentials={"auth_token": TOKEN},
        config={},
        entity="projects",
        action="list",
        params=ORG,
        limits=Limits(max_attempts=2, max_retry_seconds=30),
        sleep=waits.append,
    )
    assert [r["id"] for r in result.result] == ["1"]
    assert len(waits) == 1 and 0 < waits[0] <= 4

"""Every Google Search Console operation against a loopback stand-in that answers as Google's Search Console API
reference (developers.google.com/webmaster-tools/v1/api_reference_index, webmasters/v3) documents.

Each case is written from Google's reference, not from the manifest: the request (method, path under
`/webmasters/v3` with the property URL percent-encoded as one segment, the query, the exact JSON body of
`searchAnalytics/query`, the bearer access token) and the answer: `{"rows": [{"keys": [...], "clicks": ...}],
"responseAggregationType": ...}` for search analytics (paged by `startRow` in the body, a full page meaning more),
`{"sitemap": [...]}` and `{"siteEntry": [...]}` (one page) for lists, the resource itself for one object.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

SLUG = "google-search-console"
ACCESS = "ya29.gsc_depth_4242"
CREDENTIALS = {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-s", "refresh_token": "1//r"}
LIMITS = Limits(max_attempts=1)
ROWS, UNPAGED, ONE = "rows", "unpaged", "one"
SITE = "https://www.example.com/"
S = "/webmasters/v3/sites/https%3A%2F%2Fwww.example.com%2F"
DOMAIN = "/webmasters/v3/sites/sc-domain%3Aexample.com"
Q = f"{S}/searchAnalytics/query"
DATES = {"startDate": "2026-01-01", "endDate": "2026-01-31"}

# (entity, action, params, method, raw path, expected query, JSON body (exact) or None, records key, kind)
GSC_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, list[str]], Any, str | None, str]] = [
    ("search_analytics_all_fields", "list", {"siteUrl": SITE, **DATES}, "POST", Q, {},
     {**DATES, "dimensions": ["date", "country", "device", "page", "query"]}, "rows", ROWS),
    ("search_analytics_by_country", "list", {"siteUrl": SITE, **DATES, "type": "image"}, "POST", Q, {},
     {**DATES, "dimensions": ["date", "country"], "type": "image"}, "rows", ROWS),
    ("search_analytics_by_date", "list", {"siteUrl": SITE, **DATES, "dataState": "all", "rowLimit": 2}, "POST", Q,
     {}, {**DATES, "dimensions": ["date"], "dataState": "all", "rowLimit": 2}, "rows", ROWS),
    ("search_analytics_by_device", "list", {"siteUrl": SITE, **DATES, "aggregationType": "byProperty"}, "POST", Q,
     {}, {**DATES, "dimensions": ["date", "device"], "aggregationType": "byProperty"}, "rows", ROWS),
    ("search_analytics_by_page", "list", {"siteUrl": SITE, **DATES, "dimensionFilterGroups": [
        {"groupType": "and", "filters": [{"dimension": "country", "operator": "equals", "expression": "FRA"}]}]},
     "POST", Q, {},
     {**DATES, "dimensions": ["date", "page"], "dimensionFilterGroups": [
         {"groupType": "and", "filters": [{"dimension": "country", "operator": "equals", "expression": "FRA"}]}]},
     "rows", ROWS),
    ("search_analytics_by_query", "list", {"siteUrl": "sc-domain:example.com", **DATES, "startRow": 0}, "POST",
     f"{DOMAIN}/searchAnalytics/query", {}, {**DATES, "dimensions": ["date", "query"], "startRow": 0}, "rows", ROWS),
    ("sitemaps", "get", {"siteUrl": SITE, "feedpath": "https://www.example.com/sitemap.xml"}, "GET",
     f"{S}/sitemaps/https%3A%2F%2Fwww.example.com%2Fsitemap.xml", {}, None, None, ONE),
    ("sitemaps", "list", {"siteUrl": SITE, "sitemapIndex": "https://www.example.com/index.xml"}, "GET",
     f"{S}/sitemaps", {"sitemapIndex": ["https://www.example.com/index.xml"]}, None, "sitemap", UNPAGED),
    ("sites", "get", {"siteUrl": SITE}, "GET", S, {}, None, None, ONE),
    ("sites", "list", {}, "GET", "/webmasters/v3/sites", {}, None, "siteEntry", UNPAGED),
]  # fmt: skip


def _query(request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def _raw_path(request) -> str:
    """The path as sent, before the stand-in decodes %2F (the property URL must stay one segment)."""
    return request.environ["REQUEST_URI"].split("?", 1)[0]


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("/webmasters/v3")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in GSC_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 10
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
    assert manifest.definition_id == "eb4c9e00-db83-4d63-a386-39cfa91012a8"


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "key", "kind"),
    GSC_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GSC_CASES],
)
def test_search_console_operation(httpserver, vendor, entity, action, params, method, path, query, body, key, kind):
    one = {"siteUrl": SITE, "permissionLevel": "siteOwner"}
    rows = [{"keys": ["2026-01-01"], "clicks": 5, "impressions": 90, "ctr": 0.055, "position": 7.1},
            {"keys": ["2026-01-02"], "clicks": 3, "impressions": 70, "ctr": 0.043, "position": 8.4}]  # fmt: skip
    answers = {
        ROWS: {"rows": rows, "responseAggregationType": "byProperty"},
        UNPAGED: {key: [{"path": "a"}, {"path": "b"}]},
        ONE: one,
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, _raw_path(request)) == (method, path)
    assert _query(request) == query
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert ACCESS not in raw and CREDENTIALS["client_secret"] not in raw
    if body is not None:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    else:
        assert not vendor.bodies[-1]
    if kind == ROWS:
        assert result.result == rows
        # Two rows: a full page only when the caller asked for two (rowLimit: 2), else fewer than the 1,000 default.
        full = params.get("rowLimit") == 2
        assert (result.has_next_page, result.end_cursor) == ((True, "2") if full else (False, None))
    elif kind == UNPAGED:
        assert [r["path"] for r in result.result] == ["a", "b"]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == one


def test_the_next_page_sends_start_row_in_the_body(httpserver, vendor) -> None:
    """searchAnalytics.query pages by `startRow`: a page of `rowLimit` rows may have more after it."""
    vendor.answer({"rows": [{"keys": ["a"]}, {"keys": ["b"]}], "responseAggregationType": "auto"})
    vendor.answer({"rows": [{"keys": ["c"]}], "responseAggregationType": "auto"})
    params = {"siteUrl": SITE, **DATES, "rowLimit": 2}
    first = _run(httpserver, "search_analytics_by_query", "list", params)
    assert (first.has_next_page, first.end_cursor) == (True, "2")
    last = _run(httpserver, "search_analytics_by_query", "list", {**params, "cursor": first.end_cursor})
    before, after = json.loads(vendor.bodies[0]), json.loads(vendor.bodies[1])
    assert "startRow" not in before
    assert after == {**before, "startRow": 2}
    assert _query(vendor.requests[1]) == {}
    assert [r["keys"] for r in last.result] == [["c"]]
    assert (last.has_next_page, last.end_cursor) == (False, None)
    # The page after a second full page starts after both.
    vendor.answer({"rows": [{"keys": ["c"]}, {"keys": ["d"]}]})
    again = _run(httpserver, "search_analytics_by_query", "list", {**params, "cursor": "2"})
    assert again.end_cursor == "4"


def test_no_rows_is_an_empty_last_page(httpserver, vendor) -> None:
    """Search Console leaves `rows` out when nothing matches."""
    vendor.answer({"responseAggregationType": "byProperty"})
    result = _run(httpserver, "search_analytics_by_date", "list", {"siteUrl": SITE, **DATES})
    assert (result.result, result.has_next_page) == (None, False)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"siteUrl": SITE, "startDate": "2026-01-01"}, "params.endDate"),
        ({"siteUrl": SITE, **DATES, "rowLimit": 25001}, "params.rowLimit"),
        ({"siteUrl": SITE, **DATES, "dimensions": ["browser"]}, "params.dimensions[0]"),
        ({"siteUrl": SITE, "startDate": "01/01/2026", "endDate": "2026-01-31"}, "params.startDate"),
        ({"siteUrl": SITE, **DATES, "type": "shopping"}, "params.type"),
    ],
)
def test_search_analytics_params_follow_googles_reference(manifests, params, field) -> None:
    errors = validate_params(manifests[SLUG], "search_analytics_by_date", "list", params)
    assert field in [e["field"] for e in errors]


# --- Auth and errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "stored"),
    [
        (CREDENTIALS, {"auth_type": "Client", **CREDENTIALS}),
        # Airbyte's replication shape: the same names under `authorization`, with the auth_type marker.
        ({"auth_type": "Client", **CREDENTIALS}, {"auth_type": "Client", **CREDENTIALS}),
        ({**CREDENTIALS, "access_token": ACCESS}, {"auth_type": "Client", **CREDENTIALS, "access_token": ACCESS}),
    ],
)
def test_airbyte_and_our_credential_shapes_are_accepted(manifests, credentials, stored) -> None:
    scheme, normalised = validate_credentials(manifests[SLUG], credentials)
    assert scheme.key == "oauth"
    assert normalised == stored


def test_oauth_block_asks_google_for_an_offline_read_only_grant(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert (oauth.authorization_url, oauth.token_url) == (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
    )
    assert dict(oauth.authorize_params)["access_type"] == "offline"
    assert oauth.scopes == ("https://www.googleapis.com/auth/webmasters.readonly",)


def test_a_missing_access_token_fails_before_any_call(httpserver, vendor) -> None:
    from core.errors import OperationInputError

    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "sites", "list", {}, credentials=CREDENTIALS)
    assert caught.value.code == "credentials_missing"
    assert vendor.requests == []


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (429, "rateLimitExceeded", "rate_limited"),
        (403, "quotaExceeded", "rate_limited"),
        (403, "forbidden", "credentials_rejected"),
        (401, "authError", "credentials_rejected"),
        (404, "notFound", "not_found"),
        (400, "invalidParameter", "bad_request"),
    ],
)
def test_errors_are_classified_by_reason(httpserver, vendor, status, reason, code) -> None:
    vendor.answer({"error": {"code": status, "message": f"Google says {reason}", "errors": [{"reason": reason}]}},
                  status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "sites", "get", {"siteUrl": SITE})
    assert caught.value.code == code
    assert f"Google says {reason}" in caught.value.message


def test_check_lists_the_properties(httpserver, vendor, manifests) -> None:
    check = manifests[SLUG].check
    vendor.answer({"siteEntry": [{"siteUrl": SITE, "permissionLevel": "siteFullUser"}]})
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert _raw_path(vendor.last) == "/webmasters/v3/sites"
    assert result.result[0]["siteUrl"] == SITE

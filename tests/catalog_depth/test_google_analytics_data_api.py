"""Every Google Analytics Data operation against a loopback stand-in that answers as Google's Analytics Data API
v1beta reference (developers.google.com/analytics/devguides/reporting/data/v1/rest) documents.

Each case is written from Google's reference, not from the manifest: `POST /v1beta/properties/{id}:runReport`
with the exact JSON body (dimensions and metrics as `[{"name": ...}]`, `dateRanges`, `offset`/`limit`), the bearer
access token, and the answer `{"dimensionHeaders": [...], "metricHeaders": [...], "rows": [...], "rowCount": N}`
paged by `offset` in the body until `rowCount`; the Admin API's `accountSummaries` pages by `pageToken`.
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

SLUG = "google-analytics-data-api"
ACCESS = "ya29.ga4_depth_4242"
CREDENTIALS = {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-s", "refresh_token": "1//r"}
LIMITS = Limits(max_attempts=1)
P = "/v1beta/properties/213025502:runReport"
LAST_30 = [{"startDate": "30daysAgo", "endDate": "today"}]
OVERVIEW = [{"name": m} for m in ("totalUsers", "newUsers", "sessions", "sessionsPerUser", "averageSessionDuration",
                                  "screenPageViews", "screenPageViewsPerSession", "bounceRate")]  # fmt: skip


def _dims(*names: str) -> list[dict[str, str]]:
    return [{"name": n} for n in names]


# (entity, params beyond property_id, exact JSON body)
REPORT_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("daily_active_users", {},
     {"dimensions": _dims("date"), "metrics": _dims("active1DayUsers"), "dateRanges": LAST_30}),
    ("devices", {"limit": 2}, {"dimensions": _dims("date", "deviceCategory", "operatingSystem", "browser"),
                               "metrics": OVERVIEW, "dateRanges": LAST_30, "limit": 2}),
    ("four_weekly_active_users", {"dateRanges": [{"startDate": "2026-01-01", "endDate": "2026-01-31"}]},
     {"dimensions": _dims("date"), "metrics": _dims("active28DayUsers"),
      "dateRanges": [{"startDate": "2026-01-01", "endDate": "2026-01-31"}]}),
    ("locations", {"keepEmptyRows": True},
     {"dimensions": _dims("region", "country", "city", "date"), "metrics": OVERVIEW, "dateRanges": LAST_30,
      "keepEmptyRows": True}),
    ("pages", {"orderBys": [{"metric": {"metricName": "screenPageViews"}, "desc": True}]},
     {"dimensions": _dims("date", "hostName", "pagePathPlusQueryString"),
      "metrics": _dims("screenPageViews", "bounceRate"), "dateRanges": LAST_30,
      "orderBys": [{"metric": {"metricName": "screenPageViews"}, "desc": True}]}),
    ("traffic_sources", {"dimensionFilter": {"filter": {"fieldName": "sessionMedium",
                                                        "stringFilter": {"value": "organic"}}}},
     {"dimensions": _dims("date", "sessionSource", "sessionMedium"), "metrics": OVERVIEW, "dateRanges": LAST_30,
      "dimensionFilter": {"filter": {"fieldName": "sessionMedium", "stringFilter": {"value": "organic"}}}}),
    ("website_overview", {"metrics": _dims("activeUsers")},
     {"dimensions": _dims("date"), "metrics": _dims("activeUsers"), "dateRanges": LAST_30}),
    ("weekly_active_users", {"currencyCode": "EUR"},
     {"dimensions": _dims("date"), "metrics": _dims("active7DayUsers"), "dateRanges": LAST_30, "currencyCode": "EUR"}),
]  # fmt: skip
OTHER_OPERATIONS = {"account_summaries.list"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("/v1beta")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _report(rows: int, row_count: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dimensionHeaders": [{"name": "date"}],
        "metricHeaders": [{"name": "activeUsers", "type": "TYPE_INTEGER"}],
        "rows": [
            {"dimensionValues": [{"value": f"202601{i + 1:02d}"}], "metricValues": [{"value": str(10 + i)}]}
            for i in range(rows)
        ],  # fmt: skip
        "kind": "analyticsData#runReport",
    }
    if row_count is not None:
        body["rowCount"] = row_count
    return body


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.list" for c in REPORT_CASES} | OTHER_OPERATIONS
    assert len(ours) == 9
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
        assert ours - reference == OTHER_OPERATIONS
    assert manifest.definition_id == "3cc2eafd-84aa-4dca-93af-322d9dfeec1a"


@pytest.mark.parametrize(("entity", "params", "body"), REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_report_operation(httpserver, vendor, entity, params, body) -> None:
    vendor.answer(_report(2, 5))
    result = _run(httpserver, entity, "list", {"property_id": "213025502", **params})
    request = vendor.last
    assert (request.method, request.path) == ("POST", P)
    assert request.query_string == b""
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(vendor.bodies[-1]) == body
    assert ACCESS not in vendor.bodies[-1].decode()
    assert [r["dimensionValues"][0]["value"] for r in result.result] == ["20260101", "20260102"]
    # rowCount 5 and two rows from offset 0: the next page starts at 2.
    assert (result.has_next_page, result.end_cursor) == (True, "2")


def test_the_next_page_sends_offset_in_the_body_until_row_count(httpserver, vendor) -> None:
    vendor.answer(_report(2, 3))
    vendor.answer(_report(1, 3))
    params = {"property_id": "213025502", "limit": 2}
    first = _run(httpserver, "website_overview", "list", params)
    last = _run(httpserver, "website_overview", "list", {**params, "cursor": first.end_cursor})
    before, after = json.loads(vendor.bodies[0]), json.loads(vendor.bodies[1])
    assert "offset" not in before
    assert after == {**before, "offset": 2}
    assert vendor.requests[1].path == P and vendor.requests[1].query_string == b""
    assert len(last.result) == 1
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_an_empty_report_has_no_rows_and_no_row_count(httpserver, vendor) -> None:
    """runReport leaves `rows` and `rowCount` out when nothing matches."""
    empty = _report(0, None)
    del empty["rows"]
    vendor.answer(empty)
    result = _run(httpserver, "daily_active_users", "list", {"property_id": "213025502"})
    assert (result.result, result.has_next_page) == (None, False)


def test_account_summaries_page_by_page_token(httpserver, vendor) -> None:
    vendor.answer({"accountSummaries": [{"account": "accounts/1", "propertySummaries": [
        {"property": "properties/213025502", "displayName": "Shop"}]}], "nextPageToken": "tok-2"})  # fmt: skip
    vendor.answer({"accountSummaries": [{"account": "accounts/2"}]})
    first = _run(httpserver, "account_summaries", "list", {"pageSize": 1})
    assert (vendor.last.method, vendor.last.path) == ("GET", "/v1beta/accountSummaries")
    assert parse_qs(vendor.last.query_string.decode()) == {"pageSize": ["1"]}
    assert vendor.last.headers["Authorization"] == f"Bearer {ACCESS}"
    assert (first.has_next_page, first.end_cursor) == (True, "tok-2")
    last = _run(httpserver, "account_summaries", "list", {"pageSize": 1, "cursor": first.end_cursor})
    assert parse_qs(vendor.last.query_string.decode()) == {"pageSize": ["1"], "pageToken": ["tok-2"]}
    assert [a["account"] for a in last.result] == ["accounts/2"]
    assert last.has_next_page is False


def test_the_admin_api_has_its_own_host(manifests) -> None:
    manifest = manifests[SLUG]
    assert manifest.base_url == "https://analyticsdata.googleapis.com/v1beta"
    action = manifest.action("account_summaries", "list")
    assert action.base_url == "https://analyticsadmin.googleapis.com/v1beta"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "params.property_id"),
        ({"property_id": "properties/1"}, "params.property_id"),
        ({"property_id": "1", "limit": 250001}, "params.limit"),
        ({"property_id": "1", "metrics": []}, "params.metrics"),
        ({"property_id": "1", "metricAggregations": ["AVERAGE"]}, "params.metricAggregations[0]"),
    ],
)
def test_report_params_follow_googles_reference(manifests, params, field) -> None:
    errors = validate_params(manifests[SLUG], "devices", "list", params)
    assert field in [e["field"] for e in errors]


# --- Auth and errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "stored"),
    [
        (CREDENTIALS, {"auth_type": "Client", **CREDENTIALS}),
        # Airbyte's replication shape: the same names under `credentials`, with the auth_type marker.
        ({"auth_type": "Client", **CREDENTIALS}, {"auth_type": "Client", **CREDENTIALS}),
    ],
)
def test_airbyte_and_our_credential_shapes_are_accepted(manifests, credentials, stored) -> None:
    scheme, normalised = validate_credentials(manifests[SLUG], credentials)
    assert scheme.key == "oauth"
    assert normalised == stored


def test_service_account_keys_are_accepted_under_airbytes_names(manifests) -> None:
    # The JWT-bearer scheme (tests/engine/test_grants.py runs it against the real test authorization server).
    key = '{"type": "service_account"}'
    scheme, stored = validate_credentials(manifests[SLUG], {"auth_type": "Service", "credentials_json": key})
    assert (scheme.key, stored) == ("service_account", {"auth_type": "Service", "service_account_info": key})


def test_oauth_block_asks_google_for_an_offline_read_only_grant(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert (oauth.authorization_url, oauth.token_url) == (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
    )
    assert dict(oauth.authorize_params)["access_type"] == "offline"
    assert oauth.scopes == ("https://www.googleapis.com/auth/analytics.readonly",)


@pytest.mark.parametrize(
    ("status", "google_status", "code"),
    [
        (429, "RESOURCE_EXHAUSTED", "rate_limited"),
        (403, "PERMISSION_DENIED", "credentials_rejected"),
        (401, "UNAUTHENTICATED", "credentials_rejected"),
        (404, "NOT_FOUND", "not_found"),
        (400, "INVALID_ARGUMENT", "bad_request"),
    ],
)
def test_errors_are_classified_by_status(httpserver, vendor, status, google_status, code) -> None:
    vendor.answer({"error": {"code": status, "message": f"GA says {google_status}", "status": google_status}},
                  status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "devices", "list", {"property_id": "1"})
    assert caught.value.code == code
    assert f"GA says {google_status}" in caught.value.message


def test_check_lists_one_account_summary(httpserver, vendor, manifests) -> None:
    check = manifests[SLUG].check
    vendor.answer({"accountSummaries": [{"account": "accounts/1"}]})
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert vendor.last.path == "/v1beta/accountSummaries"
    assert result.result == [{"account": "accounts/1"}]

"""Every Facebook Marketing operation against a loopback stand-in that answers as Meta's Graph API reference
(developers.facebook.com/docs/marketing-api/reference, Graph API v25.0) documents.

Each case is written from Meta's reference, not from the manifest: the request the operation must send (method,
path under /v25.0 with the act_ prefix on ad account ids, query with array and object params as JSON text, or the
exact JSON body of a write, the token as a bearer header) and what comes back: {"data": [...], "paging":
{"cursors": {"before", "after"}, "next"}} where "next" is there only when another page exists, or one object.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.request import encode_pairs
from connectors.engine.urls import resolve_base_url
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "facebook-marketing"
TOKEN = "EAAGm0PX4ZCpsBAdepth4242"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
ACT = {"account_id": "1234567890"}
V = "/v25.0"

# (entity, action, params, method, path, expected query, expected JSON body (None: no body), answer kind)
FB_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str]] = [
    ("ad_accounts", "get", {**ACT, "fields": "id,name,currency"}, "GET", f"{V}/act_1234567890",
     {"fields": "id,name,currency"}, None, ONE),
    ("ad_accounts", "list", {"fields": "id,name", "limit": 25}, "GET", f"{V}/me/adaccounts",
     {"fields": "id,name", "limit": "25"}, None, LIST),
    ("ad_creatives", "list", {**ACT, "fields": "id,name,object_story_spec"}, "GET", f"{V}/act_1234567890/adcreatives",
     {"fields": "id,name,object_story_spec"}, None, LIST),
    ("ad_library", "list", {"ad_reached_countries": ["US", "CA"], "search_terms": "solar", "ad_type":
                            "POLITICAL_AND_ISSUE_ADS", "ad_active_status": "ACTIVE",
                            "publisher_platforms": ["FACEBOOK", "INSTAGRAM"], "ad_delivery_date_min": "2025-01-01"},
     "GET", f"{V}/ads_archive",
     {"ad_reached_countries": '["US","CA"]', "search_terms": "solar", "ad_type": "POLITICAL_AND_ISSUE_ADS",
      "ad_active_status": "ACTIVE", "publisher_platforms": '["FACEBOOK","INSTAGRAM"]',
      "ad_delivery_date_min": "2025-01-01"}, None, LIST),
    ("ad_sets", "create", {**ACT, "name": "US 18+", "campaign_id": "120200000001", "billing_event": "IMPRESSIONS",
                           "optimization_goal": "LINK_CLICKS", "daily_budget": 5000, "bid_amount": 200,
                           "targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 18}, "status": "PAUSED"},
     "POST", f"{V}/act_1234567890/adsets", {},
     {"name": "US 18+", "campaign_id": "120200000001", "billing_event": "IMPRESSIONS",
      "optimization_goal": "LINK_CLICKS", "daily_budget": 5000, "bid_amount": 200,
      "targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 18}, "status": "PAUSED"}, ONE),
    ("ad_sets", "get", {"adset_id": "120200000002", "fields": "id,name,targeting"}, "GET", f"{V}/120200000002",
     {"fields": "id,name,targeting"}, None, ONE),
    ("ad_sets", "list", {**ACT, "effective_status": ["ACTIVE", "PAUSED"], "limit": 50}, "GET",
     f"{V}/act_1234567890/adsets", {"effective_status": '["ACTIVE","PAUSED"]', "limit": "50"}, None, LIST),
    ("ad_sets", "update", {"adset_id": "120200000002", "status": "PAUSED", "daily_budget": 7000}, "POST",
     f"{V}/120200000002", {}, {"status": "PAUSED", "daily_budget": 7000}, ONE),
    ("ads", "create", {**ACT, "name": "Ad 1", "adset_id": "120200000002", "creative": {"creative_id": "120200000009"},
                       "status": "PAUSED"},
     "POST", f"{V}/act_1234567890/ads", {},
     {"name": "Ad 1", "adset_id": "120200000002", "creative": {"creative_id": "120200000009"}, "status": "PAUSED"},
     ONE),
    ("ads", "get", {"ad_id": "120200000003"}, "GET", f"{V}/120200000003", {}, None, ONE),
    ("ads", "list", {**ACT, "fields": "id,name,status", "date_preset": "last_7d"}, "GET", f"{V}/act_1234567890/ads",
     {"fields": "id,name,status", "date_preset": "last_7d"}, None, LIST),
    ("ads", "update", {"ad_id": "120200000003", "name": "Ad 1b", "status": "ARCHIVED"}, "POST", f"{V}/120200000003",
     {}, {"name": "Ad 1b", "status": "ARCHIVED"}, ONE),
    ("ads_insights", "list", {**ACT, "level": "campaign", "fields": "campaign_name,impressions,spend",
                              "time_range": {"since": "2025-01-01", "until": "2025-01-31"}, "time_increment": 1,
                              "breakdowns": ["age", "gender"],
                              "filtering": [{"field": "campaign.effective_status", "operator": "IN",
                                             "value": ["ACTIVE"]}]},
     "GET", f"{V}/act_1234567890/insights",
     {"level": "campaign", "fields": "campaign_name,impressions,spend",
      "time_range": '{"since":"2025-01-01","until":"2025-01-31"}', "time_increment": "1",
      "breakdowns": '["age","gender"]',
      "filtering": '[{"field":"campaign.effective_status","operator":"IN","value":["ACTIVE"]}]'}, None, LIST),
    ("campaigns", "create", {**ACT, "name": "Spring", "objective": "OUTCOME_TRAFFIC", "special_ad_categories": [],
                             "status": "PAUSED", "daily_budget": 10000, "bid_strategy": "LOWEST_COST_WITHOUT_CAP"},
     "POST", f"{V}/act_1234567890/campaigns", {},
     {"name": "Spring", "objective": "OUTCOME_TRAFFIC", "special_ad_categories": [], "status": "PAUSED",
      "daily_budget": 10000, "bid_strategy": "LOWEST_COST_WITHOUT_CAP"}, ONE),
    ("campaigns", "get", {"campaign_id": "120200000001", "fields": "id,objective"}, "GET", f"{V}/120200000001",
     {"fields": "id,objective"}, None, ONE),
    ("campaigns", "list", {**ACT, "effective_status": ["ACTIVE"]}, "GET", f"{V}/act_1234567890/campaigns",
     {"effective_status": '["ACTIVE"]'}, None, LIST),
    ("campaigns", "update", {"campaign_id": "120200000001", "status": "PAUSED", "spend_cap": 100000}, "POST",
     f"{V}/120200000001", {}, {"status": "PAUSED", "spend_cap": 100000}, ONE),
    ("current_user", "get", {"fields": "id,name"}, "GET", f"{V}/me", {"fields": "id,name"}, None, ONE),
    ("custom_conversions", "list", {**ACT, "limit": 10}, "GET", f"{V}/act_1234567890/customconversions",
     {"limit": "10"}, None, LIST),
    ("images", "list", {**ACT, "hashes": ["abc123"]}, "GET", f"{V}/act_1234567890/adimages",
     {"hashes": '["abc123"]'}, None, LIST),
    ("pixel_stats", "list", {"pixel_id": "998877", "aggregation": "event", "start_time": "2025-01-01T00:00:00Z"},
     "GET", f"{V}/998877/stats", {"aggregation": "event", "start_time": "2025-01-01T00:00:00Z"}, None, LIST),
    ("pixels", "get", {"pixel_id": "998877", "fields": "id,name,last_fired_time"}, "GET", f"{V}/998877",
     {"fields": "id,name,last_fired_time"}, None, ONE),
    ("pixels", "list", ACT, "GET", f"{V}/act_1234567890/adspixels", {}, None, LIST),
    ("videos", "list", {**ACT, "fields": "id,title,length"}, "GET", f"{V}/act_1234567890/advideos",
     {"fields": "id,title,length"}, None, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for(V)),
        credentials=kwargs.pop("credentials", {"access_token": TOKEN}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(ids: list[str], after: str, more: bool, origin: str = "https://graph.facebook.com") -> dict[str, Any]:
    paging: dict[str, Any] = {"cursors": {"before": "QVFIUb4", "after": after}}
    if more:
        paging["next"] = f"{origin}/v25.0/act_1/campaigns?access_token=x&limit=25&after={after}"
    return {"data": [{"id": i} for i in ids], "paging": paging}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in FB_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 24
    assert RAW[SLUG]["definition_id"] == "e7778cfc-e97c-4458-9ecb-b4f2bba8946c"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    FB_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in FB_CASES],
)
def test_facebook_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind) -> None:
    one = {"id": "120200000001", "name": "Spring"}
    vendor.answer(_page(["1", "2"], "QVFIUaft", True) if kind == LIST else one)
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
        assert (result.has_next_page, result.end_cursor) == (True, "QVFIUaft")
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "query"),
    [
        ("campaigns", "list", {**ACT, "limit": 25}, f"{V}/act_1234567890/campaigns", {"limit": "25"}),
        ("ads_insights", "list", {**ACT, "level": "ad"}, f"{V}/act_1234567890/insights", {"level": "ad"}),
        ("ad_accounts", "list", {}, f"{V}/me/adaccounts", {}),
    ],
)
def test_next_page_sends_cursors_after_as_after(httpserver, vendor, entity, action, params, path, query) -> None:
    vendor.answer(_page(["1"], "QVFIUa1", True))
    vendor.answer(_page(["2"], "QVFIUa2", False))
    first = _run(httpserver, entity, action, params)
    assert first.end_cursor == "QVFIUa1"
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert (vendor.requests[1].path, query_of(vendor.requests[1])) == (path, {**query, "after": "QVFIUa1"})
    # The last page still carries cursors.after; no paging.next means no next page.
    assert [r["id"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_an_empty_page_without_paging_has_no_next_page(httpserver, vendor) -> None:
    vendor.answer({"data": []})
    result = _run(httpserver, "campaigns", "list", ACT)
    assert (result.result, result.has_next_page, result.end_cursor) == ([], False, None)


# --- Auth, config, params ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"access_token": TOKEN}, "oauth", {"auth_type": "Client", "access_token": TOKEN}),
        (
            {"auth_type": "Client", "access_token": TOKEN, "client_id": "123", "client_secret": "s"},
            "oauth",
            {"auth_type": "Client", "access_token": TOKEN, "client_id": "123", "client_secret": "s"},
        ),
        ({"account_key": TOKEN}, "service_account", {"auth_type": "Service", "account_key": TOKEN}),
        # Airbyte's replication shape: the system user token as access_token, marked auth_type "Service".
        (
            {"auth_type": "Service", "access_token": TOKEN},
            "service_account",
            {"auth_type": "Service", "account_key": TOKEN},
        ),
    ],
)
def test_both_schemes_and_airbytes_credential_shapes(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests[SLUG], credentials)
    assert (chosen.key, normalised) == (scheme, stored)


def test_the_same_token_under_two_names_must_agree(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests[SLUG], {"auth_type": "Service", "access_token": "a", "account_key": "b"})
    assert {e.error_code for e in caught.value.errors} == {"conflicting_fields"}


@pytest.mark.parametrize("scheme", ["oauth", "service_account"])
def test_each_scheme_sends_its_token_as_a_bearer_header(httpserver, vendor, scheme) -> None:
    credentials = {"access_token": "user_tok"} if scheme == "oauth" else {"account_key": "system_user_tok"}
    vendor.answer({"id": "1"})
    _run(httpserver, "current_user", "get", {}, credentials=credentials, auth_scheme=scheme)
    expected = "user_tok" if scheme == "oauth" else "system_user_tok"
    assert vendor.last.headers["Authorization"] == f"Bearer {expected}"
    assert "access_token" not in query_of(vendor.last)


def test_oauth_uses_facebook_login_and_the_graph_token_endpoint(manifests) -> None:
    oauth = manifests[SLUG].find_scheme("oauth").oauth
    assert oauth.authorization_url == "https://www.facebook.com/v25.0/dialog/oauth"
    assert oauth.token_url == "https://graph.facebook.com/v25.0/oauth/access_token"
    assert {"ads_read", "ads_management"} <= set(oauth.scopes)


@pytest.mark.parametrize(
    ("config", "url"),
    [({}, "https://graph.facebook.com/v25.0"), ({"api_version": "v24.0"}, "https://graph.facebook.com/v24.0")],
)
def test_api_version_is_the_path_prefix(manifests, config, url) -> None:
    fb = manifests[SLUG]
    stored = validate_replication_config(fb, config)
    assert resolve_base_url(fb.base_url, config=stored, credentials={}, config_defaults=fb.config_defaults) == url
    with pytest.raises(InvalidInput):
        validate_replication_config(fb, {"api_version": "v25.0/../x"})


def test_param_bounds_are_metas(manifests) -> None:
    fb = manifests[SLUG]
    assert validate_params(fb, "ad_accounts", "get", {"account_id": "act_123"})  # the id without act_
    assert not validate_params(fb, "ad_accounts", "get", {"account_id": "123"})
    assert validate_params(fb, "campaigns", "create", {**ACT, "name": "x", "objective": "CONVERSIONS",
                                                       "special_ad_categories": []})  # fmt: skip
    assert validate_params(fb, "campaigns", "list", {**ACT, "effective_status": ["LIVE"]})
    assert validate_params(fb, "ad_library", "list", {"search_terms": "x"})  # ad_reached_countries is required
    assert validate_params(fb, "ads_insights", "list", {**ACT, "date_preset": "last_2d"})


def test_json_query_arrays_encode_arrays_and_objects_as_json_text() -> None:
    pairs = encode_pairs({"a": ["x", "y"], "t": {"since": "2025-01-01"}, "n": 3, "b": True}, arrays="json")
    assert pairs == [("a", '["x","y"]'), ("t", '{"since":"2025-01-01"}'), ("n", "3"), ("b", "true")]
    # The other styles are unchanged.
    assert encode_pairs({"a": ["x", "y"]}) == [("a", "x"), ("a", "y")]


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [(190, 400, "credentials_rejected"), (200, 403, "credentials_rejected"), (17, 400, "rate_limited"),
     (613, 400, "rate_limited"), (80004, 400, "rate_limited"), (100, 400, "bad_request"), (803, 400, "not_found")],
)  # fmt: skip
def test_graph_error_codes_decide_whatever_the_status(httpserver, vendor, code, status, expected) -> None:
    vendor.answer({"error": {"message": f"(#{code}) Something", "type": "OAuthException", "code": code,
                             "fbtrace_id": "A1"}}, status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "campaigns", "list", ACT)
    assert caught.value.code == expected
    assert f"(#{code}) Something" in str(caught.value)

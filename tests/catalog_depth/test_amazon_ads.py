"""Every Amazon Ads operation against a loopback stand-in that answers as the Amazon Ads API reference
(advertising.amazon.com/API/docs) documents.

Each case is written from Amazon's reference, not from the manifest: the request (method, path, exact JSON body,
the resource's versioned media type in Content-Type and Accept; the LWA access token as Bearer, the client id in
Amazon-Advertising-API-ClientId, the profile in Amazon-Advertising-API-Scope) and what comes back: the v3/v4 list
shape `{"<resource>": [...], "nextToken": "..."}`, or profiles v2's bare array / object.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_replication_config
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

SLUG = "amazon-ads"
CLIENT_ID = "amzn1.application-oa2-client.depth42"
TOKEN = "Atza|depth_access_4242"
CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": "s3cret", "refresh_token": "Atzr|r", "access_token": TOKEN}
PROFILE = "3360910195213842"
LIMITS = Limits(max_attempts=1)
LIST, ALL, ONE = "list", "all", "one"


def _mt(resource: str) -> str:
    return f"application/vnd.{resource}+json"


# (entity, action, params, method, path, JSON body (None: no body), media type (None: plain JSON),
#  records key in the answer (None: a bare array or object), kind)
ADS_CASES: list[tuple[str, str, dict[str, Any], str, str, Any, str | None, str | None, str]] = [
    ("portfolios", "get", {"portfolioIdFilter": {"include": ["77"]}}, "POST", "/portfolios/list",
     {"portfolioIdFilter": {"include": ["77"]}}, _mt("spPortfolio.v3"), "portfolios", ONE),
    ("portfolios", "list", {"stateFilter": {"include": ["ENABLED"]}, "maxResults": 50}, "POST", "/portfolios/list",
     {"stateFilter": {"include": ["ENABLED"]}, "maxResults": 50}, _mt("spPortfolio.v3"), "portfolios", LIST),
    ("profiles", "get", {"profileId": 3360910195213842}, "GET", f"/v2/profiles/{PROFILE}", None, None, None, ONE),
    ("profiles", "list", {"accessLevel": "view"}, "GET", "/v2/profiles", None, None, None, ALL),
    ("sponsored_brands_ad_groups", "list", {"campaignIdFilter": {"include": ["9"]}}, "POST", "/sb/v4/adGroups/list",
     {"campaignIdFilter": {"include": ["9"]}}, _mt("sbadgroupresource.v4"), "adGroups", LIST),
    ("sponsored_brands_campaigns", "list", {"stateFilter": {"include": ["PAUSED"]}}, "POST", "/sb/v4/campaigns/list",
     {"stateFilter": {"include": ["PAUSED"]}}, _mt("sbcampaignresource.v4"), "campaigns", LIST),
    ("sponsored_product_ad_groups", "list", {"maxResults": 100}, "POST", "/sp/adGroups/list", {"maxResults": 100},
     _mt("spAdGroup.v3"), "adGroups", LIST),
    ("sponsored_product_campaigns", "get", {"campaignIdFilter": {"include": ["5"]}}, "POST", "/sp/campaigns/list",
     {"campaignIdFilter": {"include": ["5"]}}, _mt("spCampaign.v3"), "campaigns", ONE),
    ("sponsored_product_campaigns", "list", {"includeExtendedDataFields": True}, "POST", "/sp/campaigns/list",
     {"includeExtendedDataFields": True}, _mt("spCampaign.v3"), "campaigns", LIST),
    ("sponsored_product_keywords", "list", {"matchTypeFilter": ["EXACT"]}, "POST", "/sp/keywords/list",
     {"matchTypeFilter": ["EXACT"]}, _mt("spKeyword.v3"), "keywords", LIST),
    ("sponsored_product_negative_keywords", "list", {"adGroupIdFilter": {"include": ["3"]}}, "POST",
     "/sp/negativeKeywords/list", {"adGroupIdFilter": {"include": ["3"]}}, _mt("spNegativeKeyword.v3"),
     "negativeKeywords", LIST),
    ("sponsored_product_negative_targets", "list", {}, "POST", "/sp/negativeTargets/list", {},
     _mt("spNegativeTargetingClause.v3"), "negativeTargetingClauses", LIST),
    ("sponsored_product_product_ads", "list", {"adIdFilter": {"include": ["8"]}}, "POST", "/sp/productAds/list",
     {"adIdFilter": {"include": ["8"]}}, _mt("spProductAd.v3"), "productAds", LIST),
    ("sponsored_product_targets", "list", {"expressionTypeFilter": {"include": ["AUTO"]}}, "POST",
     "/sp/targets/list", {"expressionTypeFilter": {"include": ["AUTO"]}}, _mt("spTargetingClause.v3"),
     "targetingClauses", LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=CREDENTIALS,
        config=kwargs.pop("config", {"api_host": "advertising-api.amazon.com", "profile_id": PROFILE}),
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in ADS_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "c6b0a29e-1da9-4512-9002-7bfd0cba2246"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "body", "media", "key", "kind"),
    ADS_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in ADS_CASES],
)
def test_amazon_ads_operation(httpserver, vendor, entity, action, params, method, path, body, media, key, kind) -> None:
    records = [{"id": "1"}, {"id": "2"}]
    if kind == ONE:
        answer: Any = {key: records[:1]} if key else {"profileId": 1}
    else:
        answer = {key: records, "nextToken": "tok2"} if key else records
    vendor.answer(answer)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert request.headers["Amazon-Advertising-API-Scope"] == PROFILE
    assert request.query_string.decode() == ("accessLevel=view" if (entity, action) == ("profiles", "list") else "")
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert json.loads(vendor.bodies[-1]) == body
    if media:
        assert request.headers["Content-Type"] == media
        assert request.headers["Accept"] == media
    if kind == ONE:
        assert result.result == (records[0] if key else {"profileId": 1})
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert result.has_next_page == (kind == LIST)


def test_next_page_sends_next_token_in_the_body(httpserver, vendor) -> None:
    vendor.answer({"campaigns": [{"campaignId": "1"}], "nextToken": "page-2-token"})
    vendor.answer({"campaigns": [{"campaignId": "2"}]})
    first = _run(httpserver, "sponsored_product_campaigns", "list", {"maxResults": 1})
    assert (first.has_next_page, first.end_cursor) == (True, "page-2-token")
    last = _run(httpserver, "sponsored_product_campaigns", "list", {"maxResults": 1, "cursor": first.end_cursor})
    assert json.loads(vendor.bodies[1]) == {"maxResults": 1, "nextToken": "page-2-token"}
    assert [r["campaignId"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_scope_param_wins_over_the_configured_profile(httpserver, vendor) -> None:
    vendor.answer({"keywords": []})
    _run(httpserver, "sponsored_product_keywords", "list", {"profileId": "111"})
    assert vendor.last.headers["Amazon-Advertising-API-Scope"] == "111"
    assert json.loads(vendor.bodies[-1]) == {}


def test_without_a_profile_no_scope_header_is_sent(httpserver, vendor) -> None:
    vendor.answer([])
    _run(httpserver, "profiles", "list", {}, config={"api_host": "advertising-api.amazon.com"})
    assert "Amazon-Advertising-API-Scope" not in vendor.last.headers


def test_region_is_stored_as_its_api_host(manifests) -> None:
    ads = manifests[SLUG]
    assert validate_replication_config(ads, {"region": "EU"}) == {"api_host": "advertising-api-eu.amazon.com"}
    assert validate_replication_config(ads, {"region": "FE", "profile_id": PROFILE}) == {
        "api_host": "advertising-api-fe.amazon.com",
        "profile_id": PROFILE,
    }
    assert validate_replication_config(ads, {"region": "NA"}) == {"api_host": "advertising-api.amazon.com"}
    with pytest.raises(InvalidInput):
        validate_replication_config(ads, {"region": "EU", "api_host": "advertising-api.amazon.com"})
    with pytest.raises(InvalidInput):
        validate_replication_config(ads, {"region": "US"})
    with pytest.raises(InvalidInput):
        validate_replication_config(ads, {"api_host": "evil.example.com"})


def test_oauth_is_login_with_amazon(manifests) -> None:
    scheme = manifests[SLUG].oauth_scheme()
    assert scheme.oauth.token_url == "https://api.amazon.com/auth/o2/token"
    assert scheme.oauth.authorization_url == "https://www.amazon.com/ap/oa"
    assert list(scheme.oauth.scopes) == ["advertising::campaign_management"]
    assert scheme.credentials_schema["required"] == ["client_id", "client_secret", "refresh_token"]


def test_filters_are_amazons(manifests) -> None:
    ads = manifests[SLUG]
    assert validate_params(ads, "sponsored_product_campaigns", "list", {"maxResults": 1001})
    assert validate_params(ads, "sponsored_product_campaigns", "list", {"stateFilter": {"include": ["LIVE"]}})
    assert validate_params(ads, "sponsored_product_campaigns", "get", {})
    assert not validate_params(ads, "sponsored_product_campaigns", "list", {"stateFilter": {"include": ["ENABLED"]}})


def test_an_expired_token_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer({"code": "UNAUTHORIZED", "details": "Not authorized to access this advertiser"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "sponsored_product_campaigns", "list", {})
    assert caught.value.code == "credentials_rejected"


def test_throttling_is_rate_limited_with_retry_after(httpserver, vendor) -> None:
    vendor.answer({"code": "429", "details": "Too Many Requests"}, status=429, headers={"Retry-After": "2"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "profiles", "list", {})
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 2

"""Every Reddit Ads operation against a loopback stand-in that answers as Reddit's Ads API v3 reference
(ads-api.reddit.com/docs/v3) documents: the bearer token, the path, `page.size`; lists as {"data": [...],
"pagination": {"next_url": absolute URL with page.token}}, one object as {"data": {...}}."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

TOKEN = "eyJreddit_depth_4242"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
ACCT = {"ad_account_id": "a2_5x9k"}

# (entity, action, params, method, path, expected query, answer kind)
REDDIT_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str]] = [
    ("ad_accounts", "get", ACCT, "GET", "/api/v3/ad_accounts/a2_5x9k", {}, ONE),
    ("ad_accounts", "list", {"business_id": "b7c1", "page.size": 50}, "GET", "/api/v3/businesses/b7c1/ad_accounts",
     {"page.size": "50"}, LIST),
    ("ad_groups", "get", {"ad_group_id": "1680"}, "GET", "/api/v3/ad_groups/1680", {}, ONE),
    ("ad_groups", "list", ACCT, "GET", "/api/v3/ad_accounts/a2_5x9k/ad_groups", {}, LIST),
    ("ads", "get", {"ad_id": "9001"}, "GET", "/api/v3/ads/9001", {}, ONE),
    ("ads", "list", {**ACCT, "page.size": 1000}, "GET", "/api/v3/ad_accounts/a2_5x9k/ads", {"page.size": "1000"}, LIST),
    ("businesses", "list", {}, "GET", "/api/v3/me/businesses", {}, LIST),
    ("campaigns", "get", {"campaign_id": "4242"}, "GET", "/api/v3/campaigns/4242", {}, ONE),
    ("campaigns", "list", ACCT, "GET", "/api/v3/ad_accounts/a2_5x9k/campaigns", {}, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["reddit-ads"], httpserver.url_for("/api/v3")),
        credentials=kwargs.pop("credentials", {"client_id": "c", "client_secret": "s", "refresh_token": "r",
                                               "access_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )  # fmt: skip


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["reddit-ads"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in REDDIT_CASES}
    assert RAW["reddit-ads"]["definition_id"] == "c876992b-877e-4bb3-946b-4678c82bb7ac"
    reference = reference_operations("reddit-ads")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "kind"),
    REDDIT_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in REDDIT_CASES],
)
def test_reddit_operation(httpserver, vendor, entity, action, params, method, path, query, kind) -> None:
    origin = httpserver.url_for("").rstrip("/")
    if kind == LIST:
        nxt = f"{origin}{path}?page.size=50&page.token=tok2"
        vendor.answer({"data": [{"id": "1"}, {"id": "2"}], "pagination": {"next_url": nxt}})
    else:
        vendor.answer({"data": {"id": "1", "name": "x"}})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert dict(parse_qsl(request.query_string.decode())) == query
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert not vendor.bodies[-1]
    if kind == LIST:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert result.has_next_page is True
        assert result.end_cursor == f"{path}?page.size=50&page.token=tok2"
    else:
        assert result.result == {"id": "1", "name": "x"}
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_the_next_page_follows_next_url_on_the_same_host(httpserver, vendor) -> None:
    origin = httpserver.url_for("").rstrip("/")
    path = "/api/v3/ad_accounts/a2_5x9k/campaigns"
    vendor.answer({"data": [{"id": "1"}], "pagination": {"next_url": f"{origin}{path}?page.token=tok2"}})
    vendor.answer({"data": [{"id": "2"}], "pagination": {"next_url": None}})
    first = _run(httpserver, "campaigns", "list", ACCT)
    last = _run(httpserver, "campaigns", "list", {**ACCT, "cursor": first.end_cursor})
    assert vendor.requests[1].path == path
    assert dict(parse_qsl(vendor.requests[1].query_string.decode())) == {"page.token": "tok2"}
    assert vendor.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert [r["id"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_next_url_on_another_host_is_no_next_page(httpserver, vendor) -> None:
    vendor.answer({"data": [{"id": "1"}], "pagination": {"next_url": "https://evil.example/api/v3/ads?page.token=x"}})
    result = _run(httpserver, "ads", "list", ACCT)
    assert (result.has_next_page, result.end_cursor) == (False, None)
    with pytest.raises(OperationInputError):
        _run(httpserver, "ads", "list", {**ACCT, "cursor": "https://evil.example/api/v3/ads"})


def test_oauth_is_reddits_and_airbytes_marker_is_accepted(manifests) -> None:
    reddit = manifests["reddit-ads"]
    assert [s.key for s in reddit.auth_schemes] == ["oauth2"]
    creds = {"auth_type": "OwnApp", "client_id": "c", "client_secret": "s", "refresh_token": "r"}
    scheme, stored = validate_credentials(reddit, creds)
    assert (scheme.key, stored) == ("oauth2", creds)
    spec = reddit.scheme("oauth2").oauth
    assert spec.token_url == "https://www.reddit.com/api/v1/access_token"
    assert spec.authorization_url == "https://www.reddit.com/api/v1/authorize"
    assert spec.client_auth == "basic" and "adsread" in spec.scopes
    assert spec.authorize_params == {"duration": "permanent"}
    with pytest.raises(InvalidInput):
        validate_credentials(reddit, {"client_id": "c", "client_secret": "s"})


def test_a_rejected_token_and_a_429_with_reddits_reset_header(httpserver, vendor) -> None:
    vendor.answer({"error": {"message": "Unauthorized"}}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "businesses", "list", {})
    assert caught.value.code == "credentials_rejected"
    waits: list[float] = []
    vendor.answer({"error": {"message": "Too many requests"}}, status=429, headers={"X-Ratelimit-Reset": "2"})
    vendor.answer({"data": []})
    result = _run(httpserver, "businesses", "list", {}, limits=Limits(max_attempts=2, max_retry_seconds=30),
                  sleep=waits.append)  # fmt: skip
    assert result.result == []
    assert len(waits) == 1 and 0 < waits[0] <= 3

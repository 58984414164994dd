"""Every Pinterest operation against a loopback stand-in that answers as Pinterest's API v5 reference
(developers.pinterest.com/docs/api/v5) documents.

Each case is written from Pinterest's reference, not from the manifest: the request the operation must send (method,
path under /v5, query with array params repeated, the OAuth access token as a bearer header) and what comes back:
{"items": [...], "bookmark": "..."} (bookmark null on the last page), or one object; conversion tags are one JSON
array.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

SLUG = "pinterest"
TOKEN = "pina_depth4242"
CREDS = {"client_id": "1484362", "client_secret": "sec", "refresh_token": "pinr_x", "access_token": TOKEN}
LIMITS = Limits(max_attempts=1)
LIST, ONE, ARRAY = "list", "one", "array"
ACC = {"ad_account_id": "549755885175"}
A = "/v5/ad_accounts/549755885175"

# (entity, action, params, method, path, expected query (values as lists), answer kind)
PIN_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, list[str]], str]] = [
    ("ad_accounts", "get", ACC, "GET", A, {}, ONE),
    ("ad_accounts", "list", {"page_size": 50, "include_shared_accounts": False}, "GET", "/v5/ad_accounts",
     {"page_size": ["50"], "include_shared_accounts": ["false"]}, LIST),
    ("ad_groups", "list", {**ACC, "campaign_ids": ["626736533506", "626736533507"], "entity_statuses": ["ACTIVE"],
                           "translate_interests_to_names": True},
     "GET", f"{A}/ad_groups", {"campaign_ids": ["626736533506", "626736533507"], "entity_statuses": ["ACTIVE"],
                               "translate_interests_to_names": ["true"]}, LIST),
    ("ads", "list", {**ACC, "ad_group_ids": ["2680060704746"], "order": "DESCENDING"}, "GET", f"{A}/ads",
     {"ad_group_ids": ["2680060704746"], "order": ["DESCENDING"]}, LIST),
    ("audiences", "list", {**ACC, "ownership_type": "OWNED", "page_size": 100}, "GET", f"{A}/audiences",
     {"ownership_type": ["OWNED"], "page_size": ["100"]}, LIST),
    ("board_pins", "list", {"board_id": "549755885175", "pin_metrics": True, "creative_types": ["REGULAR", "VIDEO"]},
     "GET", "/v5/boards/549755885175/pins", {"pin_metrics": ["true"], "creative_types": ["REGULAR", "VIDEO"]}, LIST),
    ("board_sections", "list", {"board_id": "549755885175"}, "GET", "/v5/boards/549755885175/sections", {}, LIST),
    ("boards", "get", {"board_id": "549755885175", "ad_account_id": "12"}, "GET", "/v5/boards/549755885175",
     {"ad_account_id": ["12"]}, ONE),
    ("boards", "list", {"privacy": "PUBLIC_AND_SECRET"}, "GET", "/v5/boards", {"privacy": ["PUBLIC_AND_SECRET"]}, LIST),
    ("campaigns", "list", {**ACC, "entity_statuses": ["ACTIVE", "PAUSED"], "page_size": 25}, "GET", f"{A}/campaigns",
     {"entity_statuses": ["ACTIVE", "PAUSED"], "page_size": ["25"]}, LIST),
    ("catalogs", "list", {}, "GET", "/v5/catalogs", {}, LIST),
    ("catalogs_feeds", "list", {"catalog_id": "2680059592705"}, "GET", "/v5/catalogs/feeds",
     {"catalog_id": ["2680059592705"]}, LIST),
    ("catalogs_product_groups", "list", {"feed_id": "2680059592705"}, "GET", "/v5/catalogs/product_groups",
     {"feed_id": ["2680059592705"]}, LIST),
    ("conversion_tags", "list", {**ACC, "filter_deleted": True}, "GET", f"{A}/conversion_tags",
     {"filter_deleted": ["true"]}, ARRAY),
    ("customer_lists", "list", {**ACC, "order": "ASCENDING"}, "GET", f"{A}/customer_lists", {"order": ["ASCENDING"]},
     LIST),
    ("keywords", "list", {**ACC, "ad_group_id": "2680060704746", "match_types": ["BROAD", "EXACT"]}, "GET",
     f"{A}/keywords", {"ad_group_id": ["2680060704746"], "match_types": ["BROAD", "EXACT"]}, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("/v5")),
        credentials=kwargs.pop("credentials", CREDS),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _query(request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in PIN_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "5cb7e5fe-38c2-11ec-8d3d-0242ac130003"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "kind"),
    PIN_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in PIN_CASES],
)
def test_pinterest_operation(httpserver, vendor, entity, action, params, method, path, query, kind) -> None:
    one = {"id": "549755885175", "name": "Recipes"}
    if kind == LIST:
        vendor.answer({"items": [{"id": "1"}, {"id": "2"}], "bookmark": "Y2JVSG81"})
    elif kind == ARRAY:
        vendor.answer([{"id": "1"}, {"id": "2"}])
    else:
        vendor.answer(one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert _query(request) == query
    assert not vendor.bodies[-1]
    if kind == LIST:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert (result.has_next_page, result.end_cursor) == (True, "Y2JVSG81")
    elif kind == ARRAY:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert result.has_next_page is False
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("campaigns", "list", {**ACC, "page_size": 2}, f"{A}/campaigns"),
        ("boards", "list", {}, "/v5/boards"),
        ("catalogs_feeds", "list", {"catalog_id": "7"}, "/v5/catalogs/feeds"),
    ],
)
def test_next_page_sends_the_bookmark_and_a_null_bookmark_ends(httpserver, vendor, entity, action, params, path):
    vendor.answer({"items": [{"id": "1"}], "bookmark": "Y2JVSG81"})
    vendor.answer({"items": [{"id": "2"}], "bookmark": None})
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    sent = {k: [str(v)] for k, v in params.items() if k != "ad_account_id"}
    assert _query(vendor.requests[0]) == sent
    assert (vendor.requests[1].path, _query(vendor.requests[1])) == (path, {**sent, "bookmark": ["Y2JVSG81"]})
    assert [r["id"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize(
    "credentials",
    [
        CREDS,
        {**CREDS, "auth_method": "oauth2.0"},  # Airbyte's replication shape
        {**CREDS, "auth_type": "oauth2.0"},
    ],
)
def test_oauth_credentials_in_both_shapes_are_stored_as_ours(manifests, credentials) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], credentials)
    assert scheme.key == "oauth"
    assert stored == {"auth_method": "oauth2.0", **CREDS}


def test_oauth_uses_pinterests_endpoints_and_basic_client_auth(manifests) -> None:
    oauth = manifests[SLUG].find_scheme("oauth").oauth
    assert oauth.authorization_url == "https://www.pinterest.com/oauth/"
    assert oauth.token_url == "https://api.pinterest.com/v5/oauth/token"
    assert oauth.client_auth == "basic" and oauth.scope_separator == ","
    assert {"ads:read", "boards:read", "pins:read", "catalogs:read", "user_accounts:read"} <= set(oauth.scopes)


def test_param_bounds_are_pinterests(manifests) -> None:
    pin = manifests[SLUG]
    assert not validate_params(pin, "ad_accounts", "list", {"page_size": 250})
    assert validate_params(pin, "ad_accounts", "list", {"page_size": 251})
    assert validate_params(pin, "ad_accounts", "get", {"ad_account_id": "abc"})
    assert validate_params(pin, "campaigns", "list", {**ACC, "entity_statuses": ["RUNNING"]})
    assert validate_params(pin, "boards", "list", {"privacy": "private"})


def test_errors_and_the_rate_limit_reset(httpserver, vendor) -> None:
    vendor.answer({"code": 2, "message": "Authentication failed."}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "ad_accounts", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert "Authentication failed." in str(caught.value)
    waits: list[float] = []
    vendor.answer({"code": 8, "message": "Rate limit exceeded."}, status=429, headers={"X-RateLimit-Reset": "2"})
    vendor.answer({"items": [], "bookmark": None})
    started = time.monotonic()
    result = _run(httpserver, "ad_accounts", "list", {}, limits=Limits(max_attempts=2, max_retry_seconds=30),
                  sleep=waits.append)  # fmt: skip
    assert result.result == [] and time.monotonic() - started < 5
    assert len(waits) == 1 and 0 < waits[0] <= 2.5

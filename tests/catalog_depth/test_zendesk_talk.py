"""Every Zendesk Talk operation against a loopback stand-in that answers as Zendesk's Talk API reference (REST API
v2, developer.zendesk.com/api-reference/voice/talk-api) documents.

Each case is written from Zendesk's reference, not from the manifest: the request (method, path, query, the
API-token form of Basic auth) and what comes back: a list under the resource's plural key with cursor pagination
(`page[size]` in, `meta.after_cursor` / `meta.has_more` out), offset pages (`next_page` URL), an incremental export
(`start_time` in; `end_time`, `count` and an always-present `next_page` out), or one object under the singular key.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connectors.catalog.manifest import Pagination
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.pagination import page_info
from connectors.validation import validate_credentials
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "zendesk-talk"
EMAIL, TOKEN = "agent@example.com", "zt_depth_4242"
BASIC = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
LIMITS = Limits(max_attempts=1)
CURSOR, PAGES, EXPORT, ONE = "cursor", "pages", "export", "one"
V = "/api/v2/channels/voice"
P100 = {"page[size]": "100"}

# (entity, action, params, method, path, expected query, response key, kind)
TALK_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str, str]] = [
    ("account_overview", "list", {"phone_number_ids": [1, 2]}, "GET", f"{V}/stats/account_overview",
     {"phone_number_ids": "1,2"}, "account_overview", ONE),
    ("addresses", "get", {"address_id": 3}, "GET", f"{V}/addresses/3", {}, "address", ONE),
    ("addresses", "list", {}, "GET", f"{V}/addresses", P100, "addresses", CURSOR),
    ("agents_activity", "list", {"group_ids": [7]}, "GET", f"{V}/stats/agents_activity.json", {"group_ids": "7"},
     "agents_activity", PAGES),
    ("agents_overview", "list", {}, "GET", f"{V}/stats/agents_overview", {}, "agents_overview", ONE),
    ("call_legs", "list", {"start_time": 1547635159}, "GET", f"{V}/stats/incremental/legs",
     {"start_time": "1547635159"}, "legs", EXPORT),
    ("calls", "list", {"start_time": 1547635159}, "GET", f"{V}/stats/incremental/calls",
     {"start_time": "1547635159"}, "calls", EXPORT),
    ("current_queue_activity", "list", {"phone_number_ids": [4]}, "GET", f"{V}/stats/current_queue_activity",
     {"phone_number_ids": "4"}, "current_queue_activity", ONE),
    ("greeting_categories", "get", {"greeting_category_id": 1}, "GET", f"{V}/greeting_categories/1", {},
     "greeting_category", ONE),
    ("greeting_categories", "list", {}, "GET", f"{V}/greeting_categories.json", {}, "greeting_categories", PAGES),
    ("greetings", "get", {"greeting_id": 123}, "GET", f"{V}/greetings/123", {}, "greeting", ONE),
    ("greetings", "list", {"page[size]": 20}, "GET", f"{V}/greetings", {"page[size]": "20"}, "greetings", CURSOR),
    ("ivrs", "get", {"ivr_id": 5}, "GET", f"{V}/ivr/5", {}, "ivr", ONE),
    ("ivrs", "list", {}, "GET", f"{V}/ivr.json", {}, "ivrs", PAGES),
    ("phone_numbers", "get", {"phone_number_id": 6}, "GET", f"{V}/phone_numbers/6", {}, "phone_number", ONE),
    ("phone_numbers", "list", {"minimal_mode": True}, "GET", f"{V}/phone_numbers",
     {**P100, "minimal_mode": "true"}, "phone_numbers", CURSOR),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"email": EMAIL, "api_token": TOKEN}),
        config={"subdomain": "acme"},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _cursor_page(key: str, ids: list[int], after: str | None) -> dict[str, Any]:
    return {
        key: [{"id": i} for i in ids],
        "meta": {"has_more": after is not None, "after_cursor": after, "before_cursor": "c0"},
        "links": {"prev": None, "next": None},
    }


def _offset_page(httpserver, path: str, key: str, ids: list[int], page: int | None) -> dict[str, Any]:
    origin = httpserver.url_for("").rstrip("/")
    return {
        key: [{"id": i} for i in ids],
        "next_page": f"{origin}{path}?page={page}" if page else None,
        "previous_page": None,
        "count": 250,
    }


def _export(key: str, ids: list[int], end_time: int) -> dict[str, Any]:
    """An incremental export page: next_page is never null; its start_time is this page's end_time."""
    return {
        key: [{"id": i, "updated_at": "2019-01-16T10:00:00Z"} for i in ids],
        "count": len(ids),
        "end_time": end_time,
        "next_page": f"https://acme.zendesk.com{V}/stats/incremental/calls.json?start_time={end_time}",
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in TALK_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "c8630570-086d-4a40-99ae-ea5b18673071"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
        assert ours == reference


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "key", "kind"),
    TALK_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in TALK_CASES],
)
def test_talk_operation(httpserver, vendor, entity, action, params, method, path, query, key, kind) -> None:
    one = {"id": 1, "name": "Main line"}
    if kind == CURSOR:
        vendor.answer(_cursor_page(key, [1, 2], "c2"))
    elif kind == PAGES:
        vendor.answer(_offset_page(httpserver, path, key, [1, 2], 2))
    elif kind == EXPORT:
        vendor.answer(_export(key, list(range(1, 101)), 1547639999))
    else:
        vendor.answer({key: one})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == BASIC
    assert query_of(request) == query
    assert not vendor.bodies[-1]
    raw = request.query_string.decode()
    assert TOKEN not in raw and EMAIL not in raw  # the credential goes only in the Authorization header
    if kind == CURSOR:
        assert [r["id"] for r in result.result] == [1, 2]
        assert (result.has_next_page, result.end_cursor) == (True, "c2")
    elif kind == PAGES:
        assert [r["id"] for r in result.result] == [1, 2]
        assert (result.has_next_page, result.end_cursor) == (True, f"{path}?page=2")
    elif kind == EXPORT:
        assert len(result.result) == 100
        assert (result.has_next_page, result.end_cursor) == (True, "1547639999")
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("entity", "key"), [("phone_numbers", "phone_numbers"), ("addresses", "addresses")])
def test_next_page_sends_page_after(httpserver, vendor, entity, key) -> None:
    vendor.answer(_cursor_page(key, [1, 2], "c2"))
    vendor.answer(_cursor_page(key, [3], None))
    first = _run(httpserver, entity, "list", {})
    last = _run(httpserver, entity, "list", {"cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {**query_of(vendor.requests[0]), "page[after]": "c2"}
    assert [r["id"] for r in last.result] == [3]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_offset_pages_follow_next_page_on_the_same_host(httpserver, vendor) -> None:
    path = f"{V}/stats/agents_activity.json"
    vendor.answer(_offset_page(httpserver, path, "agents_activity", [1, 2], 2))
    vendor.answer(_offset_page(httpserver, path, "agents_activity", [3], None))
    first = _run(httpserver, "agents_activity", "list", {"group_ids": [7]})
    last = _run(httpserver, "agents_activity", "list", {"cursor": first.end_cursor})
    assert (vendor.requests[1].path, query_of(vendor.requests[1])) == (path, {"page": "2"})
    assert vendor.requests[1].headers["Authorization"] == BASIC
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_an_offset_next_page_on_another_host_is_not_followed(httpserver, vendor) -> None:
    vendor.answer({"ivrs": [{"id": 1}], "next_page": "https://evil.example/api/v2/channels/voice/ivr.json?page=2"})
    result = _run(httpserver, "ivrs", "list", {})
    assert (result.has_next_page, result.end_cursor) == (False, None)


@pytest.mark.parametrize(("entity", "key", "path"), [("calls", "calls", "calls"), ("call_legs", "legs", "legs")])
def test_incremental_export_pages_by_end_time_and_stops_when_caught_up(httpserver, vendor, entity, key, path) -> None:
    """Zendesk always returns a next_page here; `count` says whether more is there now (a short page: caught up)."""
    vendor.answer(_export(key, list(range(1000)), 1547639999))
    vendor.answer(_export(key, [1000, 1001], 1547640500))
    first = _run(httpserver, entity, "list", {"start_time": 1547635159})
    last = _run(httpserver, entity, "list", {"start_time": 1547635159, "cursor": first.end_cursor})
    assert (first.has_next_page, first.end_cursor) == (True, "1547639999")
    assert vendor.requests[1].path == f"{V}/stats/incremental/{path}"
    assert query_of(vendor.requests[1]) == {"start_time": "1547639999"}  # the previous page's end_time
    assert [r["id"] for r in last.result] == [1000, 1001]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_an_incremental_export_needs_a_start_time(manifests) -> None:
    errors = validate_params(manifests[SLUG], "calls", "list", {})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.start_time", "required")]


@pytest.mark.parametrize(
    ("count", "full_page", "expected"),
    [(99, 100, (False, None)), (100, 100, (True, "9")), (0, 100, (False, None)), (0, None, (True, "9"))],
)
def test_full_page_ends_exports_that_always_give_a_next_cursor(count, full_page, expected) -> None:
    pagination = Pagination(type="cursor", cursor_param="start_time", next_cursor="end_time", full_page=full_page)
    records = [{"id": i} for i in range(count)]
    info = page_info(
        pagination,
        body={"calls": records, "end_time": 9},
        headers={},
        records=records,
        request_query={},
        default_limit=None,
        origin="https://acme.zendesk.com",
        required_prefix="/x",
        drop_query_names=set(),
        secrets=[],
    )
    assert (info.has_next_page, info.end_cursor) == expected


def test_page_sizes_are_zendesks_bounds(manifests) -> None:
    talk = manifests[SLUG]
    assert validate_params(talk, "phone_numbers", "list", {"page[size]": 101})
    assert not validate_params(talk, "phone_numbers", "list", {"page[size]": 100})
    assert validate_params(talk, "account_overview", "list", {"phone_number_ids": list(range(1, 102))})


# --- Auth -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        (
            {"email": EMAIL, "api_token": TOKEN},
            "api_token",
            {"auth_type": "api_token", "email": EMAIL, "api_token": TOKEN},
        ),
        (
            {"auth_type": "api_token", "email": EMAIL, "api_token": TOKEN},
            "api_token",
            {"auth_type": "api_token", "email": EMAIL, "api_token": TOKEN},
        ),
        (
            {"auth_type": "oauth2_refresh", "access_token": "zt_oauth", "refresh_token": "zt_refresh"},
            "oauth",
            {"auth_type": "oauth2_refresh", "access_token": "zt_oauth", "refresh_token": "zt_refresh"},
        ),
        ({"access_token": "zt_oauth"}, "oauth", {"auth_type": "oauth2_refresh", "access_token": "zt_oauth"}),
    ],
)
def test_airbyte_credential_shapes_are_accepted(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests[SLUG], credentials)
    assert chosen.key == scheme
    assert normalised == stored


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer(_cursor_page("phone_numbers", [1], None))
    _run(httpserver, "phone_numbers", "list", {}, credentials={"access_token": "zt_oauth"})
    assert vendor.last.headers["Authorization"] == "Bearer zt_oauth"


def test_oauth_urls_are_on_the_accounts_subdomain(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert oauth.authorization_url == "https://{config.subdomain}.zendesk.com/oauth/authorizations/new"
    assert oauth.token_url == "https://{config.subdomain}.zendesk.com/oauth/tokens"
    assert RAW[SLUG]["base_url"] == "https://{config.subdomain}.zendesk.com"


def test_check_is_a_cheap_read(manifests) -> None:
    check = manifests[SLUG].check
    assert (check.entity, check.action, check.params) == ("phone_numbers", "list", {"page[size]": 1})

"""Every Klaviyo operation against a loopback stand-in that answers as Klaviyo's API reference
(developers.klaviyo.com/en/reference) documents.

Each case is written from Klaviyo's reference, not from the manifest: the request (method, path under /api, the
query with JSON:API's bracketed names, the `revision` header, `Authorization: Klaviyo-API-Key <key>`) and the answer:
a JSON:API document with `data`, lists paging by `page[cursor]` with the next page's whole URL in `links.next`.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

KEY = "pk_depth_4242_secret"
REVISION = "2026-10-15"
LIMITS = Limits(max_attempts=1)
CURSOR = "bmV4dDo6aWQ6OjQzODA5MjU"
LIST, ONE, ONE_IN_LIST = "list", "one", "one_in_list"
EMAIL_CHANNEL = "equals(messages.channel,'email')"
PROFILE = {"type": "profile", "attributes": {"email": "ada@example.com", "first_name": "Ada"}}

# (entity, action, params, method, path, expected query (GET) or exact JSON body, answer kind)
KLAVIYO_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("accounts", "list", {"fields[account]": "contact_information"}, "GET", "/api/accounts",
     {"fields[account]": "contact_information"}, ONE_IN_LIST),
    ("campaigns", "get", {"id": "01CMP", "include": "campaign-messages"}, "GET", "/api/campaigns/01CMP",
     {"include": "campaign-messages"}, ONE),
    ("campaigns", "list", {"sort": "-created_at"}, "GET", "/api/campaigns",
     {"filter": EMAIL_CHANNEL, "sort": "-created_at"}, LIST),
    ("email_templates", "get", {"id": "TPL1", "fields[template]": "name,html"}, "GET", "/api/templates/TPL1",
     {"fields[template]": "name,html"}, ONE),
    ("email_templates", "list", {"sort": "-updated"}, "GET", "/api/templates", {"sort": "-updated"}, LIST),
    ("events", "list",
     {"filter": "greater-than(datetime,2026-01-01T00:00:00Z)", "sort": "-datetime", "include": "metric,profile"},
     "GET", "/api/events",
     {"filter": "greater-than(datetime,2026-01-01T00:00:00Z)", "sort": "-datetime", "include": "metric,profile"},
     LIST),
    ("flows", "get", {"id": "FL1"}, "GET", "/api/flows/FL1", {}, ONE),
    ("flows", "list", {"filter": "equals(status,'live')", "page[size]": 25}, "GET", "/api/flows",
     {"filter": "equals(status,'live')", "page[size]": "25"}, LIST),
    ("lists", "get", {"id": "LST1", "additional-fields[list]": "profile_count"}, "GET", "/api/lists/LST1",
     {"additional-fields[list]": "profile_count"}, ONE),
    ("lists", "list", {"fields[list]": "name,created"}, "GET", "/api/lists", {"fields[list]": "name,created"}, LIST),
    ("metrics", "get", {"id": "MET1"}, "GET", "/api/metrics/MET1", {}, ONE),
    ("metrics", "list", {"filter": "equals(integration.name,'Shopify')"}, "GET", "/api/metrics",
     {"filter": "equals(integration.name,'Shopify')"}, LIST),
    ("profiles", "create", {"data": PROFILE}, "POST", "/api/profiles", {"data": PROFILE}, ONE),
    ("profiles", "get", {"id": "01PRF", "additional-fields[profile]": "subscriptions", "include": "lists"}, "GET",
     "/api/profiles/01PRF", {"additional-fields[profile]": "subscriptions", "include": "lists"}, ONE),
    ("profiles", "list", {"filter": 'equals(email,"ada@example.com")', "page[size]": 100}, "GET", "/api/profiles",
     {"filter": 'equals(email,"ada@example.com")', "page[size]": "100"}, LIST),
]  # fmt: skip
EXTRAS = {"accounts.list", "profiles.create"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["klaviyo"], httpserver.url_for("/api")),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(httpserver, path: str, ids: list[str], cursor: str | None, query: dict[str, str] | None = None):
    """A JSON:API page: links.next is the next page's URL with page[cursor] (null on the last page)."""
    nxt = None
    if cursor:
        nxt = httpserver.url_for(path) + "?" + urlencode({**(query or {}), "page[cursor]": cursor})
    return {
        "data": [{"type": "profile", "id": i, "attributes": {}} for i in ids],
        "links": {"self": httpserver.url_for(path), "next": nxt, "prev": None},
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["klaviyo"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in KLAVIYO_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "95e8cffd-b8c4-4039-968e-d32fb4a69bde"
    reference = reference_operations("klaviyo")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    KLAVIYO_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in KLAVIYO_CASES],
)
def test_klaviyo_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"type": "profile", "id": "obj_1", "attributes": {"email": "ada@example.com"}}
    answers = {
        LIST: _page(httpserver, path, ["obj_1", "obj_2"], CURSOR, expected),
        ONE: {"data": one, "links": {"self": "x"}},
        ONE_IN_LIST: {"data": [one], "links": {"self": "x", "next": None}},
    }
    vendor.answer(answers[kind], status=201 if method == "POST" else 200)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Klaviyo-API-Key {KEY}"
    assert request.headers["revision"] == REVISION
    assert request.headers["Accept"] == "application/vnd.api+json"
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"] == "application/vnd.api+json"
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    assert KEY not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == LIST:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert result.has_next_page is True
        assert result.end_cursor == path + "?" + urlencode({**expected, "page[cursor]": CURSOR})
    elif kind == ONE_IN_LIST:
        assert result.result == [one]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("profiles", "list", {"page[size]": 2}, "/api/profiles"),
        ("events", "list", {"sort": "-datetime"}, "/api/events"),
        ("campaigns", "list", {"filter": "equals(messages.channel,'sms')"}, "/api/campaigns"),
        ("flows", "list", {}, "/api/flows"),
        ("lists", "list", {}, "/api/lists"),
        ("metrics", "list", {}, "/api/metrics"),
        ("email_templates", "list", {}, "/api/templates"),
    ],
)
def test_next_page_requests_links_next_with_its_page_cursor(httpserver, vendor, entity, action, params, path):
    vendor.answer(_page(httpserver, path, ["a", "b"], CURSOR, {k: str(v) for k, v in params.items()}))
    vendor.answer(_page(httpserver, path, ["c"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    second = vendor.requests[1]
    assert second.path == path
    assert query_of(second)["page[cursor]"] == CURSOR
    assert {k: v for k, v in query_of(second).items() if k != "page[cursor]"} == query_of(vendor.requests[0])
    assert second.headers["Authorization"] == f"Klaviyo-API-Key {KEY}"
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # links.next: null


def test_a_next_link_on_another_host_is_not_followed(httpserver, vendor) -> None:
    vendor.answer({"data": [{"id": "a"}], "links": {"next": "https://evil.example/api/profiles?page%5Bcursor%5D=x"}})
    result = _run(httpserver, "profiles", "list", {})
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_a_cursor_outside_the_actions_path_is_refused(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError):
        _run(httpserver, "profiles", "list", {"cursor": "/api/accounts?x=1"})
    assert not vendor.requests


# --- Revision, params, errors ---------------------------------------------------------------------------------------


def test_every_call_names_the_revision(httpserver, vendor, manifests) -> None:
    vendor.answer({"data": []})
    _run(httpserver, "metrics", "list", {}, config={})
    assert vendor.last.headers["revision"] == REVISION
    assert manifests["klaviyo"].headers["revision"] == REVISION


def test_campaigns_send_the_channel_filter_klaviyo_requires_unless_given(httpserver, vendor) -> None:
    vendor.answer({"data": []})
    _run(httpserver, "campaigns", "list", {"filter": "equals(messages.channel,'sms')"})
    assert query_of(vendor.last) == {"filter": "equals(messages.channel,'sms')"}


def test_bounds_are_klaviyos(manifests) -> None:
    klaviyo = manifests["klaviyo"]
    assert validate_params(klaviyo, "profiles", "list", {"page[size]": 101})[0]["field"] == "params.page[size]"
    assert validate_params(klaviyo, "flows", "list", {"page[size]": 51})[0]["field"] == "params.page[size]"
    assert validate_params(klaviyo, "profiles", "list", {"sort": "name"})[0]["field"] == "params.sort"
    assert validate_params(klaviyo, "profiles", "create", {"data": {"type": "list", "attributes": {}}})


def test_klaviyos_json_api_errors_are_classified(httpserver, vendor) -> None:
    vendor.answer(
        {"errors": [{"status": 401, "code": "not_authenticated", "title": "x", "detail": "Missing or invalid key."}]},
        status=401,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "accounts", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert "Missing or invalid key." in caught.value.message


def test_a_throttled_answer_is_rate_limited_with_retry_after(httpserver, vendor) -> None:
    vendor.answer(
        {"errors": [{"status": 429, "code": "throttled", "detail": "Request was throttled."}]},
        status=429,
        headers={"Retry-After": "7"},
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "profiles", "list", {})
    assert (caught.value.code, caught.value.retry_after) == ("rate_limited", 7)


def test_rate_limit_remaining_is_read(httpserver, vendor) -> None:
    vendor.answer({"data": []}, headers={"RateLimit-Remaining": "74", "RateLimit-Limit": "75", "RateLimit-Reset": "3"})
    assert _run(httpserver, "metrics", "list", {}).rate_limit_remaining == 74


# --- Auth -----------------------------------------------------------------------------------------------------------


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"data": [{"type": "account", "id": "AbC123"}]})
    credentials = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "kl_oauth_1"}
    _run(httpserver, "accounts", "list", {}, credentials=credentials, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer kl_oauth_1"
    assert vendor.last.headers["revision"] == REVISION


def test_oauth_uses_klaviyos_endpoints_with_pkce_and_basic_client_auth(manifests) -> None:
    oauth = manifests["klaviyo"].scheme("oauth").oauth
    assert oauth.authorization_url == "https://www.klaviyo.com/oauth/authorize"
    assert oauth.token_url == "https://a.klaviyo.com/oauth/token"
    assert oauth.revoke_url == "https://a.klaviyo.com/oauth/revoke"
    assert (oauth.pkce, oauth.client_auth, oauth.token_body) == (True, "basic", "form")
    assert {"accounts:read", "profiles:read"} <= set(oauth.scopes)


@pytest.mark.parametrize(
    ("credentials", "scheme"),
    [
        ({"api_key": KEY}, "api_key"),  # Airbyte's agent connector and its replication shape: the same name
        ({"client_id": "c", "client_secret": "s", "refresh_token": "r"}, "oauth"),
    ],
)
def test_credential_shapes_choose_their_scheme(manifests, credentials, scheme) -> None:
    chosen, stored = validate_credentials(manifests["klaviyo"], credentials)
    assert (chosen.key, stored) == (scheme, credentials)


def test_an_empty_key_is_refused(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["klaviyo"], {"api_key": ""})
    assert [e.field for e in caught.value.errors] == ["credentials.api_key"]


# --- Engine: an action's own JSON media type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "sent"),
    [
        ("application/vnd.api+json", "application/vnd.api+json"),
        ("text/plain", "application/json"),  # not a JSON type: the body is still JSON, and says so
        (None, "application/json"),
    ],
)
def test_a_json_action_may_name_its_json_media_type(httpserver, vendor, declared, sent) -> None:
    data = copy.deepcopy(RAW["klaviyo"])
    create = data["entities"]["profiles"]["actions"]["create"]
    create["headers"] = {"Content-Type": declared} if declared else {}
    vendor.answer({"data": {"id": "p1"}}, status=201)
    execute_operation(
        manifest=point_at(data, httpserver.url_for("/api")),
        credentials={"api_key": KEY},
        config={},
        entity="profiles",
        action="create",
        params={"data": PROFILE},
        limits=LIMITS,
    )
    assert vendor.last.headers["Content-Type"] == sent
    assert json.loads(vendor.bodies[-1]) == {"data": PROFILE}

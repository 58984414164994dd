"""Every Zendesk Chat operation against a loopback stand-in that answers as Zendesk's Chat API reference
(developer.zendesk.com/api-reference/live-chat/chat-api) documents.

Each case is written from Zendesk's reference, not from the manifest: the request (method, path, query, the OAuth
bearer token; the Chat API takes no Basic auth) and what comes back: a bare JSON array for most lists (agents page
on `since_id`), an incremental export (`chats` / `agent_timeline` with `count`, `end_time` and a `next_page` link),
or one bare object.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "zendesk-chat"
TOKEN = "zc_depth_4242"
LIMITS = Limits(max_attempts=1)
ARRAY, SINCE, EXPORT, OBJECT = "array", "since", "export", "object"
C = "/api/v2/chat"

# (entity, action, params, method, path, expected query, records key of an export, kind)
CHAT_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str | None, str]] = [
    ("accounts", "get", {}, "GET", f"{C}/account", {}, None, OBJECT),
    ("agent_timeline", "list", {"start_time": 1546326000000000, "limit": 2}, "GET", f"{C}/incremental/agent_timeline",
     {"start_time": "1546326000000000", "limit": "2"}, "agent_timeline", EXPORT),
    ("agents", "get", {"agent_id": 7}, "GET", f"{C}/agents/7", {}, None, OBJECT),
    ("agents", "list", {"limit": 2}, "GET", f"{C}/agents", {"limit": "2"}, None, SINCE),
    ("bans", "get", {"ban_id": 3}, "GET", f"{C}/bans/3", {}, None, OBJECT),
    ("bans", "list", {"limit": 10}, "GET", f"{C}/bans", {"limit": "10"}, None, OBJECT),
    ("chats", "get", {"chat_id": "1707.13023.QaOc"}, "GET", f"{C}/chats/1707.13023.QaOc", {}, None, OBJECT),
    ("chats", "list", {"start_time": 1546326000, "limit": 2, "fields": "chats(*)"}, "GET", f"{C}/incremental/chats",
     {"start_time": "1546326000", "limit": "2", "fields": "chats(*)"}, "chats", EXPORT),
    ("departments", "get", {"department_id": 4}, "GET", f"{C}/departments/4", {}, None, OBJECT),
    ("departments", "list", {}, "GET", f"{C}/departments", {}, None, ARRAY),
    ("goals", "get", {"goal_id": 5}, "GET", f"{C}/goals/5", {}, None, OBJECT),
    ("goals", "list", {}, "GET", f"{C}/goals", {}, None, ARRAY),
    ("roles", "get", {"role_id": 6}, "GET", f"{C}/roles/6", {}, None, OBJECT),
    ("roles", "list", {}, "GET", f"{C}/roles", {}, None, ARRAY),
    ("routing_settings", "get", {}, "GET", f"{C}/routing_settings/account", {}, "data", OBJECT),
    ("shortcuts", "get", {"shortcut_name": "greet"}, "GET", f"{C}/shortcuts/greet", {}, None, OBJECT),
    ("shortcuts", "list", {}, "GET", f"{C}/shortcuts", {}, None, ARRAY),
    ("skills", "get", {"skill_id": 8}, "GET", f"{C}/skills/8", {}, None, OBJECT),
    ("skills", "list", {}, "GET", f"{C}/skills", {}, None, ARRAY),
    ("triggers", "list", {}, "GET", f"{C}/triggers", {}, None, ARRAY),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"access_token": TOKEN}),
        config={"subdomain": "acme"},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _export(httpserver, path: str, key: str, ids: list[int], next_query: str) -> dict[str, Any]:
    origin = httpserver.url_for("").rstrip("/")
    return {
        key: [{"id": i} for i in ids],
        "count": len(ids),
        "end_id": str(ids[-1]) if ids else None,
        "end_time": 1546329600,
        "next_page": f"{origin}{path}?{next_query}",
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in CHAT_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "40d24d0f-b8f9-4fe0-9e6c-b06c0f3f45e4"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert ours == reference


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "key", "kind"),
    CHAT_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in CHAT_CASES],
)
def test_chat_operation(httpserver, vendor, entity, action, params, method, path, query, key, kind) -> None:
    one = {"id": 1, "name": "Sales"}
    if kind == EXPORT:
        vendor.answer(_export(httpserver, path, key, [1, 2], "start_time=1546329600&start_id=2&limit=2"))
    elif kind in (ARRAY, SINCE):
        vendor.answer([{"id": 1}, {"id": 2}])
    else:
        vendor.answer({key: one} if key else one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert query_of(request) == query
    assert not vendor.bodies[-1]
    assert TOKEN not in request.query_string.decode()
    if kind == OBJECT:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == [1, 2]
    if kind == ARRAY:
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == SINCE:
        assert (result.has_next_page, result.end_cursor) == (True, "2")  # a full page: go on after the last id
    elif kind == EXPORT:
        assert result.has_next_page
        assert result.end_cursor == f"{path}?start_time=1546329600&start_id=2&limit=2"


# --- Pagination -------------------------------------------------------------------------------------------------


def test_agents_page_on_since_id_until_a_short_page(httpserver, vendor) -> None:
    vendor.answer([{"id": i} for i in range(1, 101)])
    vendor.answer([{"id": 101}])
    first = _run(httpserver, "agents", "list", {})
    last = _run(httpserver, "agents", "list", {"cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == {"limit": "100"}
    assert query_of(vendor.requests[1]) == {"limit": "100", "since_id": "100"}
    assert (first.has_next_page, first.end_cursor) == (True, "100")
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize(("entity", "key"), [("chats", "chats"), ("agent_timeline", "agent_timeline")])
def test_exports_follow_next_page_and_stop_when_caught_up(httpserver, vendor, entity, key) -> None:
    """Zendesk always links a next page here; a page shorter than the limit means there is nothing more yet."""
    path = f"{C}/incremental/{entity}"
    vendor.answer(_export(httpserver, path, key, list(range(1000)), "start_time=1546329600&start_id=999"))
    vendor.answer(_export(httpserver, path, key, [1000], "start_time=1546329700&start_id=1000"))
    first = _run(httpserver, entity, "list", {"start_time": 1546326000})
    last = _run(httpserver, entity, "list", {"cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == {"start_time": "1546326000", "limit": "1000"}
    assert vendor.requests[1].path == path
    assert query_of(vendor.requests[1]) == {"start_time": "1546329600", "start_id": "999"}
    assert vendor.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert [r["id"] for r in last.result] == [1000]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_an_export_next_page_on_another_host_is_not_followed(httpserver, vendor) -> None:
    vendor.answer({"chats": [{"id": 1}], "count": 1, "next_page": "https://evil.example/api/v2/chat/incremental/chats"})
    result = _run(httpserver, "chats", "list", {"limit": 1})
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_limits_are_zendesks_bounds(manifests) -> None:
    chat = manifests[SLUG]
    assert validate_params(chat, "chats", "list", {"limit": 1001})
    assert validate_params(chat, "agents", "list", {"limit": 101})
    assert not validate_params(chat, "chats", "list", {"limit": 1000})


def test_shortcuts_take_airbytes_shortcut_id_for_the_name(httpserver, vendor) -> None:
    vendor.answer({"name": "greet"})
    _run(httpserver, "shortcuts", "get", {"shortcut_id": "greet"})
    assert vendor.last.path == f"{C}/shortcuts/greet"


# --- Auth -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"access_token": TOKEN}, "access_token", {"credentials": "access_token", "access_token": TOKEN}),
        (
            {"credentials": "access_token", "access_token": TOKEN},
            "access_token",
            {"credentials": "access_token", "access_token": TOKEN},
        ),
        (
            {"credentials": "oauth2.0", "access_token": TOKEN, "refresh_token": "zc_refresh"},
            "oauth",
            {"credentials": "oauth2.0", "access_token": TOKEN, "refresh_token": "zc_refresh"},
        ),
    ],
)
def test_airbyte_credential_shapes_are_accepted(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests[SLUG], credentials)
    assert chosen.key == scheme
    assert normalised == stored


@pytest.mark.parametrize(
    "credentials",
    [{"access_token": "zc_plain"}, {"credentials": "oauth2.0", "access_token": "zc_plain", "client_id": "c"}],
)
def test_every_scheme_sends_a_bearer_token(httpserver, vendor, credentials) -> None:
    vendor.answer({"account_key": "k"})
    _run(httpserver, "accounts", "get", {}, credentials=credentials)
    assert vendor.last.headers["Authorization"] == "Bearer zc_plain"


def test_oauth_is_on_the_accounts_zendesk_domain(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert oauth.authorization_url == "https://{config.subdomain}.zendesk.com/oauth2/chat/authorizations/new"
    assert oauth.token_url == "https://{config.subdomain}.zendesk.com/oauth2/chat/token"

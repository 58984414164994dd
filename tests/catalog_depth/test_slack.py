"""Every Slack operation against a loopback stand-in that answers as Slack's Web API reference documents.

Each case is written from Slack's method reference, not from the manifest: the request the operation must send
(method, path, query for reads or JSON body for writes, the bearer token) and the shape of what comes back (a list of
records with `response_metadata.next_cursor` pagination, or one object). Slack answers errors with HTTP 200 and
`{"ok": false, "error": ...}`, which must still be an error.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "xoxb-depth-4242"
LIMITS = Limits(max_attempts=1)
TS = "1712345678.000100"

# How the answer carries the result: a list under a dotted path, one object under a key, or the whole body.
LIST, ONE, BODY = "list", "one", "body"

# (entity, action, params, method, path, expected query (GET) or JSON body (POST, exact), (answer kind, where))
SLACK_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], tuple[str, str | None]]] = [
    ("bookmarks", "create", {"channel_id": "C1", "title": "Runbook", "type": "link", "link": "https://x.test/rb"},
     "POST", "/bookmarks.add", {"channel_id": "C1", "title": "Runbook", "type": "link", "link": "https://x.test/rb"},
     (ONE, "bookmark")),
    ("channel_archives", "create", {"channel": "C1"}, "POST", "/conversations.archive", {"channel": "C1"},
     (BODY, None)),
    ("channel_invites", "create", {"channel": "C1", "users": "U1,U2", "force": True},
     "POST", "/conversations.invite", {"channel": "C1", "users": "U1,U2", "force": True}, (ONE, "channel")),
    ("channel_joins", "create", {"channel": "C1"}, "POST", "/conversations.join", {"channel": "C1"}, (ONE, "channel")),
    ("channel_kicks", "create", {"channel": "C1", "user": "U1"}, "POST", "/conversations.kick",
     {"channel": "C1", "user": "U1"}, (BODY, None)),
    ("channel_messages", "list", {"channel": "C1", "limit": 50, "oldest": "1700000000", "inclusive": True},
     "GET", "/conversations.history", {"channel": "C1", "limit": "50", "oldest": "1700000000", "inclusive": "true"},
     (LIST, "messages")),
    ("channel_purposes", "create", {"channel": "C1", "purpose": "Incidents"}, "POST", "/conversations.setPurpose",
     {"channel": "C1", "purpose": "Incidents"}, (BODY, None)),
    ("channel_topics", "create", {"channel": "C1", "topic": "On call: Ana"}, "POST", "/conversations.setTopic",
     {"channel": "C1", "topic": "On call: Ana"}, (ONE, "channel")),
    ("channels", "create", {"name": "ops-war-room", "is_private": True}, "POST", "/conversations.create",
     {"name": "ops-war-room", "is_private": True}, (ONE, "channel")),
    ("channels", "get", {"channel": "C1", "include_num_members": True}, "GET", "/conversations.info",
     {"channel": "C1", "include_num_members": "true"}, (ONE, "channel")),
    ("channels", "list", {"types": "public_channel,private_channel", "exclude_archived": True, "limit": 200},
     "GET", "/conversations.list",
     {"types": "public_channel,private_channel", "exclude_archived": "true", "limit": "200"}, (LIST, "channels")),
    ("channels", "members", {"channel": "C1", "limit": 10}, "GET", "/conversations.members",
     {"channel": "C1", "limit": "10"}, (LIST, "members")),
    ("channels", "update", {"channel": "C1", "name": "ops"}, "POST", "/conversations.rename",
     {"channel": "C1", "name": "ops"}, (ONE, "channel")),
    ("ephemeral_messages", "create", {"channel": "C1", "user": "U1", "text": "Only you"},
     "POST", "/chat.postEphemeral", {"channel": "C1", "user": "U1", "text": "Only you"}, (BODY, None)),
    ("messages", "create", {"channel": "C1", "text": "Hello", "thread_ts": TS}, "POST", "/chat.postMessage",
     {"channel": "C1", "text": "Hello", "thread_ts": TS}, (BODY, None)),
    ("messages", "delete", {"channel": "C1", "ts": TS}, "POST", "/chat.delete", {"channel": "C1", "ts": TS},
     (BODY, None)),
    ("messages", "search", {"query": "deploy in:#ops", "count": 5, "sort": "timestamp"}, "GET", "/search.messages",
     {"query": "deploy in:#ops", "count": "5", "sort": "timestamp", "cursor": "*"}, (LIST, "messages.matches")),
    ("messages", "update", {"channel": "C1", "ts": TS, "text": "Edited"}, "POST", "/chat.update",
     {"channel": "C1", "ts": TS, "text": "Edited"}, (BODY, None)),
    ("pins", "create", {"channel": "C1", "timestamp": TS}, "POST", "/pins.add", {"channel": "C1", "timestamp": TS},
     (BODY, None)),
    ("reactions", "create", {"channel": "C1", "name": "thumbsup", "timestamp": TS}, "POST", "/reactions.add",
     {"channel": "C1", "name": "thumbsup", "timestamp": TS}, (BODY, None)),
    ("reactions", "delete", {"channel": "C1", "name": "thumbsup", "timestamp": TS}, "POST", "/reactions.remove",
     {"channel": "C1", "name": "thumbsup", "timestamp": TS}, (BODY, None)),
    ("scheduled_messages", "create", {"channel": "C1", "post_at": 1893456000, "text": "Happy new year"},
     "POST", "/chat.scheduleMessage", {"channel": "C1", "post_at": 1893456000, "text": "Happy new year"},
     (BODY, None)),
    ("threads", "list", {"channel": "C1", "ts": TS, "limit": 20}, "GET", "/conversations.replies",
     {"channel": "C1", "ts": TS, "limit": "20"}, (LIST, "messages")),
    ("users", "get", {"user": "U1"}, "GET", "/users.info", {"user": "U1"}, (ONE, "user")),
    ("users", "list", {"limit": 100}, "GET", "/users.list", {"limit": "100"}, (LIST, "members")),
    ("users", "lookup_by_email", {"email": "ana@example.com"}, "GET", "/users.lookupByEmail",
     {"email": "ana@example.com"}, (ONE, "user")),
    ("users", "me", {}, "POST", "/auth.test", {}, (BODY, None)),
]  # fmt: skip
EXTRAS = {"users.me", "users.lookup_by_email", "channels.members", "messages.search"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["slack"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_token": TOKEN}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _nest(path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {head: _nest(rest, value) if rest else value}


def _page(path: str, ids: list[str], next_cursor: str) -> dict[str, Any]:
    """A Slack list answer: the records under `path`, the next cursor ("" on the last page) in response_metadata."""
    return {"ok": True, **_nest(path, [{"id": i} for i in ids]), "response_metadata": {"next_cursor": next_cursor}}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["slack"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SLACK_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["slack"]["version"] == "2.0.0"
    reference = reference_operations("slack")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "answer"),
    SLACK_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SLACK_CASES],
)
def test_slack_operation(httpserver, vendor, entity, action, params, method, path, expected, answer) -> None:
    kind, where = answer
    one = {"id": "obj_1", "name": "ops"}
    if kind == LIST:
        vendor.answer(_page(where, ["obj_1", "obj_2"], "cursor_2"))
    elif kind == ONE:
        vendor.answer({"ok": True, where: one, "warning": "superfluous_charset"})
    else:
        vendor.answer({"ok": True, "channel": "C1", "ts": TS})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    elif path == "/auth.test":
        assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert dict(parse_qsl(vendor.bodies[-1].decode())) == expected
    else:
        # Slack takes JSON bodies on writes when the token is in the Authorization header.
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert TOKEN not in raw  # the token goes only in the Authorization header
    if kind == LIST:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, "cursor_2")
    else:
        assert result.result == (one if kind == ONE else {"ok": True, "channel": "C1", "ts": TS})
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "records"),
    [
        ("channels", "list", {"limit": 2}, "channels"),
        ("channels", "members", {"channel": "C1"}, "members"),
        ("channel_messages", "list", {"channel": "C1", "oldest": "1700000000"}, "messages"),
        ("threads", "list", {"channel": "C1", "ts": TS}, "messages"),
        ("users", "list", {}, "members"),
    ],
)
def test_next_page_sends_the_cursor_in_the_query(httpserver, vendor, entity, action, params, records) -> None:
    vendor.answer(_page(records, ["a", "b"], "dGVhbTpDMDYx"))
    vendor.answer(_page(records, ["c"], ""))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert "cursor" not in before
    assert after == {**before, "cursor": "dGVhbTpDMDYx"}  # the same request, one page on
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # Slack's "" next_cursor is the end


def test_search_pages_with_cursor_marks(httpserver, vendor) -> None:
    """search.messages starts cursor-mark paging with cursor=* and goes on with response_metadata.next_cursor."""
    vendor.answer(_page("messages.matches", ["m1"], "bWFyazox"))
    vendor.answer(_page("messages.matches", ["m2"], ""))
    first = _run(httpserver, "messages", "search", {"query": "deploy"})
    last = _run(httpserver, "messages", "search", {"query": "deploy", "cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == {"query": "deploy", "cursor": "*"}
    assert query_of(vendor.requests[1]) == {"query": "deploy", "cursor": "bWFyazox"}
    assert [r["id"] for r in first.result] == ["m1"] and [r["id"] for r in last.result] == ["m2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_search_needs_a_query(manifests) -> None:
    errors = validate_params(manifests["slack"], "messages", "search", {})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.query", "required")]


# --- Errors: HTTP 200 with ok: false --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("channel_not_found", "not_found"),
        ("invalid_auth", "credentials_rejected"),
        ("not_allowed_token_type", "bad_request"),  # search.messages with a bot token
    ],
)
def test_ok_false_is_an_error(httpserver, vendor, error, code) -> None:
    vendor.answer({"ok": False, "error": error})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "messages", "search", {"query": "deploy"})
    assert caught.value.code == code
    assert error in str(caught.value)


# --- Aliases: our earlier names (conversations, messages.list, messages.replies) ----------------------------------


def test_aliases_resolve_to_airbytes_names(manifests) -> None:
    slack = manifests["slack"]
    assert "conversations" not in slack.operations()  # listed once, under Airbyte's name
    assert slack.aliases() == {
        "conversations.list": "channels.list",
        "conversations.get": "channels.get",
        "conversations.create": "channels.create",
        "conversations.update": "channels.update",
        "conversations.members": "channels.members",
        "messages.list": "channel_messages.list",
        "messages.replies": "threads.list",
    }
    assert slack.action("conversations", "members") is slack.action("channels", "members")
    assert slack.action("messages", "list") is slack.action("channel_messages", "list")
    assert slack.action("messages", "replies") is slack.action("threads", "list")


@pytest.mark.parametrize(
    ("alias", "canonical", "params"),
    [
        (("conversations", "list"), ("channels", "list"), {"limit": 1}),
        (("conversations", "get"), ("channels", "get"), {"channel": "C1"}),
        (("conversations", "create"), ("channels", "create"), {"name": "new-room"}),
        (("conversations", "members"), ("channels", "members"), {"channel": "C1"}),
        (("messages", "list"), ("channel_messages", "list"), {"channel": "C1", "limit": 5}),
        (("messages", "replies"), ("threads", "list"), {"channel": "C1", "ts": TS}),
    ],
)
def test_an_alias_sends_the_same_request(httpserver, vendor, alias, canonical, params) -> None:
    for _ in range(2):
        vendor.answer({"ok": True, "channel": {"id": "C1"}, "channels": [], "members": [], "messages": []})
    by_alias = _run(httpserver, *alias, params)
    by_name = _run(httpserver, *canonical, params)
    first, second = vendor.requests
    assert (first.method, first.path, first.query_string) == (second.method, second.path, second.query_string)
    assert vendor.bodies[0] == vendor.bodies[1]
    assert by_alias.result == by_name.result


# --- Credentials: Airbyte's bot_key and the option_title markers ---------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"bot_key": "xoxb-a"}, "api_token", {"option_title": "API Token Credentials", "api_token": "xoxb-a"}),
        (
            {"option_title": "API Token Credentials", "api_token": "xoxb-seed"},
            "api_token",
            {"option_title": "API Token Credentials", "api_token": "xoxb-seed"},
        ),
        (
            {"auth_type": "API Token Credentials", "bot_key": "xoxb-b"},
            "api_token",
            {"option_title": "API Token Credentials", "api_token": "xoxb-b"},
        ),
        ({"api_token": "xoxp-c"}, "api_token", {"option_title": "API Token Credentials", "api_token": "xoxp-c"}),
        (
            {"option_title": "Default OAuth2.0 authorization", "client_id": "1.2", "client_secret": "s",
             "access_token": "xoxb-o"},
            "oauth",
            {"option_title": "Default OAuth2.0 authorization", "client_id": "1.2", "client_secret": "s",
             "access_token": "xoxb-o"},
        ),
        (
            {"credentials_title": "Default OAuth2.0 authorization", "access_token": "xoxb-p"},
            "oauth",
            {"option_title": "Default OAuth2.0 authorization", "access_token": "xoxb-p"},
        ),
    ],
)  # fmt: skip
def test_airbyte_credential_shapes_are_stored_under_ours(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests["slack"], credentials)
    assert chosen.key == scheme
    assert normalised == stored


def test_bot_key_and_api_token_with_different_values_is_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["slack"], {"bot_key": "xoxb-a", "api_token": "xoxb-b"})
    assert {e.field for e in caught.value.errors} == {"credentials.bot_key", "credentials.api_token"}
    assert {e.error_code for e in caught.value.errors} == {"conflicting_fields"}


def test_a_bot_key_is_sent_as_the_bearer_token(httpserver, vendor, manifests) -> None:
    _scheme, stored = validate_credentials(manifests["slack"], {"bot_key": "xoxb-from-airbyte"})
    vendor.answer({"ok": True, "user_id": "U1", "team_id": "T1"})
    result = _run(httpserver, "users", "me", {}, credentials=stored)
    assert vendor.last.headers["Authorization"] == "Bearer xoxb-from-airbyte"
    assert result.result["user_id"] == "U1"


# --- Configuration: Airbyte's start_date, lookback_window, join_channels -------------------------------------------

AIRBYTE_CONFIG = {"start_date": "2017-01-25T00:00:00Z", "lookback_window": 7, "join_channels": False}


def test_airbytes_config_fields_are_accepted(manifests) -> None:
    assert validate_replication_config(manifests["slack"], AIRBYTE_CONFIG) == AIRBYTE_CONFIG
    assert validate_replication_config(manifests["slack"], {}) == {}
    properties = manifests["slack"].config_schema["properties"]
    for name in AIRBYTE_CONFIG:  # each says what Patchbay does with it
        assert "Patchbay" in properties[name]["description"], name


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"start_date": "25/01/2017"}, "replication_config.start_date"),
        ({"lookback_window": -1}, "replication_config.lookback_window"),
        ({"join_channels": "yes"}, "replication_config.join_channels"),
        ({"channel": "C1"}, "replication_config.channel"),
    ],
)
def test_bad_config_names_the_field(manifests, config, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_replication_config(manifests["slack"], config)
    assert [e.field for e in caught.value.errors] == [field]


def test_config_does_not_change_on_demand_reads(httpserver, vendor) -> None:
    """Patchbay joins no channel and adds no `oldest` by itself: the caller's request is sent as asked."""
    vendor.answer(_page("messages", ["m1"], ""))
    _run(httpserver, "channel_messages", "list", {"channel": "C1"}, config=AIRBYTE_CONFIG)
    (request,) = vendor.requests
    assert (request.path, query_of(request)) == ("/conversations.history", {"channel": "C1"})


# --- Through the API ------------------------------------------------------------------------------------------------

SLACK_ID = "c2281cee-86f9-4a86-bb48-d23286b4c7bd"
BASE = "/api/v1/integrations/connectors"


@pytest.mark.django_db
def test_airbytes_shapes_through_the_api_and_our_earlier_names(api, httpserver, settings) -> None:
    from connectors.models import Connector
    from connectors.selectors import connector_credentials

    settings.PATCHBAY_CATALOG_OVERRIDES = {"slack": {"base_url": httpserver.url_for("").rstrip("/")}}
    body = {
        "definition_id": SLACK_ID,
        "name": "Slack",
        "credentials": {"bot_key": TOKEN},
        "replication_config": AIRBYTE_CONFIG,
    }
    created = api.post(BASE, body)
    assert created.status_code == 201, created.json()
    stored = connector_credentials(Connector.objects.get(pk=created.json()["id"]))
    assert stored == {"option_title": "API Token Credentials", "api_token": TOKEN}
    httpserver.expect_request(
        "/conversations.history", method="GET", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json(_page("messages", ["m1"], ""))
    for entity in ("channel_messages", "messages"):  # Airbyte's name, and ours
        answer = api.post(
            f"{BASE}/{created.json()['id']}/execute", {"entity": entity, "action": "list", "params": {"channel": "C1"}}
        )
        assert answer.status_code == 200, answer.json()
        assert [m["id"] for m in answer.json()["result"]] == ["m1"]

"""Every Gong operation against a loopback stand-in that answers as Gong's API v2 reference (help.gong.io/apidocs)
documents.

Each case is written from Gong's reference, not from the manifest: the request (method, path, query or exact JSON
body; an access key and secret as HTTP Basic, or an OAuth token as a bearer token) and the answer, always
`{"requestId", "records": {"totalRecords", "currentPageSize", "currentPageNumber", "cursor"}, "<things>": [...]}`
for lists (the cursor goes back as `?cursor=` on GETs and as `"cursor"` in the body of POST reads) or
`{"requestId", "<thing>": {...}}` for one call or user. Gong serves media as short-lived URLs inside the extensive
call data, so both downloads ask `/v2/calls/extensive` for `exposedFields.media`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

ACCESS_KEY, ACCESS_SECRET = "GONGKEY4242", "gong_secret_depth_4242"
TOKEN = "gong_oauth_access_4242"
LIMITS = Limits(max_attempts=1)
NEXT = "eyJhbGciOiJIUzI1NiJ9.cursor"
LIST, ONE = "list", "one"
MEDIA = {"contentSelector": {"exposedFields": {"media": True}}}
STATS_FILTER = {"fromDate": "2026-01-01", "toDate": "2026-02-01", "userIds": ["234599484848423"]}

# (entity, action, params, method, path, expected query, expected JSON body (None: no body), records key, kind)
GONG_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str, str]] = [
    ("call_audio", "download", {"filter": {"callIds": ["7782342274025937895"]}}, "POST", "/v2/calls/extensive", {},
     {"filter": {"callIds": ["7782342274025937895"]}, **MEDIA}, "calls", ONE),
    ("call_transcripts", "list", {"filter": {"fromDateTime": "2026-01-01T00:00:00Z", "callIds": ["1", "2"]}}, "POST",
     "/v2/calls/transcript", {}, {"filter": {"fromDateTime": "2026-01-01T00:00:00Z", "callIds": ["1", "2"]}},
     "callTranscripts", LIST),
    ("call_video", "download", {"filter": {"callIds": ["7782342274025937895"]}}, "POST", "/v2/calls/extensive", {},
     {"filter": {"callIds": ["7782342274025937895"]}, **MEDIA}, "calls", ONE),
    ("calls", "get", {"id": "7782342274025937895"}, "GET", "/v2/calls/7782342274025937895", {}, None, "call", ONE),
    ("calls", "list", {"fromDateTime": "2026-01-01T00:00:00Z", "toDateTime": "2026-02-01T00:00:00Z",
                       "workspaceId": "623457276584334"}, "GET", "/v2/calls",
     {"fromDateTime": "2026-01-01T00:00:00Z", "toDateTime": "2026-02-01T00:00:00Z", "workspaceId": "623457276584334"},
     None, "calls", LIST),
    ("calls_extensive", "list",
     {"filter": {"fromDateTime": "2026-01-01T00:00:00Z", "primaryUserIds": ["234599484848423"]},
      "contentSelector": {"context": "Extended", "exposedFields": {"parties": True, "content": {"topics": True}}}},
     "POST", "/v2/calls/extensive", {},
     {"filter": {"fromDateTime": "2026-01-01T00:00:00Z", "primaryUserIds": ["234599484848423"]},
      "contentSelector": {"context": "Extended", "exposedFields": {"parties": True, "content": {"topics": True}}}},
     "calls", LIST),
    ("coaching", "list", {"managerId": "563515258458745", "workspaceId": "623457276584334",
                          "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "GET", "/v2/coaching",
     {"managerId": "563515258458745", "workspaceId": "623457276584334", "from": "2026-01-01T00:00:00Z",
      "to": "2026-02-01T00:00:00Z"}, None, "coachingData", ONE),
    ("library_folder_content", "list", {"folderId": "3843152912968920037"}, "GET", "/v2/library/folder-content",
     {"folderId": "3843152912968920037"}, None, "calls", ONE),
    ("library_folders", "list", {"workspaceId": "623457276584334"}, "GET", "/v2/library/folders",
     {"workspaceId": "623457276584334"}, None, "folders", ONE),
    ("settings_scorecards", "list", {"workspaceId": "623457276584334"}, "GET", "/v2/settings/scorecards",
     {"workspaceId": "623457276584334"}, None, "scorecards", ONE),
    ("settings_trackers", "list", {}, "GET", "/v2/settings/trackers", {}, None, "keywordTrackers", ONE),
    ("stats_activity_aggregate", "list", {"filter": STATS_FILTER}, "POST", "/v2/stats/activity/aggregate", {},
     {"filter": STATS_FILTER}, "usersAggregateActivityStats", LIST),
    ("stats_activity_day_by_day", "list", {"filter": STATS_FILTER}, "POST", "/v2/stats/activity/day-by-day", {},
     {"filter": STATS_FILTER}, "usersDetailedActivities", LIST),
    ("stats_activity_scorecards", "list",
     {"filter": {"reviewFromDate": "2026-01-01", "reviewMethod": "MANUAL", "scorecardIds": ["9"]}}, "POST",
     "/v2/stats/activity/scorecards", {},
     {"filter": {"reviewFromDate": "2026-01-01", "reviewMethod": "MANUAL", "scorecardIds": ["9"]}},
     "answeredScorecards", LIST),
    ("stats_interaction", "list", {"filter": STATS_FILTER}, "POST", "/v2/stats/interaction", {},
     {"filter": STATS_FILTER}, "peopleInteractionStats", LIST),
    ("users", "get", {"id": "234599484848423"}, "GET", "/v2/users/234599484848423", {}, None, "user", ONE),
    ("users", "list", {"includeAvatars": True}, "GET", "/v2/users", {"includeAvatars": "true"}, None, "users", LIST),
    ("workspaces", "list", {}, "GET", "/v2/workspaces", {}, None, "workspaces", ONE),
]  # fmt: skip


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{ACCESS_KEY}:{ACCESS_SECRET}".encode()).decode()


def _run(httpserver, entity: str, action: str, params: dict[str, Any], *, credentials: dict[str, Any] | None = None):
    return execute_operation(
        manifest=point_at(RAW["gong"], httpserver.url_for("")),
        credentials=credentials or {"access_key": ACCESS_KEY, "access_key_secret": ACCESS_SECRET},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )


def _page(key: str, ids: list[str], cursor: str | None) -> dict[str, Any]:
    records = {"totalRecords": 3, "currentPageSize": len(ids), "currentPageNumber": 0}
    if cursor:
        records["cursor"] = cursor
    return {"requestId": "4al018gzaztcr8nbukw", "records": records, key: [{"id": i} for i in ids]}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["gong"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in GONG_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "32382e40-3b49-4b99-9c5c-4076501914e7"
    reference = reference_operations("gong")
    if reference is not None:
        assert reference <= ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "key", "kind"),
    GONG_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GONG_CASES],
)
def test_gong_operation(httpserver, vendor, entity, action, params, method, path, query, body, key, kind) -> None:
    single = key in ("call", "user")
    answer = {"requestId": "r1", key: {"id": "1"}} if single else _page(key, ["a", "b"], NEXT)
    vendor.answer(answer)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == _basic()
    assert query_of(request) == query
    if body is None:
        assert vendor.bodies[-1] == b""
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    if single:
        assert result.result == {"id": "1"}
    else:
        assert [r["id"] for r in result.result] == ["a", "b"]
    paginated = kind == LIST
    assert (result.has_next_page, result.end_cursor) == ((True, NEXT) if paginated else (False, None))


def test_get_lists_send_the_cursor_back_as_a_query_param(httpserver, vendor) -> None:
    vendor.answer(_page("calls", ["a", "b"], NEXT))
    vendor.answer(_page("calls", ["c"], None))
    first = _run(httpserver, "calls", "list", {"fromDateTime": "2026-01-01T00:00:00Z"})
    last = _run(httpserver, "calls", "list", {"fromDateTime": "2026-01-01T00:00:00Z", "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"fromDateTime": "2026-01-01T00:00:00Z", "cursor": NEXT}
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


POST_LISTS = [c for c in GONG_CASES if c[3] == "POST" and c[8] == LIST]


@pytest.mark.parametrize("case", POST_LISTS, ids=[f"{c[0]}.{c[1]}" for c in POST_LISTS])
def test_post_reads_send_the_cursor_back_in_the_body(httpserver, vendor, case) -> None:
    entity, action, params, key = case[0], case[1], case[2], case[7]
    vendor.answer(_page(key, ["a"], NEXT))
    vendor.answer(_page(key, ["b"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert json.loads(vendor.bodies[1]) == {**case[6], "cursor": NEXT}
    assert query_of(vendor.requests[1]) == {}
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_oauth_token_is_a_bearer_token(httpserver, vendor) -> None:
    vendor.answer({"requestId": "r", "workspaces": []})
    credentials = {"client_id": "cid", "client_secret": "cs", "refresh_token": "rt", "access_token": TOKEN}
    _run(httpserver, "workspaces", "list", {}, credentials=credentials)
    assert vendor.last.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"access_key": "k", "access_key_secret": "s"}, "access_key",
         {"auth_type": "APIKey", "access_key": "k", "access_key_secret": "s"}),
        ({"auth_type": "APIKey", "access_key": "k", "access_key_secret": "s"}, "access_key",
         {"auth_type": "APIKey", "access_key": "k", "access_key_secret": "s"}),
        ({"auth_type": "OAuth2.0", "client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "a"},
         "oauth",
         {"auth_type": "OAuth2.0", "client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "a"}),
    ],
)  # fmt: skip
def test_credential_shapes_are_accepted(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests["gong"], credentials)
    assert (chosen.key, normalised) == (scheme, stored)


def test_oauth_block_uses_gongs_auth_server(manifests) -> None:
    oauth = manifests["gong"].oauth_scheme().oauth
    assert (oauth.authorization_url, oauth.token_url) == (
        "https://app.gong.io/oauth2/authorize",
        "https://app.gong.io/oauth2/generate-customer-token",
    )
    assert oauth.client_auth == "basic"
    assert "api:calls:read:transcript" in oauth.scopes


def test_the_customer_base_url_comes_from_config_and_stays_on_gong(httpserver, vendor) -> None:
    manifest = point_at(RAW["gong"], httpserver.url_for(""))
    assert manifest.config_defaults["api_base_url"] == "https://api.gong.io"
    raw = RAW["gong"]
    with pytest.raises(OperationInputError):
        execute_operation(
            manifest=point_at(raw, "{config.api_base_url}"),
            credentials={"access_key": "k", "access_key_secret": "s"},
            config={"api_base_url": "https://evil.example.com"},
            entity="workspaces",
            action="list",
            params={},
            limits=LIMITS,
        )


def test_params_follow_gongs_reference(manifests) -> None:
    gong = manifests["gong"]
    assert validate_params(gong, "calls", "get", {"id": "../users"})
    assert validate_params(gong, "coaching", "list", {"managerId": "1"})
    assert validate_params(gong, "stats_interaction", "list", {"filter": {"fromDate": "2026-01-01"}})
    assert validate_params(gong, "stats_activity_scorecards", "list", {"filter": {"reviewMethod": "SOMETIMES"}})
    assert not validate_params(gong, "stats_interaction", "list", {"filter": STATS_FILTER})


def test_gongs_error_message_is_kept_and_a_bad_key_is_rejected(httpserver, vendor) -> None:
    vendor.answer({"requestId": "r", "errors": ["fromDateTime must be before toDateTime"]}, status=400)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "calls", "list", {})
    assert caught.value.code == "bad_request"
    assert "fromDateTime must be before toDateTime" in str(caught.value)
    vendor.answer({"requestId": "r", "errors": ["Unauthorized"]}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "calls", "list", {})
    assert caught.value.code == "credentials_rejected"


def test_an_oauth_connection_calls_the_company_host_gong_returned(httpserver, vendor) -> None:
    from connectors.catalog.loader import build_manifest

    manifest = build_manifest(RAW["gong"])
    assert manifest.oauth_scheme().oauth.token_response_fields == ("api_base_url_for_customer",)
    credentials = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": TOKEN}
    # Stored from the token answer: the config needs no api_base_url, and one set in the config still wins.
    assert (
        manifest.config_fallbacks({**credentials, "api_base_url_for_customer": "https://us-4242.api.gong.io"})[
            "api_base_url"
        ]
        == "https://us-4242.api.gong.io"
    )
    assert manifest.config_fallbacks(credentials)["api_base_url"] == "https://api.gong.io"
    with pytest.raises(OperationInputError):  # a company URL that is not Gong's is never called
        execute_operation(
            manifest=manifest,
            credentials={**credentials, "api_base_url_for_customer": "https://evil.example.com"},
            config={},
            entity="workspaces",
            action="list",
            params={},
            limits=LIMITS,
        )

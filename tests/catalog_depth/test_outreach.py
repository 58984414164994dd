"""Every Outreach operation against a loopback stand-in that answers as Outreach's REST API v2 reference
(developers.outreach.io/api) documents.

Outreach implements JSON:API 1.0. Each case is written from Outreach's reference, not from the manifest: the request
(method, path under /api/v2, the JSON:API query parameters filter[...], sort, page[size], fields[<type>], include,
count; the JSON:API media type in Content-Type and Accept; the OAuth bearer token) and what comes back: a collection
`{"data": [...], "links": {"next": <URL with page[after]>}, "meta": {"count": n}}` or one resource `{"data": {...}}`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "outreach"
ACCESS = "outreach_access_depth_4242"
CREDENTIALS = {"client_id": "cid", "client_secret": "csecret", "refresh_token": "rtok", "access_token": ACCESS}
LIMITS = Limits(max_attempts=1)
JSONAPI = "application/vnd.api+json"
AFTER = "eyJpZCI6NTB9"

# (entity, action, params, method, path under /api/v2, expected query, JSON:API type, answer kind)
COLLECTIONS = [
    ("accounts", "/accounts", "account"),
    ("call_dispositions", "/callDispositions", "callDisposition"),
    ("call_purposes", "/callPurposes", "callPurpose"),
    ("calls", "/calls", "call"),
    ("mailboxes", "/mailboxes", "mailbox"),
    ("mailings", "/mailings", "mailing"),
    ("opportunities", "/opportunities", "opportunity"),
    ("personas", "/personas", "persona"),
    ("prospects", "/prospects", "prospect"),
    ("sequence_states", "/sequenceStates", "sequenceState"),
    ("sequence_steps", "/sequenceSteps", "sequenceStep"),
    ("sequences", "/sequences", "sequence"),
    ("snippets", "/snippets", "snippet"),
    ("stages", "/stages", "stage"),
    ("tasks", "/tasks", "task"),
    ("templates", "/templates", "template"),
    ("users", "/users", "user"),
]
LIST_QUERIES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "prospects": (
        {"filter": {"emails": "ada@example.com", "account": {"id": 7}}, "sort": "-updatedAt", "page[size]": 100},
        {"filter[emails]": "ada@example.com", "filter[account][id]": "7", "sort": "-updatedAt", "page[size]": "100"},
    ),
    "accounts": (
        {"filter": {"updatedAt": "2026-01-01..inf"}, "count": False, "fields": {"account": "name,domain"}},
        {"filter[updatedAt]": "2026-01-01..inf", "count": "false", "fields[account]": "name,domain"},
    ),
    "sequence_states": (
        {"filter": {"state": "active", "sequence": {"id": 12}}, "include": "prospect"},
        {"filter[state]": "active", "filter[sequence][id]": "12", "include": "prospect"},
    ),
    "mailings": ({"filter": {"mailingType": "sequence"}}, {"filter[mailingType]": "sequence"}),
    "tasks": ({"filter": {"state": "incomplete"}, "sort": "dueAt"}, {"filter[state]": "incomplete", "sort": "dueAt"}),
    "users": ({"page[size]": 1000}, {"page[size]": "1000"}),
}
OUTREACH_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str, str]] = []
for _entity, _path, _type in COLLECTIONS:
    _params, _query = LIST_QUERIES.get(_entity, ({}, {}))
    OUTREACH_CASES.append((_entity, "list", _params, "GET", _path, _query, _type, "list"))
    _get = {"id": 42, "include": "owner"} if _entity == "prospects" else {"id": "42"}
    _get_query = {"include": "owner"} if _entity == "prospects" else {}
    OUTREACH_CASES.append((_entity, "get", _get, "GET", f"{_path}/42", _get_query, _type, "one"))


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("/api/v2")),
        credentials=kwargs.pop("credentials", CREDENTIALS),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _resource(kind: str, rid: int) -> dict[str, Any]:
    return {"type": kind, "id": rid, "attributes": {"name": f"r{rid}"}, "relationships": {}}


def _collection(httpserver, path: str, kind: str, ids: list[int], next_query: str | None) -> dict[str, Any]:
    links: dict[str, Any] = {"first": httpserver.url_for("/api/v2" + path) + "?page%5Bsize%5D=50"}
    if next_query:
        links["next"] = httpserver.url_for("/api/v2" + path) + "?" + next_query
    return {"data": [_resource(kind, i) for i in ids], "links": links, "meta": {"count": 120}}


# The writes an agent most needs, beyond the reference's reads: (entity, action, params, method, path, JSON:API type).
PROSPECT = {"type": "prospect", "attributes": {"firstName": "Ada", "emails": ["ada@example.com"]}}
ENROL = {
    "type": "sequenceState",
    "relationships": {
        "prospect": {"data": {"type": "prospect", "id": 12}},
        "sequence": {"data": {"type": "sequence", "id": 3}},
        "mailbox": {"data": {"type": "mailbox", "id": 5}},
    },
}
WRITE_CASES: list[tuple[str, str, dict[str, Any], str, str, str]] = [
    (
        "accounts",
        "create",
        {"data": {"type": "account", "attributes": {"name": "Acme"}}},
        "POST",
        "/accounts",
        "account",
    ),
    (
        "accounts",
        "update",
        {"id": 7, "data": {"type": "account", "id": 7, "attributes": {"industry": "Software"}}},
        "PATCH",
        "/accounts/7",
        "account",
    ),
    ("prospects", "create", {"data": PROSPECT}, "POST", "/prospects", "prospect"),
    (
        "prospects",
        "update",
        {"id": "12", "data": {"type": "prospect", "id": 12, "attributes": {"title": "CTO"}}},
        "PATCH",
        "/prospects/12",
        "prospect",
    ),
    ("sequence_states", "create", {"data": ENROL}, "POST", "/sequenceStates", "sequenceState"),
]


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    covered = {f"{c[0]}.{c[1]}" for c in OUTREACH_CASES} | {f"{c[0]}.{c[1]}" for c in WRITE_CASES}
    assert ours == covered, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "3490c201-5d95-4783-b600-eaf07a4c7787"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert ours - reference == {f"{c[0]}.{c[1]}" for c in WRITE_CASES}
        assert reference <= ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "kind"), WRITE_CASES, ids=[f"{c[0]}.{c[1]}" for c in WRITE_CASES]
)
def test_outreach_write(httpserver, vendor, entity, action, params, method, path, kind) -> None:
    vendor.answer({"data": _resource(kind, 42)}, status=201 if method == "POST" else 200)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, "/api/v2" + path)
    assert request.headers["Content-Type"] == JSONAPI and request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert json.loads(vendor.bodies[-1]) == {"data": params["data"]}  # the JSON:API document, nothing else
    assert query_of(request) == {}
    assert result.result == _resource(kind, 42)


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind", "answer"),
    OUTREACH_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in OUTREACH_CASES],
)
def test_outreach_operation(httpserver, vendor, entity, action, params, method, path, expected, kind, answer) -> None:
    next_query = f"page%5Bafter%5D={AFTER}&page%5Bsize%5D=50"
    if answer == "list":
        vendor.answer(_collection(httpserver, path, kind, [1, 2], next_query))
    else:
        vendor.answer({"data": _resource(kind, 42), "included": []})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, "/api/v2" + path)
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.headers["Content-Type"] == JSONAPI  # Outreach answers 415 without it
    assert request.headers["Accept"] == JSONAPI
    assert not vendor.bodies[-1]
    assert query_of(request) == expected
    assert ACCESS not in request.query_string.decode()
    if answer == "list":
        assert [(r["type"], r["id"]) for r in result.result] == [(kind, 1), (kind, 2)]
        assert result.has_next_page is True
        assert result.end_cursor == f"/api/v2{path}?{next_query}"
    else:
        assert result.result == _resource(kind, 42)  # unwrapped from `data`
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -----------------------------------------------------------------------------------------------------


def test_next_page_follows_links_next_with_page_after(httpserver, vendor) -> None:
    params = {"filter": {"stage": {"id": 3}}, "page[size]": 2, "sort": "id"}
    next_query = f"filter%5Bstage%5D%5Bid%5D=3&page%5Bafter%5D={AFTER}&page%5Bsize%5D=2&sort=id"
    vendor.answer(_collection(httpserver, "/prospects", "prospect", [1, 2], next_query))
    vendor.answer(_collection(httpserver, "/prospects", "prospect", [3], None))
    first = _run(httpserver, "prospects", "list", params)
    last = _run(httpserver, "prospects", "list", {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert before == {"filter[stage][id]": "3", "page[size]": "2", "sort": "id"}
    assert after == {**before, "page[after]": AFTER}  # the same query, one page on
    assert vendor.requests[1].path == "/api/v2/prospects"
    assert vendor.requests[1].headers["Authorization"] == f"Bearer {ACCESS}"
    assert [r["id"] for r in last.result] == [3]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # no links.next on the last page


def test_a_next_link_elsewhere_is_not_followed_and_a_forged_cursor_is_refused(httpserver, vendor) -> None:
    answer = _collection(httpserver, "/prospects", "prospect", [1], None)
    answer["links"]["next"] = "https://evil.example.com/api/v2/prospects?page%5Bafter%5D=x"
    vendor.answer(answer)
    assert _run(httpserver, "prospects", "list", {}).has_next_page is False
    for cursor in ("https://evil.example.com/api/v2/prospects", "/api/v2/users?page%5Bafter%5D=x", "//evil.example"):
        with pytest.raises(OperationInputError) as caught:
            _run(httpserver, "prospects", "list", {"cursor": cursor})
        assert caught.value.code == "invalid_cursor"
    assert len(vendor.requests) == 1


# --- Params, errors, rate limits ------------------------------------------------------------------------------------


def test_params_are_checked_against_outreachs_reference(manifests) -> None:
    manifest = manifests[SLUG]

    def errors(entity: str, action: str, params: dict[str, Any]) -> set[tuple[str, str]]:
        return {(e["field"], e["error_code"]) for e in validate_params(manifest, entity, action, params)}

    assert errors("prospects", "list", {"page[size]": 1001}) == {("params.page[size]", "invalid_value")}
    assert errors("prospects", "list", {"page[size]": 0}) == {("params.page[size]", "invalid_value")}
    assert errors("prospects", "get", {}) == {("params.id", "required")}
    assert errors("prospects", "get", {"id": "1/../2"}) != set()
    assert errors("prospects", "list", {"q": "x"}) != set()


def test_jsonapi_errors_carry_outreachs_detail(httpserver, vendor) -> None:
    vendor.answer(
        {"errors": [{"id": "validationError", "title": "Validation Error", "detail": "Unknown filter: nope."}]},
        status=422,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "prospects", "list", {"filter": {"nope": "x"}})
    assert caught.value.code == "bad_request"
    assert "Unknown filter: nope." in caught.value.message


def test_unauthorized_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer(
        {"errors": [{"id": "unauthorizedOauthToken", "title": "Unauthorized", "detail": "Expired."}]}, status=401
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "users", "list", {})
    assert caught.value.code == "credentials_rejected"


def test_429_waits_for_the_rate_limit_reset(httpserver, vendor) -> None:
    reset = str(int(time.time()) + 30)  # Outreach's reset is a Unix time
    headers = {"X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    vendor.answer({"errors": [{"id": "rateLimitExceeded", "title": "Too Many Requests"}]}, status=429, headers=headers)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "users", "list", {})
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == pytest.approx(30, abs=2)


# --- Auth -----------------------------------------------------------------------------------------------------------


def test_without_an_access_token_nothing_is_sent(httpserver, vendor) -> None:
    credentials = {k: v for k, v in CREDENTIALS.items() if k != "access_token"}
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "users", "list", {}, credentials=credentials)
    assert caught.value.code == "credentials_missing"
    assert vendor.requests == []


def test_oauth_scheme_is_outreachs(manifests) -> None:
    scheme = manifests[SLUG].oauth_scheme()
    oauth = scheme.oauth
    assert oauth.authorization_url == "https://api.outreach.io/oauth/authorize"
    assert oauth.token_url == "https://api.outreach.io/oauth/token"
    assert (oauth.client_auth, oauth.token_body, oauth.scope_separator) == ("body", "form", " ")
    assert {"prospects.read", "accounts.read", "users.read"} <= set(oauth.scopes)
    # One read scope per resource of every operation here, and a write scope per resource written.
    written = {"accounts.write", "prospects.write", "sequenceStates.write"}
    assert written <= set(oauth.scopes) and len(oauth.scopes) == len(COLLECTIONS) + len(written)


def test_airbytes_credential_shape_is_accepted_as_is(manifests) -> None:
    sent = {"client_id": "cid", "client_secret": "csecret", "refresh_token": "rtok"}
    scheme, stored = validate_credentials(manifests[SLUG], sent)
    assert scheme.key == "oauth"
    assert stored == sent

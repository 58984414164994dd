"""Every Freshdesk operation against a loopback stand-in that answers as Freshdesk's API v2 reference
(developers.freshdesk.com/api) documents.

Each case is written from Freshdesk's reference, not from the manifest: the request (method, path, query or exact
JSON body; Basic auth with the API key as user name and "X" as password) and what comes back: a bare JSON array with
a `Link: <...page=2...>; rel="next"` header while more pages exist, or one bare object.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "freshdesk"
KEY = "fd_depth_4242"
BASIC = "Basic " + base64.b64encode(f"{KEY}:X".encode()).decode()
LIMITS = Limits(max_attempts=1)
LIST, ALL, ONE = "list", "all", "one"
V2 = "/api/v2"

# (entity, action, params, method, path, expected query, expected JSON body (None: no body), kind)
FRESHDESK_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str]] = [
    ("agents", "get", {"id": 5}, "GET", f"{V2}/agents/5", {}, None, ONE),
    ("agents", "list", {"state": "fulltime", "per_page": 100}, "GET", f"{V2}/agents",
     {"state": "fulltime", "per_page": "100"}, None, LIST),
    ("agents", "me", {}, "GET", f"{V2}/agents/me", {}, None, ONE),
    ("companies", "get", {"id": 6}, "GET", f"{V2}/companies/6", {}, None, ONE),
    ("companies", "list", {"page": 2}, "GET", f"{V2}/companies", {"page": "2"}, None, LIST),
    ("contacts", "get", {"id": 7}, "GET", f"{V2}/contacts/7", {}, None, ONE),
    ("contacts", "list", {"email": "ana@example.com", "state": "verified"}, "GET", f"{V2}/contacts",
     {"email": "ana@example.com", "state": "verified"}, None, LIST),
    ("groups", "get", {"id": 8}, "GET", f"{V2}/groups/8", {}, None, ONE),
    ("groups", "list", {}, "GET", f"{V2}/groups", {}, None, LIST),
    ("roles", "get", {"id": 9}, "GET", f"{V2}/roles/9", {}, None, ONE),
    ("roles", "list", {}, "GET", f"{V2}/roles", {}, None, LIST),
    ("satisfaction_ratings", "list", {"created_since": "2024-01-01T00:00:00Z"}, "GET",
     f"{V2}/surveys/satisfaction_ratings", {"created_since": "2024-01-01T00:00:00Z"}, None, LIST),
    ("surveys", "list", {"state": "active"}, "GET", f"{V2}/surveys", {"state": "active"}, None, LIST),
    ("ticket_fields", "list", {"type": "custom_dropdown"}, "GET", f"{V2}/ticket_fields", {"type": "custom_dropdown"},
     None, ALL),
    ("ticket_notes", "create", {"id": 42, "body": "<p>Called them</p>", "private": True}, "POST",
     f"{V2}/tickets/42/notes", {}, {"body": "<p>Called them</p>", "private": True}, ONE),
    ("ticket_replies", "create", {"id": 42, "body": "<p>Fixed</p>"}, "POST", f"{V2}/tickets/42/reply", {},
     {"body": "<p>Fixed</p>"}, ONE),
    ("tickets", "create",
     {"email": "ana@example.com", "subject": "Help", "description": "<p>Printer</p>", "status": 2, "priority": 4},
     "POST", f"{V2}/tickets", {},
     {"email": "ana@example.com", "subject": "Help", "description": "<p>Printer</p>", "status": 2, "priority": 4}, ONE),
    ("tickets", "get", {"id": 42, "include": "conversations"}, "GET", f"{V2}/tickets/42",
     {"include": "conversations"}, None, ONE),
    ("tickets", "list", {"updated_since": "2024-01-01T00:00:00Z", "order_by": "updated_at", "order_type": "asc"},
     "GET", f"{V2}/tickets",
     {"updated_since": "2024-01-01T00:00:00Z", "order_by": "updated_at", "order_type": "asc"}, None, LIST),
    ("tickets", "update", {"id": 42, "status": 4, "tags": ["done"]}, "PUT", f"{V2}/tickets/42", {},
     {"status": 4, "tags": ["done"]}, ONE),
    ("time_entries", "list", {"agent_id": 5, "billable": True}, "GET", f"{V2}/time_entries",
     {"agent_id": "5", "billable": "true"}, None, LIST),
]  # fmt: skip
EXTRAS = {"agents.me", "tickets.create", "tickets.update", "ticket_replies.create", "ticket_notes.create"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("") + "api/v2"),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config={"subdomain": "acme"},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _next_link(path: str, query: str) -> dict[str, str]:
    return {"Link": f'<https://acme.freshdesk.com{path}?{query}>; rel="next"'}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in FRESHDESK_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "ec4b9503-13cb-48ab-a4ab-6ade4be46567"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
        assert ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    FRESHDESK_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in FRESHDESK_CASES],
)
def test_freshdesk_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind) -> None:
    one = {"id": 1, "name": "Ana"}
    if kind in (LIST, ALL):
        vendor.answer([{"id": 1}, {"id": 2}], headers=_next_link(path, "page=2&per_page=30"))
    else:
        vendor.answer(one, status=201 if method == "POST" else 200)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == BASIC
    assert query_of(request) == query
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    assert KEY not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind in (LIST, ALL):
        assert [r["id"] for r in result.result] == [1, 2]
    if kind == LIST:
        assert result.has_next_page and result.end_cursor
    elif kind == ALL:  # one answer holds every field: no pages
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_next_page_follows_the_link_header_on_our_host(httpserver, vendor) -> None:
    path = f"{V2}/tickets"
    vendor.answer([{"id": 1}], headers=_next_link(path, "page=2&per_page=1&order_by=updated_at"))
    vendor.answer([{"id": 2}])
    first = _run(httpserver, "tickets", "list", {"per_page": 1, "order_by": "updated_at"})
    last = _run(httpserver, "tickets", "list", {"per_page": 1, "order_by": "updated_at", "cursor": first.end_cursor})
    second = vendor.requests[1]
    assert second.path == path  # on the stand-in, not acme.freshdesk.com
    assert query_of(second) == {"page": "2", "per_page": "1", "order_by": "updated_at"}
    assert second.headers["Authorization"] == BASIC
    assert [r["id"] for r in last.result] == [2]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_page_sizes_and_enums_are_freshdesks(manifests) -> None:
    freshdesk = manifests[SLUG]
    assert validate_params(freshdesk, "tickets", "list", {"per_page": 101})
    assert validate_params(freshdesk, "tickets", "list", {"filter": "mine"})
    assert not validate_params(freshdesk, "tickets", "list", {"per_page": 100, "filter": "watching"})


def test_a_ticket_needs_a_status_and_priority(manifests) -> None:
    freshdesk = manifests[SLUG]
    errors = validate_params(freshdesk, "tickets", "create", {"email": "a@example.com"})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.status", "required"),
        ("params.priority", "required"),
    }
    assert validate_params(freshdesk, "tickets", "create", {"email": "a@example.com", "status": 9, "priority": 1})
    assert not validate_params(freshdesk, "tickets", "create", {"requester_id": 3, "status": 2, "priority": 1})


def test_reply_takes_ticket_id_as_an_alias(httpserver, vendor) -> None:
    vendor.answer({"id": 1}, status=201)
    _run(httpserver, "ticket_replies", "create", {"ticket_id": 42, "body": "Hi"})
    assert vendor.last.path == f"{V2}/tickets/42/reply"


def test_a_reply_is_not_sent_twice_after_a_server_error(httpserver, vendor) -> None:
    vendor.answer({"description": "Internal error"}, status=502)
    with pytest.raises(UpstreamError):
        _run(
            httpserver,
            "ticket_replies",
            "create",
            {"id": 42, "body": "Once"},
            limits=Limits(max_attempts=3, max_retry_seconds=30),
            sleep=lambda _: None,
        )
    assert len(vendor.requests) == 1


def test_rate_limit_429_is_rate_limited_with_retry_after(httpserver, vendor) -> None:
    vendor.answer(
        {"message": "You have exceeded the limit of requests per minute"},
        status=429,
        headers={"Retry-After": "30", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Total": "200"},
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "tickets", "list", {})
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 30


def test_a_wrong_key_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer(
        {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}, status=401
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "agents", "me", {})
    assert caught.value.code == "credentials_rejected"


def test_the_api_key_is_the_only_credential(manifests) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], {"api_key": KEY})
    assert (scheme.key, stored) == ("api_key", {"api_key": KEY})
    assert RAW[SLUG]["base_url"] == "https://{config.subdomain}.freshdesk.com/api/v2"

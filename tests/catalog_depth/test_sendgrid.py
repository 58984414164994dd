"""Every SendGrid operation against a loopback stand-in that answers as Twilio SendGrid's v3 API reference
(twilio.com/docs/sendgrid/api-reference, and its OpenAPI files in twilio/sendgrid-oai) documents.

Each case is written from SendGrid's reference, not from the manifest: the request (method, path with its /v3
prefix, query or exact JSON body, the API key as a bearer token) and the answer's shape. Suppression lists answer a
bare JSON array and page with `limit` (1-500) and `offset`; Marketing Campaigns lists answer `{"result": [...],
"_metadata": {"next": "<url>"}}` and page with `page_size` + `page_token`, the next page's whole URL in
`_metadata.next`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

KEY = "SG.depth_key.4242_secret"
LIMITS = Limits(max_attempts=1)
TOKEN = "eyJwYWdlIjoyfQ"
# Answer kinds: a suppression page (bare array, offset pages), a Marketing page under `result` or `results`
# (_metadata.next), an unpaged list under `result`/`results`, a bare unpaged array, one object, the key's scopes,
# and Mail Send's 202 with no body.
SUPPRESSIONS, PAGE, PAGE_RESULTS, SAMPLE, RESULTS, ARRAY, ONE, SCOPES, ACCEPTED = (
    "suppressions", "page", "page_results", "sample", "results", "array", "one", "scopes", "accepted",
)  # fmt: skip
MAIL = {
    "personalizations": [{"to": [{"email": "ada@example.com"}], "dynamic_template_data": {"name": "Ada"}}],
    "from": {"email": "team@example.com", "name": "Team"},
    "template_id": "d-123",
    "asm": {"group_id": 42},
    "categories": ["welcome"],
}

# (entity, action, params, method, path, expected query (GET) or exact JSON body, answer kind)
SENDGRID_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("blocks", "list", {"start_time": 1700000000, "end_time": 1710000000, "limit": 2}, "GET",
     "/v3/suppression/blocks", {"start_time": "1700000000", "end_time": "1710000000", "limit": "2"}, SUPPRESSIONS),
    ("bounces", "list", {"email": "sales", "limit": 2, "offset": 10}, "GET", "/v3/suppression/bounces",
     {"email": "sales", "limit": "2", "offset": "10"}, SUPPRESSIONS),
    ("campaigns", "list", {"page_size": 50}, "GET", "/v3/marketing/campaigns", {"page_size": "50"}, PAGE),
    ("contacts", "get", {"id": "c-1"}, "GET", "/v3/marketing/contacts/c-1", {}, ONE),
    ("contacts", "list", {}, "GET", "/v3/marketing/contacts", {}, SAMPLE),
    ("contacts", "search", {"query": "email LIKE 'ada%'"}, "POST", "/v3/marketing/contacts/search",
     {"query": "email LIKE 'ada%'"}, SAMPLE),
    ("contacts", "upsert", {"list_ids": ["l-1"], "contacts": [{"email": "ada@example.com", "first_name": "Ada"}]},
     "PUT", "/v3/marketing/contacts",
     {"list_ids": ["l-1"], "contacts": [{"email": "ada@example.com", "first_name": "Ada"}]}, ONE),
    ("global_suppressions", "list", {"limit": 2}, "GET", "/v3/suppression/unsubscribes", {"limit": "2"},
     SUPPRESSIONS),
    ("invalid_emails", "list", {"limit": 2}, "GET", "/v3/suppression/invalid_emails", {"limit": "2"}, SUPPRESSIONS),
    ("lists", "get", {"id": "l-1", "contact_sample": True}, "GET", "/v3/marketing/lists/l-1",
     {"contact_sample": "true"}, ONE),
    ("lists", "list", {"page_size": 1000}, "GET", "/v3/marketing/lists", {"page_size": "1000"}, PAGE),
    ("mail", "send", MAIL, "POST", "/v3/mail/send", MAIL, ACCEPTED),
    ("scopes", "list", {}, "GET", "/v3/scopes", {}, SCOPES),
    ("segments", "get", {"segment_id": "s-1", "contacts_sample": False}, "GET", "/v3/marketing/segments/2.0/s-1",
     {"contacts_sample": "false"}, ONE),
    ("segments", "list", {"parent_list_ids": "l-1,l-2", "no_parent_list_id": True}, "GET",
     "/v3/marketing/segments/2.0", {"parent_list_ids": "l-1,l-2", "no_parent_list_id": "true"}, RESULTS),
    ("singlesend_stats", "list", {"singlesend_ids": "ss-1,ss-2", "page_size": 50}, "GET",
     "/v3/marketing/stats/singlesends", {"singlesend_ids": "ss-1,ss-2", "page_size": "50"}, PAGE_RESULTS),
    ("singlesends", "get", {"id": "ss-1"}, "GET", "/v3/marketing/singlesends/ss-1", {}, ONE),
    ("singlesends", "list", {"page_size": 100}, "GET", "/v3/marketing/singlesends", {"page_size": "100"}, PAGE),
    ("spam_reports", "list", {"limit": 2}, "GET", "/v3/suppression/spam_reports", {"limit": "2"}, SUPPRESSIONS),
    ("suppression_group_members", "list", {}, "GET", "/v3/asm/suppressions", {}, ARRAY),
    ("suppression_groups", "get", {"group_id": "103"}, "GET", "/v3/asm/groups/103", {}, ONE),
    ("suppression_groups", "list", {}, "GET", "/v3/asm/groups", {}, ARRAY),
    ("templates", "get", {"template_id": "d-123"}, "GET", "/v3/templates/d-123", {}, ONE),
    ("templates", "list", {"generations": "dynamic"}, "GET", "/v3/templates",
     {"generations": "dynamic", "page_size": "200"}, PAGE),
]  # fmt: skip
EXTRAS = {"contacts.search", "contacts.upsert", "mail.send", "scopes.list"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["sendgrid"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _marketing_page(httpserver, path: str, ids: list[str], token: str | None, key: str = "result") -> dict[str, Any]:
    """A Marketing Campaigns page: _metadata.next is the next page's URL (absent on the last page)."""
    metadata: dict[str, Any] = {"self": httpserver.url_for(path), "count": 5}
    if token:
        metadata["next"] = httpserver.url_for(path) + f"?page_size=2&page_token={token}"
    return {key: [{"id": i, "name": i} for i in ids], "_metadata": metadata}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["sendgrid"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SENDGRID_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "fbb5fbe2-16ad-4cf4-af7d-ff9d9c316c87"
    assert [s.key for s in manifest.auth_schemes] == ["api_key"]
    reference = reference_operations("sendgrid")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    SENDGRID_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SENDGRID_CASES],
)
def test_sendgrid_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"id": "obj_1", "name": "One"}
    rows = [{"email": "a@example.com", "created": 1700000001}, {"email": "b@example.com", "created": 1700000002}]
    answers: dict[str, tuple[int, Any]] = {
        SUPPRESSIONS: (200, rows),
        PAGE: (200, _marketing_page(httpserver, path, ["obj_1", "obj_2"], TOKEN)),
        PAGE_RESULTS: (200, _marketing_page(httpserver, path, ["obj_1", "obj_2"], TOKEN, key="results")),
        SAMPLE: (200, {"result": [{"id": "obj_1"}, {"id": "obj_2"}], "contact_count": 2, "_metadata": {}}),
        RESULTS: (200, {"results": [{"id": "obj_1"}, {"id": "obj_2"}], "_metadata": {"self": "x"}}),
        ARRAY: (200, [{"id": "obj_1"}, {"id": "obj_2"}]),
        ONE: (200, one),
        SCOPES: (200, {"scopes": ["mail.send", "templates.read"]}),
        ACCEPTED: (202, None),
    }
    status, body = answers[kind]
    vendor.answer(body, status=status)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert "on-behalf-of" not in request.headers  # only when the connector sets on_behalf_of
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    assert KEY not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == SUPPRESSIONS:
        offset = params.get("offset", 0)
        assert result.result == rows
        assert (result.has_next_page, result.end_cursor) == (True, str(offset + 2))  # a full page of `limit`
    elif kind in (PAGE, PAGE_RESULTS):
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert result.has_next_page is True
        assert result.end_cursor == f"{path}?page_size=2&page_token={TOKEN}"  # a path on our host, never a URL
    elif kind in (SAMPLE, RESULTS, ARRAY):
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == SCOPES:
        assert result.result == ["mail.send", "templates.read"]
    elif kind == ACCEPTED:
        assert (result.status_code, result.result) == (202, None)
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "path"),
    [
        ("blocks", "list", "/v3/suppression/blocks"),
        ("bounces", "list", "/v3/suppression/bounces"),
        ("global_suppressions", "list", "/v3/suppression/unsubscribes"),
    ],
)
def test_suppression_pages_move_by_offset_until_a_short_page(httpserver, vendor, entity, action, path) -> None:
    vendor.answer([{"email": f"{i}@example.com"} for i in range(500)])
    vendor.answer([{"email": "last@example.com"}])
    first = _run(httpserver, entity, action, {"start_time": 1700000000})
    last = _run(httpserver, entity, action, {"start_time": 1700000000, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert before == {"start_time": "1700000000", "limit": "500"}  # SendGrid's largest page, sent by default
    assert after == {**before, "offset": "500"}
    assert vendor.requests[1].path == path
    assert (first.has_next_page, first.end_cursor) == (True, "500")
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "key"),
    [
        ("lists", "list", {"page_size": 2}, "/v3/marketing/lists", "result"),
        ("singlesends", "list", {"page_size": 2}, "/v3/marketing/singlesends", "result"),
        ("campaigns", "list", {"page_size": 2}, "/v3/marketing/campaigns", "result"),
        ("templates", "list", {"generations": "dynamic", "page_size": 2}, "/v3/templates", "result"),
        ("singlesend_stats", "list", {"page_size": 2}, "/v3/marketing/stats/singlesends", "results"),
    ],
)
def test_next_page_requests_metadata_next_on_the_same_host(httpserver, vendor, entity, action, params, path, key):
    vendor.answer(_marketing_page(httpserver, path, ["a", "b"], TOKEN, key=key))
    vendor.answer(_marketing_page(httpserver, path, ["c"], None, key=key))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    second = vendor.requests[1]
    assert second.path == path
    assert query_of(second) == {"page_size": "2", "page_token": TOKEN}  # exactly what _metadata.next says
    assert second.headers["Authorization"] == f"Bearer {KEY}"
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_next_url_on_another_host_is_not_followed(httpserver, vendor) -> None:
    vendor.answer({"result": [{"id": "a"}], "_metadata": {"next": "https://evil.example/v3/marketing/lists?x=1"}})
    result = _run(httpserver, "lists", "list", {})
    assert (result.has_next_page, result.end_cursor) == (False, None)


@pytest.mark.parametrize("cursor", ["/v3/scopes", "https://evil.example/v3/marketing/lists", "/v3/marketing/../x"])
def test_a_cursor_that_leaves_the_actions_path_is_refused(httpserver, vendor, cursor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "lists", "list", {"cursor": cursor})
    assert caught.value.code == "invalid_cursor"
    assert not vendor.requests


# --- Params, hosts, headers, errors ---------------------------------------------------------------------------------


def test_bounds_are_sendgrids(manifests) -> None:
    sendgrid = manifests["sendgrid"]
    assert validate_params(sendgrid, "blocks", "list", {"limit": 501})[0]["field"] == "params.limit"
    assert validate_params(sendgrid, "singlesend_stats", "list", {"page_size": 51})[0]["field"] == "params.page_size"
    assert validate_params(sendgrid, "lists", "list", {"page_size": 1001})[0]["field"] == "params.page_size"
    assert validate_params(sendgrid, "templates", "list", {"generations": "v3"})[0]["field"] == "params.generations"
    errors = validate_params(sendgrid, "mail", "send", {"subject": "Hi"})
    assert {e["field"] for e in errors} == {"params.personalizations", "params.from"}


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("templates", "get", {"id": "d-9"}, "/v3/templates/d-9"),
        ("suppression_groups", "get", {"id": "7"}, "/v3/asm/groups/7"),
        ("segments", "get", {"id": "s-9"}, "/v3/marketing/segments/2.0/s-9"),
    ],
)
def test_id_is_accepted_for_sendgrids_path_names(httpserver, vendor, entity, action, params, path) -> None:
    vendor.answer({"id": "x"})
    _run(httpserver, entity, action, params)
    assert vendor.last.path == path


def test_on_behalf_of_is_sent_when_configured(httpserver, vendor) -> None:
    vendor.answer({"scopes": []})
    _run(httpserver, "scopes", "list", {}, config={"on_behalf_of": "account-id 12345"})
    assert vendor.last.headers["on-behalf-of"] == "account-id 12345"


def test_the_eu_region_is_a_config_host(manifests) -> None:
    sendgrid = manifests["sendgrid"]
    assert sendgrid.base_url == "https://{config.api_host}"
    host = sendgrid.config_schema["properties"]["api_host"]
    assert host["enum"] == ["api.sendgrid.com", "api.eu.sendgrid.com"]
    assert host["default"] == "api.sendgrid.com"


def test_rate_limit_headers_are_read(httpserver, vendor) -> None:
    vendor.answer({"scopes": []}, headers={"X-RateLimit-Remaining": "599", "X-RateLimit-Limit": "600"})
    assert _run(httpserver, "scopes", "list", {}).rate_limit_remaining == 599


def test_a_rejected_key_is_credentials_rejected_with_sendgrids_message(httpserver, vendor) -> None:
    vendor.answer({"errors": [{"field": None, "message": "authorization required"}]}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "scopes", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert "authorization required" in caught.value.message
    assert KEY not in caught.value.message


def test_a_429_is_rate_limited_with_the_reset_wait(httpserver, vendor) -> None:
    vendor.answer({"errors": [{"message": "too many requests"}]}, status=429, headers={"X-RateLimit-Reset": "1"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "scopes", "list", {})
    assert caught.value.code == "rate_limited"


def test_the_api_key_is_the_only_credential(manifests) -> None:
    scheme, stored = validate_credentials(manifests["sendgrid"], {"api_key": KEY})
    assert (scheme.key, stored) == ("api_key", {"api_key": KEY})

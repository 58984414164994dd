"""Every Intercom operation against a loopback stand-in that answers as Intercom's REST API reference (version 2.14)
documents.

Each case is written from Intercom's reference, not from the manifest: the request the operation must send (method,
path, query or JSON body, the `Intercom-Version` header, the bearer token) and the shape of what comes back (a list of
records, with `pages.next.starting_after` cursors where Intercom pages that way, or one object).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_replication_config
from core.errors import InvalidInput
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "dG9rOmludGVyY29tX2RlcHRo"
INTERCOM_VERSION = "2.14"
LIMITS = Limits(max_attempts=1)
# How the answer carries the result: a cursor-paged list, a list in one answer, or one object.
PAGED, LIST, ONE = "paged", "list", "one"
EMAIL_IS = {"field": "email", "operator": "=", "value": "ana@example.com"}
OPEN = {"operator": "AND", "value": [{"field": "state", "operator": "=", "value": "open"}]}

# (entity, action, params, method, path, expected query (GET/DELETE) or JSON body (exact), (answer kind, records))
INTERCOM_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], tuple[str, str | None]]] = [
    ("admins", "get", {"admin_id": 7}, "GET", "/admins/7", {}, (ONE, None)),
    ("admins", "list", {}, "GET", "/admins", {}, (LIST, "admins")),
    ("admins", "me", {}, "GET", "/me", {}, (ONE, None)),
    ("companies", "create", {"company_id": "acme-1", "name": "Acme", "plan": "pro", "size": 40},
     "POST", "/companies", {"company_id": "acme-1", "name": "Acme", "plan": "pro", "size": 40}, (ONE, None)),
    ("companies", "delete", {"company_id": "5f4d3c"}, "DELETE", "/companies/5f4d3c", {}, (ONE, None)),
    ("companies", "get", {"company_id": "5f4d3c"}, "GET", "/companies/5f4d3c", {}, (ONE, None)),
    ("companies", "list", {"page": 2, "per_page": 50, "tag_id": "12"}, "GET", "/companies",
     {"page": "2", "per_page": "50", "tag_id": "12"}, (LIST, "data")),
    ("companies", "update", {"company_id": "5f4d3c", "name": "Acme Inc", "monthly_spend": 1200},
     "PUT", "/companies/5f4d3c", {"name": "Acme Inc", "monthly_spend": 1200}, (ONE, None)),
    ("contacts", "create", {"role": "lead", "email": "ana@example.com", "custom_attributes": {"plan": "pro"}},
     "POST", "/contacts", {"role": "lead", "email": "ana@example.com", "custom_attributes": {"plan": "pro"}},
     (ONE, None)),
    ("contacts", "delete", {"contact_id": "63a07d"}, "DELETE", "/contacts/63a07d", {}, (ONE, None)),
    ("contacts", "get", {"contact_id": "63a07d"}, "GET", "/contacts/63a07d", {}, (ONE, None)),
    ("contacts", "list", {"per_page": 25}, "GET", "/contacts", {"per_page": "25"}, (PAGED, "data")),
    ("contacts", "search", {"query": EMAIL_IS, "pagination": {"per_page": 5}}, "POST", "/contacts/search",
     {"query": EMAIL_IS, "pagination": {"per_page": 5}}, (PAGED, "data")),
    ("contacts", "update", {"contact_id": "63a07d", "name": "Ana B", "unsubscribed_from_emails": True},
     "PUT", "/contacts/63a07d", {"name": "Ana B", "unsubscribed_from_emails": True}, (ONE, None)),
    ("conversations", "create", {"from": {"type": "user", "id": "63a07d"}, "body": "Hello"},
     "POST", "/conversations", {"from": {"type": "user", "id": "63a07d"}, "body": "Hello"}, (ONE, None)),
    ("conversations", "delete", {"conversation_id": "1911"}, "DELETE", "/conversations/1911", {}, (ONE, None)),
    ("conversations", "get", {"conversation_id": "1911", "display_as": "plaintext"}, "GET", "/conversations/1911",
     {"display_as": "plaintext"}, (ONE, None)),
    ("conversations", "list", {"per_page": 10}, "GET", "/conversations", {"per_page": "10"},
     (PAGED, "conversations")),
    ("conversations", "search", {"query": OPEN, "sort": {"field": "updated_at", "order": "descending"}},
     "POST", "/conversations/search", {"query": OPEN, "sort": {"field": "updated_at", "order": "descending"}},
     (PAGED, "conversations")),
    ("conversations", "update", {"conversation_id": "1911", "read": True, "custom_attributes": {"issue": "Billing"}},
     "PUT", "/conversations/1911", {"read": True, "custom_attributes": {"issue": "Billing"}}, (ONE, None)),
    ("internal_articles", "create", {"title": "Refunds", "body": "<p>How</p>", "author_id": 991, "owner_id": 991},
     "POST", "/internal_articles", {"title": "Refunds", "body": "<p>How</p>", "author_id": 991, "owner_id": 991},
     (ONE, None)),
    ("internal_articles", "delete", {"internal_article_id": 123}, "DELETE", "/internal_articles/123", {},
     (ONE, None)),
    ("internal_articles", "update", {"internal_article_id": 123, "title": "Refunds (2026)"},
     "PUT", "/internal_articles/123", {"title": "Refunds (2026)"}, (ONE, None)),
    ("notes", "create", {"contact_id": "63a07d", "body": "Called back", "admin_id": "991"},
     "POST", "/contacts/63a07d/notes", {"body": "Called back", "admin_id": "991"}, (ONE, None)),
    ("segments", "get", {"segment_id": "5d2f"}, "GET", "/segments/5d2f", {}, (ONE, None)),
    ("segments", "list", {"include_count": True}, "GET", "/segments", {"include_count": "true"},
     (LIST, "segments")),
    ("tags", "create", {"name": "VIP", "companies": [{"id": "5f4d3c"}]}, "POST", "/tags",
     {"name": "VIP", "companies": [{"id": "5f4d3c"}]}, (ONE, None)),
    ("tags", "delete", {"tag_id": "17513"}, "DELETE", "/tags/17513", {}, (ONE, None)),
    ("tags", "get", {"tag_id": "17513"}, "GET", "/tags/17513", {}, (ONE, None)),
    ("tags", "list", {}, "GET", "/tags", {}, (LIST, "data")),
    ("teams", "get", {"team_id": "814"}, "GET", "/teams/814", {}, (ONE, None)),
    ("teams", "list", {}, "GET", "/teams", {}, (LIST, "teams")),
]  # fmt: skip
EXTRAS = {"admins.me", "contacts.search", "conversations.search"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["intercom"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"access_token": TOKEN}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(records: str, ids: list[str], starting_after: str | None) -> dict[str, Any]:
    """An Intercom cursor-paged answer: `pages.next` only while there is a next page."""
    pages: dict[str, Any] = {"type": "pages", "page": 1, "per_page": len(ids), "total_pages": 2}
    if starting_after is not None:
        pages["next"] = {"page": 2, "starting_after": starting_after}
    return {"type": "list", records: [{"id": i} for i in ids], "total_count": 3, "pages": pages}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["intercom"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in INTERCOM_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["intercom"]["headers"]["Intercom-Version"] == INTERCOM_VERSION
    assert RAW["intercom"]["version"] == "2.0.1"
    reference = reference_operations("intercom")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "answer"),
    INTERCOM_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in INTERCOM_CASES],
)
def test_intercom_operation(httpserver, vendor, entity, action, params, method, path, expected, answer) -> None:
    kind, records = answer
    one = {"type": "object", "id": "obj_1"}
    if kind == PAGED:
        vendor.answer(_page(records, ["obj_1", "obj_2"], "cursor_2"))
    elif kind == LIST:
        vendor.answer({"type": "list", records: [{"id": "obj_1"}, {"id": "obj_2"}]})
    else:
        vendor.answer(one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Intercom-Version"] == INTERCOM_VERSION
    if method in ("GET", "DELETE"):
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert TOKEN not in raw  # the token goes only in the Authorization header
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        expected_page = (True, "cursor_2") if kind == PAGED else (False, None)
        assert (result.has_next_page, result.end_cursor) == expected_page


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "records"),
    [("contacts", "list", {"per_page": 2}, "data"), ("conversations", "list", {}, "conversations")],
)
def test_list_next_page_sends_starting_after_in_the_query(httpserver, vendor, entity, action, params, records) -> None:
    vendor.answer(_page(records, ["a", "b"], "WzE3MTk0OTM3NTcuMF0="))
    vendor.answer(_page(records, ["c"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert "starting_after" not in before
    assert after == {**before, "starting_after": "WzE3MTk0OTM3NTcuMF0="}
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # no pages.next: the last page


@pytest.mark.parametrize(
    ("entity", "records", "query"),
    [("contacts", "data", EMAIL_IS), ("conversations", "conversations", OPEN)],
)
def test_search_next_page_sends_starting_after_in_the_body(httpserver, vendor, entity, records, query) -> None:
    """Intercom's search reads the cursor from the body's pagination object, beside per_page (a query-string
    starting_after is ignored and returns the first page again)."""
    vendor.answer(_page(records, ["a", "b"], "Wy0xLCI1ZjIyIl0="))
    vendor.answer(_page(records, ["c"], None))
    params = {"query": query, "pagination": {"per_page": 2}}
    first = _run(httpserver, entity, "search", params)
    last = _run(httpserver, entity, "search", {**params, "cursor": first.end_cursor})
    assert json.loads(vendor.bodies[0]) == {"query": query, "pagination": {"per_page": 2}}
    next_page = {"per_page": 2, "starting_after": "Wy0xLCI1ZjIyIl0="}
    assert json.loads(vendor.bodies[1]) == {"query": query, "pagination": next_page}
    assert not query_of(vendor.requests[1])
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_search_without_per_page_still_pages_in_the_body(httpserver, vendor) -> None:
    vendor.answer(_page("data", ["b"], None))
    _run(httpserver, "contacts", "search", {"query": EMAIL_IS, "cursor": "Wy0xXQ=="})
    assert json.loads(vendor.bodies[0]) == {"query": EMAIL_IS, "pagination": {"starting_after": "Wy0xXQ=="}}


@pytest.mark.parametrize("entity", ["contacts", "conversations"])
def test_search_needs_a_query(manifests, entity) -> None:
    errors = validate_params(manifests["intercom"], entity, "search", {"pagination": {"per_page": 5}})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.query", "required")]


# --- Param aliases: Airbyte's `id` for Intercom's named path params -------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("admins", "get", {"id": 7}, "/admins/7"),
        ("companies", "get", {"id": "5f4d3c"}, "/companies/5f4d3c"),
        ("companies", "update", {"id": "5f4d3c", "name": "Acme"}, "/companies/5f4d3c"),
        ("contacts", "get", {"id": "63a07d"}, "/contacts/63a07d"),
        ("contacts", "delete", {"id": "63a07d"}, "/contacts/63a07d"),
        ("conversations", "update", {"id": "1911", "read": True}, "/conversations/1911"),
        ("internal_articles", "delete", {"id": 123}, "/internal_articles/123"),
        ("notes", "create", {"id": "63a07d", "body": "Hi"}, "/contacts/63a07d/notes"),
        ("segments", "get", {"id": "5d2f"}, "/segments/5d2f"),
        ("tags", "get", {"id": "17513"}, "/tags/17513"),
        ("teams", "get", {"id": "814"}, "/teams/814"),
    ],
)
def test_id_is_accepted_for_the_path_param(httpserver, vendor, entity, action, params, path) -> None:
    vendor.answer({"type": "object", "id": "x"})
    _run(httpserver, entity, action, params)
    assert vendor.last.path == path
    sent = vendor.last.query_string.decode() + vendor.bodies[-1].decode()
    assert '"id"' not in sent and "id=" not in sent  # sent only in the path, under Intercom's name


def test_both_names_of_a_path_param_is_an_error_naming_both(manifests) -> None:
    errors = validate_params(manifests["intercom"], "contacts", "get", {"contact_id": "a", "id": "b"})
    assert {e["field"] for e in errors} == {"params.contact_id", "params.id"}
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}


def test_errors_name_the_alias_the_caller_used(manifests) -> None:
    errors = validate_params(manifests["intercom"], "admins", "get", {"id": "seven"})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.id", "invalid_type")]
    (missing,) = validate_params(manifests["intercom"], "notes", "create", {"body": "Hi"})
    assert missing["field"] == "params.contact_id" and "Also accepted as id" in missing["message"]


def test_tags_create_keeps_its_own_body_id(httpserver, vendor) -> None:
    """`id` in tags.create is Intercom's body field (the tag to rename), not an alias of a path param."""
    vendor.answer({"type": "tag", "id": "17513", "name": "Gold"})
    _run(httpserver, "tags", "create", {"id": "17513", "name": "Gold"})
    assert (vendor.last.path, json.loads(vendor.bodies[-1])) == ("/tags", {"id": "17513", "name": "Gold"})


# --- Configuration: Airbyte's start_date --------------------------------------------------------------------------


def test_start_date_is_accepted_with_a_meaning(manifests) -> None:
    config = {"start_date": "2017-01-25T00:00:00Z", "api_host": "api.eu.intercom.io"}
    assert validate_replication_config(manifests["intercom"], config) == config
    description = manifests["intercom"].config_schema["properties"]["start_date"]["description"]
    assert "Patchbay" in description and "search" in description


@pytest.mark.parametrize(("config", "field"), [({"start_date": "2017-01-25"}, "start_date"), ({"since": 1}, "since")])
def test_bad_config_names_the_field(manifests, config, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_replication_config(manifests["intercom"], config)
    assert [e.field for e in caught.value.errors] == [f"replication_config.{field}"]


def test_start_date_does_not_filter_on_demand_reads(httpserver, vendor) -> None:
    vendor.answer(_page("data", ["a"], None))
    _run(httpserver, "contacts", "list", {}, config={"start_date": "2017-01-25T00:00:00Z"})
    assert (vendor.last.path, query_of(vendor.last), vendor.bodies[-1]) == ("/contacts", {}, b"")


# --- Through the API ------------------------------------------------------------------------------------------------

INTERCOM_ID = "d8313939-3782-41b0-be29-b3ca20d8dd3a"
BASE = "/api/v1/integrations/connectors"


@pytest.mark.django_db
def test_execute_through_the_api_with_airbytes_names(api, httpserver, settings) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {"intercom": {"base_url": httpserver.url_for("").rstrip("/")}}
    body = {
        "definition_id": INTERCOM_ID,
        "name": "Intercom",
        "credentials": {"access_token": TOKEN},
        "replication_config": {"start_date": "2017-01-25T00:00:00Z"},
    }
    created = api.post(BASE, body)
    assert created.status_code == 201, created.json()
    httpserver.expect_request(
        "/contacts/63a07d", method="GET", headers={"Intercom-Version": INTERCOM_VERSION}
    ).respond_with_json({"type": "contact", "id": "63a07d"})
    answer = api.post(
        f"{BASE}/{created.json()['id']}/execute", {"entity": "contacts", "action": "get", "params": {"id": "63a07d"}}
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["result"] == {"type": "contact", "id": "63a07d"}

"""Every Airtable operation against a loopback stand-in that answers as Airtable's Web API reference
(airtable.com/developers/web/api) documents.

Each case is written from Airtable's reference, not from the manifest: the request the operation must send (method,
path, query with Airtable's `fields[]` and `sort[0][field]` encodings, the token as a bearer token) and what comes
back: `{"records": [...], "offset": "itr.../rec..."}` (no offset on the last page), `{"bases": [...], "offset"}`,
`{"tables": [...]}` (one answer), or one record.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

TOKEN = "patDepth4242.0123456789abcdef"
LIMITS = Limits(max_attempts=1)
OFFSET = "itrx0vH8g5T7abc/recABC123"
LIST, TABLES, ONE = "list", "tables", "one"

# (entity, action, params, method, path, expected query pairs (in order), answer kind)
AIRTABLE_CASES: list[tuple[str, str, dict[str, Any], str, str, list[tuple[str, str]], str]] = [
    ("bases", "list", {}, "GET", "/meta/bases", [], LIST),
    ("records", "get", {"baseId": "appA", "tableIdOrName": "tblB", "recordId": "recC", "returnFieldsByFieldId": True},
     "GET", "/appA/tblB/recC", [("returnFieldsByFieldId", "true")], ONE),
    ("records", "list",
     {"baseId": "appA", "tableIdOrName": "Tasks", "view": "Grid view", "fields": ["Name", "Status"],
      "filterByFormula": "{Status}='Done'", "pageSize": 50, "sort": [{"field": "Name", "direction": "desc"}]},
     "GET", "/appA/Tasks",
     [("view", "Grid view"), ("fields[]", "Name"), ("fields[]", "Status"), ("filterByFormula", "{Status}='Done'"),
      ("pageSize", "50"), ("sort[0][field]", "Name"), ("sort[0][direction]", "desc")], LIST),
    ("tables", "list", {"baseId": "appA", "include": ["visibleFieldIds"]}, "GET", "/meta/bases/appA/tables",
     [("include[]", "visibleFieldIds")], TABLES),
]  # fmt: skip


def _pairs(request) -> list[tuple[str, str]]:
    return parse_qsl(request.query_string.decode(), keep_blank_values=True)


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["airtable"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"personal_access_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _records(ids: list[str], offset: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "records": [{"id": i, "createdTime": "2026-01-01T00:00:00.000Z", "fields": {"Name": i}} for i in ids]
    }
    if offset:
        body["offset"] = offset
    return body


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["airtable"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in AIRTABLE_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "14c6e7ea-97ed-4f5e-a7b5-25e9a80b8212"
    reference = reference_operations("airtable")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    AIRTABLE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in AIRTABLE_CASES],
)
def test_airtable_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"id": "recC", "createdTime": "2026-01-01T00:00:00.000Z", "fields": {"Name": "One"}}
    answers = {
        LIST: {**_records(["rec1", "rec2"], OFFSET), "bases": [{"id": "rec1"}, {"id": "rec2"}]},
        TABLES: {"tables": [{"id": "tbl1", "name": "Tasks", "primaryFieldId": "fld1", "fields": [], "views": []}]},
        ONE: one,
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert _pairs(request) == expected
    assert not vendor.bodies[-1]
    assert TOKEN not in request.query_string.decode()
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == TABLES:
        assert [t["id"] for t in result.result] == ["tbl1"]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["rec1", "rec2"]
        assert (result.has_next_page, result.end_cursor) == (True, OFFSET)


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "params", "key"),
    [("records", {"baseId": "appA", "tableIdOrName": "tblB", "pageSize": 2}, "records"), ("bases", {}, "bases")],
)
def test_next_page_sends_the_offset_airtable_returned(httpserver, vendor, entity, params, key) -> None:
    vendor.answer({key: [{"id": "a"}, {"id": "b"}], "offset": OFFSET})
    vendor.answer({key: [{"id": "c"}]})  # no offset: the last page
    first = _run(httpserver, entity, "list", params)
    last = _run(httpserver, entity, "list", {**params, "cursor": first.end_cursor})
    before, after = _pairs(vendor.requests[0]), _pairs(vendor.requests[1])
    assert ("offset", OFFSET) not in before
    assert after == [*before, ("offset", OFFSET)]
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


# --- Params ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"base_id": "appA", "table_id_or_name": "tblB", "record_id": "recC"}, "/appA/tblB/recC"),
        ({"baseId": "appA", "table_id_or_name": "My Table", "recordId": "recC"}, "/appA/My Table/recC"),
    ],
)
def test_airbytes_path_param_names_build_the_same_request(httpserver, vendor, params, path) -> None:
    vendor.answer({"id": "recC", "fields": {}})
    _run(httpserver, "records", "get", params)
    assert vendor.last.path == path  # decoded: a table name is URL-quoted as one path segment


def test_a_base_under_both_names_is_refused(manifests) -> None:
    errors = validate_params(manifests["airtable"], "tables", "list", {"baseId": "appA", "base_id": "appB"})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.baseId", "conflicting_fields"),
        ("params.base_id", "conflicting_fields"),
    }


def test_page_size_and_sort_follow_airtables_reference(manifests) -> None:
    airtable = manifests["airtable"]
    base = {"baseId": "appA", "tableIdOrName": "t"}
    assert validate_params(airtable, "records", "list", {**base, "pageSize": 101})
    assert validate_params(airtable, "records", "list", {**base, "sort": [{"field": "Name", "direction": "up"}]})
    assert validate_params(airtable, "records", "list", {**base, "cellFormat": "csv"})
    assert not validate_params(airtable, "records", "list", {**base, "pageSize": 100, "sort": [{"field": "Name"}]})


# --- Auth and errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"personal_access_token": TOKEN},  # Airbyte's agent connector
        {"api_key": TOKEN},  # Airbyte's replication shape
        {"auth_method": "api_key", "api_key": TOKEN},
    ],
)
def test_both_credential_shapes_are_stored_under_ours(manifests, credentials) -> None:
    scheme, stored = validate_credentials(manifests["airtable"], credentials)
    assert scheme.key == "api_key"
    assert stored["personal_access_token"] == TOKEN
    assert "api_key" not in stored


def test_a_token_under_two_names_is_refused(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["airtable"], {"api_key": "pat1", "personal_access_token": "pat2"})
    assert {e.error_code for e in caught.value.errors} == {"conflicting_fields"}


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor, manifests) -> None:
    oauth = manifests["airtable"].scheme("oauth").oauth
    assert oauth.pkce is True and oauth.client_auth == "basic" and oauth.rotates_refresh_token is True
    vendor.answer({"bases": []})
    credentials = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "oauth_tok"}
    _run(httpserver, "bases", "list", {}, credentials=credentials, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer oauth_tok"


def test_airtables_error_message_is_reported(httpserver, vendor) -> None:
    vendor.answer({"error": {"type": "INVALID_FILTER_BY_FORMULA", "message": "The formula is invalid"}}, status=422)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "records", "list", {"baseId": "appA", "tableIdOrName": "t", "filterByFormula": "{"})
    assert caught.value.code == "bad_request"
    assert "The formula is invalid" in str(caught.value)

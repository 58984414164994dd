"""Every Snowflake operation against a loopback stand-in that answers as Snowflake's SQL API reference
(docs.snowflake.com/en/developer-guide/sql-api/reference) documents.

Each case is written from Snowflake's reference, not from the manifest: the request (POST /api/v2/statements with a
JSON body holding the SQL `statement` and its context, or GET /api/v2/statements/{statementHandle} with `partition`;
a Bearer token and the X-Snowflake-Authorization-Token-Type header naming its kind) and the answer: the ResultSet
(`resultSetMetaData`, `data`, `statementHandle`, `code`, `message`), returned whole so the column names travel with
the rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

SLUG = "snowflake"
PAT = "pat_sf_depth_4242"
ACCESS = "ver:1-hint:oauth_depth_77"
CONFIG = {"account": "myorg-myaccount"}
LIMITS = Limits(max_attempts=1)
STATEMENTS = "/api/v2/statements"
HANDLE = "01b2c3d4-0000-1a2b-0000-0004f1e2a3b5"
CONTEXT = {"database": "ANALYTICS", "schema": "PUBLIC"}
BIND = {"1": {"type": "FIXED", "value": "42"}}
SELECT_ONE = "SELECT * FROM ORDERS WHERE ID = ?"
INSERT = "INSERT INTO ORDERS (ID, STATUS) VALUES (?, ?)"
INSERT_BIND = {"1": {"type": "FIXED", "value": "43"}, "2": {"type": "TEXT", "value": "open"}}
UPDATE = "UPDATE ORDERS SET STATUS = ? WHERE ID = ?"
UPDATE_BIND = {"1": {"type": "TEXT", "value": "shipped"}, "2": {"type": "FIXED", "value": "42"}}
DELETE = "DELETE FROM ORDERS WHERE ID = ?"

# (entity, action, params, method, path, query, exact JSON body or None)
SF_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any]] = [
    ("databases", "list", {}, "POST", STATEMENTS, {}, {"statement": "SHOW DATABASES"}),
    ("schemas", "list", {"database": "ANALYTICS"}, "POST", STATEMENTS, {},
     {"statement": "SHOW SCHEMAS", "database": "ANALYTICS"}),
    ("tables", "list", CONTEXT, "POST", STATEMENTS, {}, {"statement": "SHOW TABLES", **CONTEXT}),
    ("views", "list", {**CONTEXT, "role": "ANALYST"}, "POST", STATEMENTS, {},
     {"statement": "SHOW VIEWS", **CONTEXT, "role": "ANALYST"}),
    ("columns", "list", {**CONTEXT, "timeout": 30}, "POST", STATEMENTS, {},
     {"statement": "SHOW COLUMNS", **CONTEXT, "timeout": 30}),
    ("warehouses", "list", {}, "POST", STATEMENTS, {}, {"statement": "SHOW WAREHOUSES"}),
    ("record", "list", {"statement": "SELECT * FROM ORDERS LIMIT 100", "warehouse": "COMPUTE_WH", **CONTEXT},
     "POST", STATEMENTS, {}, {"statement": "SELECT * FROM ORDERS LIMIT 100", "warehouse": "COMPUTE_WH", **CONTEXT}),
    ("record", "get", {"statement": SELECT_ONE, "bindings": BIND, "nullable": False}, "POST", STATEMENTS,
     {"nullable": "false"}, {"statement": SELECT_ONE, "bindings": BIND}),
    ("record", "create", {"statement": INSERT, "bindings": INSERT_BIND, "requestId": HANDLE}, "POST", STATEMENTS,
     {"requestId": HANDLE}, {"statement": INSERT, "bindings": INSERT_BIND}),
    ("record", "update", {"statement": UPDATE, "bindings": UPDATE_BIND, "parameters": {"query_tag": "patchbay"}},
     "POST", STATEMENTS, {}, {"statement": UPDATE, "bindings": UPDATE_BIND, "parameters": {"query_tag": "patchbay"}}),
    ("record", "delete", {"statement": DELETE, "bindings": BIND, "async": True}, "POST", STATEMENTS,
     {"async": "true"}, {"statement": DELETE, "bindings": BIND}),
    ("result_partitions", "get", {"statementHandle": HANDLE, "partition": 1}, "GET", f"{STATEMENTS}/{HANDLE}",
     {"partition": "1"}, None),
]  # fmt: skip

RESULT_SET = {
    "resultSetMetaData": {
        "numRows": 2,
        "format": "jsonv2",
        "partitionInfo": [{"rowCount": 2, "uncompressedSize": 120}],
        "rowType": [{"name": "name", "type": "text", "nullable": False}, {"name": "kind", "type": "text"}],
    },
    "data": [["ANALYTICS", "STANDARD"], ["RAW", "STANDARD"]],
    "code": "090001",
    "statementStatusUrl": f"{STATEMENTS}/{HANDLE}?requestId=x",
    "requestId": "x",
    "sqlState": "00000",
    "statementHandle": HANDLE,
    "message": "Statement executed successfully.",
    "createdOn": 1720000000000,
}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"programmatic_access_token": PAT}),
        config=kwargs.pop("config", CONFIG),
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SF_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 12
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
    assert manifest.definition_id == "e2d65910-8c8b-40a1-ae7d-ee2416b2bfa2"
    assert manifest.base_url == "https://{config.account}.snowflakecomputing.com"
    # Key-pair JWTs: tests/engine/test_jwt_apply.py.
    assert [scheme.key for scheme in manifest.auth_schemes] == ["pat", "oauth", "key_pair"]


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body"),
    SF_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SF_CASES],
)
def test_snowflake_operation(httpserver, vendor, entity, action, params, method, path, query, body) -> None:
    vendor.answer(RESULT_SET)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert dict(request.args) == query
    assert request.headers["Authorization"] == f"Bearer {PAT}"
    assert request.headers["X-Snowflake-Authorization-Token-Type"] == "PROGRAMMATIC_ACCESS_TOKEN"
    assert request.headers["Accept"] == "application/json"
    assert PAT not in vendor.bodies[-1].decode()
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    assert result.result == RESULT_SET
    assert result.has_next_page is False


def test_catalog_lists_do_not_take_a_statement_and_statements_are_never_read_only(manifests) -> None:
    manifest = manifests[SLUG]
    for entity in ("databases", "schemas", "tables", "views", "columns", "warehouses"):
        assert manifest.action(entity, "list").is_read_only
        errors = validate_params(manifest, entity, "list", {"statement": "DROP DATABASE ANALYTICS"})
        assert errors, entity
    for action in ("list", "get", "create", "update", "delete"):
        assert not manifest.action("record", action).is_read_only
    assert manifest.action("result_partitions", "get").is_read_only


@pytest.mark.parametrize(
    ("entity", "action", "params", "field"),
    [
        ("record", "list", {}, "params.statement"),
        ("record", "get", {"statement": SELECT_ONE, "bindings": {"1": {"type": "STRING", "value": "x"}}},
         "params.bindings"),
        ("record", "get", {"statement": SELECT_ONE, "bindings": {"one": {"type": "TEXT", "value": "x"}}},
         "params.bindings"),
        ("tables", "list", {"timeout": -1}, "params.timeout"),
        ("record", "create", {"statement": INSERT, "requestId": "not-a-uuid"}, "params.requestId"),
        ("result_partitions", "get", {"statementHandle": HANDLE, "partition": -1}, "params.partition"),
        ("result_partitions", "get", {}, "params.statementHandle"),
    ],
)  # fmt: skip
def test_params_follow_snowflakes_reference(manifests, entity, action, params, field) -> None:
    errors = validate_params(manifests[SLUG], entity, action, params)
    assert any(e["field"].startswith(field) for e in errors), errors


def test_a_running_statement_answers_its_handle_and_the_partition_is_polled(httpserver, vendor) -> None:
    running = {
        "code": "333334",
        "message": "Asynchronous execution in progress. Use provided query id to perform query monitoring.",
        "statementHandle": HANDLE,
        "statementStatusUrl": f"{STATEMENTS}/{HANDLE}",
    }
    vendor.answer(running, status=202)
    vendor.answer({"data": [["RAW", "STANDARD"]]})
    started = _run(httpserver, "record", "list", {"statement": "SELECT * FROM BIG", "async": True})
    assert started.result["statementHandle"] == HANDLE
    rows = _run(httpserver, "result_partitions", "get", {"statement_handle": HANDLE, "partition": 0})
    assert vendor.requests[1].path == f"{STATEMENTS}/{HANDLE}"
    assert dict(vendor.requests[1].args) == {"partition": "0"}
    assert rows.result == {"data": [["RAW", "STANDARD"]]}


def test_writes_are_not_repeated_after_a_server_error(httpserver, vendor) -> None:
    vendor.answer({"code": "000603", "message": "SQL execution internal error"}, status=500)
    with pytest.raises(UpstreamError):
        _run(httpserver, "record", "create", {"statement": INSERT, "bindings": INSERT_BIND},
             limits=Limits(max_attempts=3, max_retry_seconds=30), sleep=lambda _: None)  # fmt: skip
    assert len(vendor.requests) == 1


# --- Config, auth and errors -------------------------------------------------------------------------------------


def test_the_account_is_required_and_only_a_host_label(manifests) -> None:
    manifest = manifests[SLUG]
    assert validate_replication_config(manifest, {"account": "xy12345.us-east-2.aws"}) == {
        "account": "xy12345.us-east-2.aws"
    }
    for bad in ({}, {"account": "evil.com/x?"}, {"account": "-x"}):
        with pytest.raises(InvalidInput) as caught:
            validate_replication_config(manifest, bad)
        assert "replication_config.account" in {e.field for e in caught.value.errors}
    assert (
        manifest.oauth_scheme().oauth.token_url == "https://{config.account}.snowflakecomputing.com/oauth/token-request"
    )


def test_pat_credentials_take_airbytes_marker_and_are_secret(manifests) -> None:
    manifest = manifests[SLUG]
    marked = {"auth_type": "Programmatic Access Token", "programmatic_access_token": PAT}
    scheme, stored = validate_credentials(manifest, marked)
    assert scheme.key == "pat" and stored == marked
    assert scheme.credentials_schema["properties"]["programmatic_access_token"]["secret"] is True
    with pytest.raises(InvalidInput):
        validate_credentials(manifest, {"programmatic_access_token": ""}, requested_scheme="pat")


def test_oauth_tokens_are_sent_as_oauth(httpserver, vendor) -> None:
    vendor.answer(RESULT_SET)
    credentials = {"client_id": "cid", "client_secret": "cs", "refresh_token": "rt", "access_token": ACCESS}
    _run(httpserver, "warehouses", "list", {}, credentials=credentials, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == f"Bearer {ACCESS}"
    assert vendor.last.headers["X-Snowflake-Authorization-Token-Type"] == "OAUTH"


def test_a_missing_oauth_access_token_fails_before_any_call(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "databases", "list", {}, credentials={"client_id": "c", "client_secret": "s",
             "refresh_token": "r"}, auth_scheme="oauth")  # fmt: skip
    assert caught.value.code == "credentials_missing"
    assert vendor.requests == []


@pytest.mark.parametrize(
    ("status", "sf_code", "message", "code"),
    [
        (401, "390303", "Invalid OAuth access token.", "credentials_rejected"),
        (422, "002003", "SQL compilation error: Table 'ORDERS' does not exist or not authorized.", "not_found"),
        (422, "001003", "SQL compilation error: syntax error line 1 at position 7 unexpected 'FORM'.", "bad_request"),
        (429, "000000", "Too many requests.", "rate_limited"),
    ],
)
def test_errors_carry_snowflakes_message(httpserver, vendor, status, sf_code, message, code) -> None:
    vendor.answer({"code": sf_code, "message": message, "sqlState": "42S02", "statementHandle": HANDLE},
                  status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "record", "list", {"statement": "SELECT * FROM ORDERS"})
    assert caught.value.code == code
    assert message in str(caught.value)

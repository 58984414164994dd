"""Params schemas and validation: field errors with stable codes that never echo the submitted value."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.catalog import build_manifest
from connectors.catalog.loader import BUILTIN_DIR, load_catalog
from connectors.catalog.params import (
    UnknownOperation,
    action_params_schema,
    describe_actions,
    validate_params,
)

RAW = {m.data["slug"]: m.data for m in load_catalog([BUILTIN_DIR])}
CATALOG = {slug: build_manifest(data) for slug, data in RAW.items()}
OPERATIONS = [
    (slug, entity, action)
    for slug, manifest in sorted(RAW.items())
    for entity, spec in manifest["entities"].items()
    for action in spec["actions"]
]


def test_paginated_actions_get_a_cursor_param() -> None:
    schema = action_params_schema(CATALOG["github"], "issues", "list")
    assert schema["properties"]["cursor"]["type"] == "string"
    assert "end_cursor" in schema["properties"]["cursor"]["description"]
    assert schema["additionalProperties"] is False
    assert "cursor" not in action_params_schema(CATALOG["github"], "issues", "get")["properties"]


def test_schema_is_a_copy() -> None:
    schema = action_params_schema(CATALOG["github"], "issues", "list")
    schema["properties"].clear()
    assert "owner" in action_params_schema(CATALOG["github"], "issues", "list")["properties"]


def test_manifest_may_open_params() -> None:
    assert action_params_schema(CATALOG["salesforce"], "accounts", "create")["additionalProperties"] is True
    assert validate_params(CATALOG["salesforce"], "accounts", "create", {"Name": "A", "Custom__c": "x"}) == []


def test_error_codes_and_messages() -> None:
    secret = "SENTINEL-value-never-echoed"
    errors = validate_params(
        CATALOG["github"],
        "issues",
        "list",
        {"owner": 5, "state": secret, "per_page": 1000, "bogus": secret, "since": secret},
    )
    by_field = {e["field"]: e for e in errors}
    assert by_field["params.repo"] == {
        "field": "params.repo",
        "message": "This field is required.",
        "error_code": "required",
    }
    assert by_field["params.owner"]["error_code"] == "invalid_type"
    assert by_field["params.owner"]["message"] == "Expected string."
    assert by_field["params.state"] == {
        "field": "params.state",
        "message": "Must be one of: open, closed, all.",
        "error_code": "invalid_choice",
    }
    assert by_field["params.per_page"] == {
        "field": "params.per_page",
        "message": "Must be at most 100.",
        "error_code": "invalid_value",
    }
    assert by_field["params.bogus"]["error_code"] == "unknown_field"
    assert by_field["params.since"]["error_code"] == "invalid_value"
    assert secret not in json.dumps(errors)


def test_nested_paths() -> None:
    errors = validate_params(CATALOG["zendesk-support"], "tickets", "create", {"ticket": {"priority": "meh"}})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.ticket.comment", "required"),
        ("params.ticket.priority", "invalid_choice"),
    }
    errors = validate_params(
        CATALOG["github"], "issues", "create", {"owner": "o", "repo": "r", "title": "t", "labels": ["ok", 3]}
    )
    assert errors == [{"field": "params.labels[1]", "message": "Expected string.", "error_code": "invalid_type"}]


def test_non_object_params() -> None:
    assert validate_params(CATALOG["github"], "users", "me", ["x"]) == [
        {"field": "params", "message": "Expected object.", "error_code": "invalid_type"}
    ]
    assert validate_params(CATALOG["github"], "users", "me", None) == []


def test_unknown_operation() -> None:
    with pytest.raises(UnknownOperation) as caught:
        validate_params(CATALOG["github"], "widgets", "list", {})
    assert "issues" in str(caught.value) and caught.value.code == "unknown_operation"
    with pytest.raises(UnknownOperation) as caught:
        action_params_schema(CATALOG["github"], "issues", "delete")
    assert "Available actions: list, get, create" in str(caught.value)


def test_describe_actions() -> None:
    described = describe_actions(CATALOG["stripe"])
    listing = described["customers"]["actions"]["list"]
    assert listing["method"] == "GET" and listing["paginated"] is True
    assert "cursor" in listing["params"]["properties"]
    assert set(described) == set(RAW["stripe"]["entities"])


@pytest.mark.parametrize(("slug", "entity", "action"), OPERATIONS)
def test_check_and_defaults_are_valid(slug, entity, action) -> None:
    manifest = CATALOG[slug]
    schema = action_params_schema(manifest, entity, action)
    defaults = {k: p["default"] for k, p in schema["properties"].items() if "default" in p}
    assert [e for e in validate_params(manifest, entity, action, defaults) if e["error_code"] != "required"] == []
    check = RAW[slug]["check"]
    assert validate_params(manifest, check["entity"], check["action"], check.get("params") or {}) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operation=st.sampled_from(OPERATIONS), data=st.data())
def test_fuzz_validate_params_never_raises(operation, data) -> None:
    slug, entity, action = operation
    manifest = CATALOG[slug]
    known = list(action_params_schema(manifest, entity, action)["properties"])
    keys = st.sampled_from(known) | st.text(max_size=12) if known else st.text(max_size=12)
    params = data.draw(st.one_of(json_values, st.dictionaries(keys, json_values, max_size=6)))
    errors = validate_params(manifest, entity, action, params)
    assert isinstance(errors, list)
    for error in errors:
        assert set(error) == {"field", "message", "error_code"}
        assert error["field"].startswith("params")
        assert error["error_code"] in {"required", "unknown_field", "invalid_type", "invalid_choice", "invalid_value"}

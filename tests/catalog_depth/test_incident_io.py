"""Every incident.io operation against a loopback stand-in that answers as incident.io's API reference
(api-docs.incident.io; the same descriptions as incident.io's published OpenAPI) documents.

Each case is written from that reference, not from the manifest: the request (method, versioned path, query with
deep-object filters such as status[one_of]=ID, exact JSON body, the bearer API key) and the answer: a list under the
resource's plural key with `pagination_meta.after` for paged lists, a whole list for the settings resources, or one
object under the singular key.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

KEY = "inc_depth_4242"
LIMITS = Limits(max_attempts=1)
PAGED, ALL, ONE = "paged", "all", "one"

# (entity, action, params, method, path, expected query as (name, value) pairs in any order, JSON body, key, kind)
INCIDENT_IO_CASES: list[tuple[str, str, dict[str, Any], str, str, list[tuple[str, str]], Any, str, str]] = [
    ("alerts", "get", {"id": "01AL"}, "GET", "/v2/alerts/01AL", [], None, "alert", ONE),
    ("alerts", "list", {"page_size": 50, "status": {"one_of": ["firing"]}, "created_at": {"gte": "2025-01-01"},
                        "tags": {"all_of": ["known issue", "customer impacting"]}},
     "GET", "/v2/alerts",
     [("page_size", "50"), ("status[one_of]", "firing"), ("created_at[gte]", "2025-01-01"),
      ("tags[all_of]", "known issue"), ("tags[all_of]", "customer impacting")], None, "alerts", PAGED),
    ("catalog_types", "get", {"id": "01CT"}, "GET", "/v2/catalog_types/01CT", [], None, "catalog_type", ONE),
    ("catalog_types", "list", {}, "GET", "/v2/catalog_types", [], None, "catalog_types", ALL),
    ("custom_fields", "get", {"id": "01CF"}, "GET", "/v2/custom_fields/01CF", [], None, "custom_field", ONE),
    ("custom_fields", "list", {}, "GET", "/v2/custom_fields", [], None, "custom_fields", ALL),
    ("escalations", "get", {"id": "01ES"}, "GET", "/v2/escalations/01ES", [], None, "escalation", ONE),
    ("escalations", "list", {"status": {"one_of": ["triggered", "acked"]}, "incident": {"not_in": ["01IN"]},
                             "created_at": {"date_range": "2025-01-01~2025-01-31"}},
     "GET", "/v2/escalations",
     [("status[one_of]", "triggered"), ("status[one_of]", "acked"), ("incident[not_in]", "01IN"),
      ("created_at[date_range]", "2025-01-01~2025-01-31")], None, "escalations", PAGED),
    ("identity", "get", {}, "GET", "/v1/identity", [], None, "identity", ONE),
    ("incident_roles", "get", {"id": "01RO"}, "GET", "/v1/incident_roles/01RO", [], None, "incident_role", ONE),
    ("incident_roles", "list", {}, "GET", "/v1/incident_roles", [], None, "incident_roles", ALL),
    ("incident_statuses", "get", {"id": "01ST"}, "GET", "/v1/incident_statuses/01ST", [], None, "incident_status",
     ONE),
    ("incident_statuses", "list", {}, "GET", "/v1/incident_statuses", [], None, "incident_statuses", ALL),
    ("incident_timestamps", "get", {"id": "01TS"}, "GET", "/v2/incident_timestamps/01TS", [], None,
     "incident_timestamp", ONE),
    ("incident_timestamps", "list", {}, "GET", "/v2/incident_timestamps", [], None, "incident_timestamps", ALL),
    ("incident_updates", "list", {"incident_id": "01IN", "page_size": 10}, "GET", "/v2/incident_updates",
     [("incident_id", "01IN"), ("page_size", "10")], None, "incident_updates", PAGED),
    ("incidents", "create",
     {"idempotency_key": "deploy-4242", "visibility": "public", "name": "Checkout errors", "mode": "test",
      "severity_id": "01SE"},
     "POST", "/v2/incidents", [],
     {"idempotency_key": "deploy-4242", "visibility": "public", "name": "Checkout errors", "mode": "test",
      "severity_id": "01SE"}, "incident", ONE),
    ("incidents", "get", {"id": "01IN"}, "GET", "/v2/incidents/01IN", [], None, "incident", ONE),
    ("incidents", "list", {"page_size": 250, "sort_by": "created_at_oldest_first",
                           "status_category": {"one_of": ["live"]}, "severity": {"gte": "01SE"},
                           "mode": {"one_of": ["standard", "test"]},
                           "custom_field": {"01CF": {"one_of": ["01OPT"]}}},
     "GET", "/v2/incidents",
     [("page_size", "250"), ("sort_by", "created_at_oldest_first"), ("status_category[one_of]", "live"),
      ("severity[gte]", "01SE"), ("mode[one_of]", "standard"), ("mode[one_of]", "test"),
      ("custom_field[01CF][one_of]", "01OPT")], None, "incidents", PAGED),
    ("schedules", "get", {"id": "01SC"}, "GET", "/v2/schedules/01SC", [], None, "schedule", ONE),
    ("schedules", "list", {"page_size": 5}, "GET", "/v2/schedules", [("page_size", "5")], None, "schedules", PAGED),
    ("severities", "get", {"id": "01SE"}, "GET", "/v1/severities/01SE", [], None, "severity", ONE),
    ("severities", "list", {}, "GET", "/v1/severities", [], None, "severities", ALL),
    ("teams", "get", {"id": "01TE"}, "GET", "/v3/teams/01TE", [], None, "team", ONE),
    ("teams", "list", {}, "GET", "/v3/teams", [], None, "teams", PAGED),
    ("users", "get", {"id": "01US"}, "GET", "/v2/users/01US", [], None, "user", ONE),
    ("users", "list", {"email": "ana@example.com", "include_inactive": True}, "GET", "/v2/users",
     [("email", "ana@example.com"), ("include_inactive", "true")], None, "users", PAGED),
]  # fmt: skip
EXTRAS = {"identity.get", "incidents.create"}


def _pairs(request) -> list[tuple[str, str]]:
    return sorted(parse_qsl(request.query_string.decode(), keep_blank_values=True))


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["incident-io"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _page(key: str, ids: list[str], after: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"page_size": 25}
    if after is not None:
        meta["after"] = after
    return {key: [{"id": i} for i in ids], "pagination_meta": meta}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["incident-io"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in INCIDENT_IO_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["incident-io"]["definition_id"] == "7926da90-399e-4f9f-9833-52d8dc3fcb29"
    reference = reference_operations("incident-io")
    if reference is not None:
        assert reference <= ours
        assert ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "key", "kind"),
    INCIDENT_IO_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in INCIDENT_IO_CASES],
)
def test_incident_io_operation(httpserver, vendor, entity, action, params, method, path, query, body, key, kind):
    one = {"id": "01X", "name": "Checkout errors"}
    if kind == PAGED:
        vendor.answer(_page(key, ["01A", "01B"], "01B"))
    elif kind == ALL:
        vendor.answer({key: [{"id": "01A"}, {"id": "01B"}]})
    else:
        vendor.answer({key: one})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert _pairs(request) == sorted(query)
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    assert KEY not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == ONE:
        assert result.result == one
    else:
        assert [r["id"] for r in result.result] == ["01A", "01B"]
    if kind == PAGED:
        assert (result.has_next_page, result.end_cursor) == (True, "01B")
    else:
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "key"),
    [
        ("incidents", "list", {"status_category": {"one_of": ["live"]}}, "incidents"),
        ("alerts", "list", {"page_size": 50}, "alerts"),
        ("users", "list", {"email": "ana@example.com"}, "users"),
        ("incident_updates", "list", {"incident_id": "01IN"}, "incident_updates"),
    ],
)
def test_next_page_sends_after_with_the_same_filters(httpserver, vendor, entity, action, params, key) -> None:
    vendor.answer(_page(key, ["01A", "01B"], "01B"))
    vendor.answer(_page(key, ["01C"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = _pairs(vendor.requests[0]), _pairs(vendor.requests[1])
    assert "after" not in dict(before)
    assert after == sorted([*before, ("after", "01B")])
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == ["01C"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


# --- Auth, params, errors ---------------------------------------------------------------------------------------


def test_the_api_key_is_the_only_scheme(manifests) -> None:
    manifest = manifests["incident-io"]
    assert [s.key for s in manifest.auth_schemes] == ["api_key"]
    scheme, stored = validate_credentials(manifest, {"api_key": KEY})
    assert (scheme.key, stored) == ("api_key", {"api_key": KEY})
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifest, {})
    assert {e.field for e in caught.value.errors} == {"credentials.api_key"}


def test_filters_take_only_the_documented_operators(manifests) -> None:
    manifest = manifests["incident-io"]
    assert validate_params(manifest, "incidents", "list", {"status": {"is": ["01ST"]}})
    assert validate_params(manifest, "incidents", "list", {"page_size": 251})
    assert validate_params(manifest, "incidents", "list", {"sort_by": "newest"})
    assert validate_params(manifest, "alerts", "list", {"has_notes": {"is": ["yes"]}})
    assert not validate_params(manifest, "alerts", "list", {"has_notes": {"is": ["true"]}})
    errors = validate_params(manifest, "incidents", "create", {"name": "x"})
    assert {e["field"] for e in errors} == {"params.idempotency_key", "params.visibility"}


def test_a_rejected_key_and_incident_ios_error_message(httpserver, vendor) -> None:
    vendor.answer({"type": "authentication_error", "status": 401, "errors": [{"message": "API key is invalid"}]},
                  status=401)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "identity", "get", {})
    assert caught.value.code == "credentials_rejected"
    vendor.answer(
        {"type": "validation_error", "status": 422, "errors": [{"code": "is_required", "message": "name is required"}]},
        status=422,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "incidents", "create", {"idempotency_key": "k", "visibility": "public"})
    assert caught.value.code == "bad_request"
    assert "name is required" in str(caught.value)


def test_declaring_an_incident_is_retried_safely_with_its_idempotency_key(httpserver, vendor) -> None:
    """The body carries idempotency_key, so incident.io returns the same incident to a retried request."""
    vendor.answer({"type": "internal_error", "status": 500, "errors": []}, status=500)
    vendor.answer({"incident": {"id": "01IN"}})
    params = {"idempotency_key": "deploy-4242", "visibility": "private"}
    result = _run(httpserver, "incidents", "create", params, limits=Limits(max_attempts=2), sleep=lambda _: None)
    assert result.result == {"id": "01IN"}
    assert len(vendor.requests) == 2
    assert json.loads(vendor.bodies[0]) == json.loads(vendor.bodies[1]) == params

"""Every Chargebee operation against a loopback stand-in that answers as Chargebee's API v2 reference
(apidocs.chargebee.com/docs/api) documents.

Each case is written from Chargebee's reference, not from the manifest: the request (GET under /api/v2 on the site's
host; HTTP Basic with the API key as user name and an empty password; filters as `field[operator]` query params) and
what comes back: a list page `{"list": [{"<resource>": {...}}, ...], "next_offset": "..."}` or one wrapped resource
`{"<resource>": {...}}`.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connectors.catalog import build_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "chargebee"
KEY = "test_cb_depth_4242"
BASIC = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
LIMITS = Limits(max_attempts=1)
V2 = "/api/v2"
LIST, ONE = "list", "one"

# (entity, action, params, method, path, expected query, kind)
CHARGEBEE_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str]] = [
    ("coupon", "get", {"id": "SUMMER10"}, "GET", f"{V2}/coupons/SUMMER10", {}, ONE),
    ("coupon", "list", {"status[is]": "active", "limit": 5}, "GET", f"{V2}/coupons",
     {"status[is]": "active", "limit": "5"}, LIST),
    ("credit_note", "get", {"id": "CN-1"}, "GET", f"{V2}/credit_notes/CN-1", {}, ONE),
    ("credit_note", "list", {"customer_id[is]": "cus_1", "status[is]": "refund_due"}, "GET", f"{V2}/credit_notes",
     {"customer_id[is]": "cus_1", "status[is]": "refund_due"}, LIST),
    ("customer", "get", {"id": "cus_1"}, "GET", f"{V2}/customers/cus_1", {}, ONE),
    ("customer", "list", {"email[is]": "ana@example.com", "sort_by[asc]": "created_at", "include_deleted": True},
     "GET", f"{V2}/customers",
     {"email[is]": "ana@example.com", "sort_by[asc]": "created_at", "include_deleted": "true"}, LIST),
    ("event", "get", {"id": "ev_1"}, "GET", f"{V2}/events/ev_1", {}, ONE),
    ("event", "list", {"event_type[is]": "subscription_created", "occurred_at[after]": 1704067200}, "GET",
     f"{V2}/events", {"event_type[is]": "subscription_created", "occurred_at[after]": "1704067200"}, LIST),
    ("invoice", "get", {"id": "INV-7"}, "GET", f"{V2}/invoices/INV-7", {}, ONE),
    ("invoice", "list", {"status[is]": "payment_due", "sort_by[desc]": "date"}, "GET", f"{V2}/invoices",
     {"status[is]": "payment_due", "sort_by[desc]": "date"}, LIST),
    ("item", "get", {"id": "pro-plan"}, "GET", f"{V2}/items/pro-plan", {}, ONE),
    ("item", "list", {"type[is]": "plan", "status[is]": "active"}, "GET", f"{V2}/items",
     {"type[is]": "plan", "status[is]": "active"}, LIST),
    ("item_price", "get", {"id": "pro-plan-USD-monthly"}, "GET", f"{V2}/item_prices/pro-plan-USD-monthly", {}, ONE),
    ("item_price", "list", {"item_id[is]": "pro-plan", "period_unit[is]": "month"}, "GET", f"{V2}/item_prices",
     {"item_id[is]": "pro-plan", "period_unit[is]": "month"}, LIST),
    ("order", "get", {"id": "ord_1"}, "GET", f"{V2}/orders/ord_1", {}, ONE),
    ("order", "list", {"status[is]": "shipped"}, "GET", f"{V2}/orders", {"status[is]": "shipped"}, LIST),
    ("payment_source", "get", {"id": "pm_1"}, "GET", f"{V2}/payment_sources/pm_1", {}, ONE),
    ("payment_source", "list", {"customer_id[is]": "cus_1"}, "GET", f"{V2}/payment_sources",
     {"customer_id[is]": "cus_1"}, LIST),
    ("subscription", "get", {"id": "sub_1"}, "GET", f"{V2}/subscriptions/sub_1", {}, ONE),
    ("subscription", "list", {"status[is]": "active", "updated_at[after]": 1704067200, "limit": 100}, "GET",
     f"{V2}/subscriptions", {"status[is]": "active", "updated_at[after]": "1704067200", "limit": "100"}, LIST),
    ("transaction", "get", {"id": "txn_1"}, "GET", f"{V2}/transactions/txn_1", {}, ONE),
    ("transaction", "list", {"type[is]": "refund", "date[after]": 1704067200}, "GET", f"{V2}/transactions",
     {"type[is]": "refund", "date[after]": "1704067200"}, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("") + "api/v2"),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config={"site": "acme-test"},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in CHARGEBEE_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "686473f1-76d9-4994-9cc7-9b13da46147c"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "kind"),
    CHARGEBEE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in CHARGEBEE_CASES],
)
def test_chargebee_operation(httpserver, vendor, entity, action, params, method, path, query, kind) -> None:
    one = {"id": "x1", "object": entity}
    if kind == LIST:
        vendor.answer({"list": [{entity: {"id": "a"}}, {entity: {"id": "b"}}], "next_offset": '["1704067200000","42"]'})
    else:
        vendor.answer({entity: one, "card": {"id": "card_1"}})  # Chargebee wraps, with related records beside
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == BASIC
    assert query_of(request) == query
    assert not vendor.bodies[-1]
    assert KEY not in request.query_string.decode()
    if kind == LIST:
        assert [r[entity]["id"] for r in result.result] == ["a", "b"]
        assert (result.has_next_page, result.end_cursor) == (True, '["1704067200000","42"]')
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_next_page_sends_next_offset_as_offset(httpserver, vendor) -> None:
    vendor.answer({"list": [{"customer": {"id": "a"}}], "next_offset": '["1704067200000","7"]'})
    vendor.answer({"list": [{"customer": {"id": "b"}}]})
    first = _run(httpserver, "customer", "list", {"limit": 1, "sort_by[asc]": "created_at"})
    last = _run(httpserver, "customer", "list", {"limit": 1, "sort_by[asc]": "created_at", "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {
        "limit": "1",
        "sort_by[asc]": "created_at",
        "offset": '["1704067200000","7"]',
    }
    assert [r["customer"]["id"] for r in last.result] == ["b"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_the_site_names_the_host() -> None:
    assert RAW[SLUG]["base_url"] == "https://{config.site}.chargebee.com/api/v2"
    with pytest.raises(OperationInputError):
        execute_operation(
            manifest=build_manifest(RAW[SLUG]),
            credentials={"api_key": KEY},
            config={},
            entity="customer",
            action="list",
            params={},
            limits=LIMITS,
        )


def test_site_api_key_is_airbytes_name_for_the_key(manifests) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], {"site_api_key": KEY})
    assert (scheme.key, stored) == ("api_key", {"api_key": KEY})
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests[SLUG], {"site_api_key": KEY, "api_key": "other"})
    assert {(e.field, e.error_code) for e in caught.value.errors} >= {
        ("credentials.site_api_key", "conflicting_fields")
    }
    assert validate_replication_config(manifests[SLUG], {"site": "acme-test"})["site"] == "acme-test"


def test_filters_are_chargebees(manifests) -> None:
    chargebee = manifests[SLUG]
    assert validate_params(chargebee, "subscription", "list", {"limit": 101})
    assert validate_params(chargebee, "subscription", "list", {"status[is]": "live"})
    assert validate_params(chargebee, "invoice", "list", {"date[after]": "2024-01-01"})
    assert not validate_params(chargebee, "item_price", "list", {"item_type[is]": "addon", "limit": 100})


def test_get_takes_the_resource_named_id(httpserver, vendor) -> None:
    vendor.answer({"subscription": {"id": "sub_9"}})
    _run(httpserver, "subscription", "get", {"subscription_id": "sub_9"})
    assert vendor.last.path == f"{V2}/subscriptions/sub_9"


@pytest.mark.parametrize(
    ("status", "api_error_code", "code"),
    [
        (401, "api_authentication_failed", "credentials_rejected"),
        (404, "resource_not_found", "not_found"),
        (429, "api_request_limit_exceeded", "rate_limited"),
        (400, "invalid_request", "bad_request"),
    ],
)
def test_errors_are_read_from_chargebees_shape(httpserver, vendor, status, api_error_code, code) -> None:
    vendor.answer(
        {
            "message": f"Chargebee says {api_error_code}",
            "type": "invalid_request",
            "api_error_code": api_error_code,
            "error_code": api_error_code,
            "http_status_code": status,
        },
        status=status,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "customer", "get", {"id": "cus_1"})
    assert caught.value.code == code
    assert f"Chargebee says {api_error_code}" in str(caught.value)

"""Every PayPal Transaction operation against a loopback stand-in that answers as PayPal's REST reference
(developer.paypal.com/docs/api) documents: Transaction Search, Balances, Disputes, Payments v1, Catalog Products and
Invoicing v2.

Each case is written from PayPal's reference, not from the manifest: the request (method, path, query or exact JSON
body; `Authorization: Bearer <access token>`) and what comes back (the list under its documented key, with page
numbers, PayPal's `next_id`, or one object).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "paypal-transaction"
TOKEN = "A21AA_paypal_depth_4242"
LIMITS = Limits(max_attempts=1)
ONE = "one"

# (entity, action, params, method, path, expected query, expected JSON body (None: none), records key or ONE,
#  end_cursor of a page holding two records)
PAYPAL_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str, str | None]] = [
    ("balances", "list", {"currency_code": "USD", "as_of_time": "2024-01-31T00:00:00Z"}, "GET",
     "/v1/reporting/balances", {"currency_code": "USD", "as_of_time": "2024-01-31T00:00:00Z"}, None, "balances",
     None),
    ("list_disputes", "list", {"dispute_state": "REQUIRED_ACTION", "page_size": 2}, "GET", "/v1/customer/disputes",
     {"dispute_state": "REQUIRED_ACTION", "page_size": "2"}, None, "items", None),
    ("list_payments", "list", {"count": 2, "sort_by": "update_time", "sort_order": "asc"}, "GET",
     "/v1/payments/payment", {"count": "2", "sort_by": "update_time", "sort_order": "asc"}, None, "payments",
     "PAY-NEXT"),
    ("list_products", "list", {"page_size": 2, "page": 3}, "GET", "/v1/catalogs/products",
     {"page_size": "2", "page": "3"}, None, "products", "4"),
    ("search_invoices", "list",
     {"page_size": 2, "status": ["SENT", "UNPAID"], "invoice_date_range": {"start": "2024-01-01", "end": "2024-01-31"}},
     "POST", "/v2/invoicing/search-invoices", {"page_size": "2"},
     {"status": ["SENT", "UNPAID"], "invoice_date_range": {"start": "2024-01-01", "end": "2024-01-31"}}, "items", "2"),
    ("show_product_details", "get", {"id": "PROD-5FD60555F23244316"}, "GET",
     "/v1/catalogs/products/PROD-5FD60555F23244316", {}, None, ONE, None),
    ("transactions", "list",
     {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-01-31T23:59:59Z", "fields": "all", "page_size": 2},
     "GET", "/v1/reporting/transactions",
     {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-01-31T23:59:59Z", "fields": "all", "page_size": "2"},
     None, "transaction_details", "2"),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"access_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in PAYPAL_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "d913b0f2-cc51-4e55-a44c-8ba1697b9239"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind", "cursor"),
    PAYPAL_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in PAYPAL_CASES],
)
def test_paypal_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind, cursor) -> None:
    one = {"id": "PROD-5FD60555F23244316", "name": "Video streaming"}
    if kind != ONE:
        vendor.answer({kind: [{"id": "a"}, {"id": "b"}], "next_id": "PAY-NEXT", "links": []})
    else:
        vendor.answer(one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert query_of(request) == query
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    if kind != ONE:
        assert [r["id"] for r in result.result] == ["a", "b"]
        assert (result.has_next_page, result.end_cursor) == (cursor is not None, cursor)
    else:
        assert result.result == one


def test_transactions_next_page_sends_the_page_number(httpserver, vendor) -> None:
    window = {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-01-31T23:59:59Z", "page_size": 1}
    vendor.answer({"transaction_details": [{"id": "a"}], "page": 1, "total_pages": 2})
    vendor.answer({"transaction_details": [], "page": 2, "total_pages": 2})
    first = _run(httpserver, "transactions", "list", window)
    last = _run(httpserver, "transactions", "list", {**window, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2024-01-31T23:59:59Z",
        "page_size": "1",
        "page": "2",
    }
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_payments_next_page_starts_at_next_id(httpserver, vendor) -> None:
    vendor.answer({"payments": [{"id": "PAY-1"}], "count": 1, "next_id": "PAY-2"})
    vendor.answer({"payments": [{"id": "PAY-2"}], "count": 1})
    first = _run(httpserver, "list_payments", "list", {"count": 1})
    last = _run(httpserver, "list_payments", "list", {"count": 1, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"count": "1", "start_id": "PAY-2"}
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_short_page_is_the_last(httpserver, vendor) -> None:
    vendor.answer({"products": [{"id": "a"}]})
    result = _run(httpserver, "list_products", "list", {"page_size": 2})
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_a_pasted_access_token_is_the_credential(manifests) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], {"access_token": TOKEN})
    assert (scheme.key, stored) == ("oauth2", {"access_token": TOKEN})
    full = {"client_id": "AbC", "client_secret": "sec", "access_token": TOKEN}
    assert validate_credentials(manifests[SLUG], full)[1] == full


def test_the_host_is_live_by_default_and_may_be_the_sandbox(httpserver) -> None:
    assert RAW[SLUG]["base_url"] == "https://{config.api_host}"
    assert RAW[SLUG]["config_schema"]["properties"]["api_host"]["default"] == "api-m.paypal.com"
    assert RAW[SLUG]["config_schema"]["properties"]["api_host"]["enum"] == [
        "api-m.paypal.com",
        "api-m.sandbox.paypal.com",
    ]


def test_params_are_paypals(manifests) -> None:
    paypal = manifests[SLUG]
    assert validate_params(paypal, "transactions", "list", {"start_date": "2024-01-01T00:00:00Z"})
    assert validate_params(paypal, "list_disputes", "list", {"page_size": 51})
    assert validate_params(paypal, "list_payments", "list", {"count": 21})
    assert validate_params(paypal, "search_invoices", "list", {"status": ["OPEN"]})
    assert not validate_params(paypal, "show_product_details", "get", {"product_id": "PROD-123456"})


@pytest.mark.parametrize(
    ("status", "name", "code"),
    [
        (401, "AUTHENTICATION_FAILURE", "credentials_rejected"),
        (404, "RESOURCE_NOT_FOUND", "not_found"),
        (429, "RATE_LIMIT_REACHED", "rate_limited"),
        (400, "INVALID_REQUEST", "bad_request"),
    ],
)
def test_errors_are_read_from_paypals_shape(httpserver, vendor, status, name, code) -> None:
    vendor.answer({"name": name, "message": f"PayPal says {name}", "debug_id": "f00d"}, status=status)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "show_product_details", "get", {"id": "PROD-123456"})
    assert caught.value.code == code
    assert f"PayPal says {name}" in str(caught.value)

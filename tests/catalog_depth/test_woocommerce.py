"""Every WooCommerce operation against a loopback stand-in that answers as the WooCommerce REST API v3 reference
(woocommerce.github.io/woocommerce-rest-api-docs) documents.

Each case is written from WooCommerce's reference, not from the manifest: the request (method, path under
/wp-json/wc/v3, query or exact JSON body; HTTP Basic auth with the consumer key and secret) and what comes back: a
bare JSON array with WordPress's `Link: <...page=2>; rel="next"` and `X-WP-Total`/`X-WP-TotalPages` headers while
more pages exist, or one bare object.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from connectors.catalog import build_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "woocommerce"
KEY, SECRET = "ck_depth_4242", "cs_depth_secret_9999"
BASIC = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
LIMITS = Limits(max_attempts=1)
LIST, ALL, ONE = "list", "all", "one"
WC = "/wp-json/wc/v3"

# (entity, action, params, method, path, expected query, expected JSON body (None: no body), kind)
WOOCOMMERCE_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str]] = [
    ("coupons", "get", {"id": 719}, "GET", f"{WC}/coupons/719", {}, None, ONE),
    ("coupons", "list", {"code": "summer10", "per_page": 50}, "GET", f"{WC}/coupons",
     {"code": "summer10", "per_page": "50"}, None, LIST),
    ("customers", "get", {"id": 25}, "GET", f"{WC}/customers/25", {}, None, ONE),
    ("customers", "list", {"email": "ana@example.com", "role": "all"}, "GET", f"{WC}/customers",
     {"email": "ana@example.com", "role": "all"}, None, LIST),
    ("order_notes", "create", {"order_id": 727, "note": "Shipped via DHL", "customer_note": True}, "POST",
     f"{WC}/orders/727/notes", {}, {"note": "Shipped via DHL", "customer_note": True}, ONE),
    ("order_notes", "get", {"order_id": 727, "id": 281}, "GET", f"{WC}/orders/727/notes/281", {}, None, ONE),
    ("order_notes", "list", {"order_id": 727, "type": "customer"}, "GET", f"{WC}/orders/727/notes",
     {"type": "customer"}, None, ALL),
    ("orders", "get", {"id": 727, "dp": 4}, "GET", f"{WC}/orders/727", {"dp": "4"}, None, ONE),
    ("orders", "list", {"status": ["processing", "on-hold"], "after": "2024-01-01T00:00:00", "include": [1, 2]},
     "GET", f"{WC}/orders", {"status": "processing,on-hold", "after": "2024-01-01T00:00:00", "include": "1,2"},
     None, LIST),
    ("orders", "update", {"id": 727, "status": "completed"}, "PUT", f"{WC}/orders/727", {},
     {"status": "completed"}, ONE),
    ("payment_gateways", "get", {"id": "bacs"}, "GET", f"{WC}/payment_gateways/bacs", {}, None, ONE),
    ("payment_gateways", "list", {}, "GET", f"{WC}/payment_gateways", {}, None, ALL),
    ("product_attributes", "get", {"id": 1}, "GET", f"{WC}/products/attributes/1", {}, None, ONE),
    ("product_attributes", "list", {}, "GET", f"{WC}/products/attributes", {}, None, ALL),
    ("product_categories", "get", {"id": 9}, "GET", f"{WC}/products/categories/9", {}, None, ONE),
    ("product_categories", "list", {"hide_empty": True, "parent": 0}, "GET", f"{WC}/products/categories",
     {"hide_empty": "true", "parent": "0"}, None, LIST),
    ("product_reviews", "get", {"id": 22}, "GET", f"{WC}/products/reviews/22", {}, None, ONE),
    ("product_reviews", "list", {"product": [799], "status": "hold"}, "GET", f"{WC}/products/reviews",
     {"product": "799", "status": "hold"}, None, LIST),
    ("product_tags", "get", {"id": 34}, "GET", f"{WC}/products/tags/34", {}, None, ONE),
    ("product_tags", "list", {"search": "leather"}, "GET", f"{WC}/products/tags", {"search": "leather"}, None, LIST),
    ("product_variations", "get", {"product_id": 22, "id": 732}, "GET", f"{WC}/products/22/variations/732", {},
     None, ONE),
    ("product_variations", "list", {"product_id": 22, "stock_status": "instock"}, "GET",
     f"{WC}/products/22/variations", {"stock_status": "instock"}, None, LIST),
    ("products", "get", {"id": 794}, "GET", f"{WC}/products/794", {}, None, ONE),
    ("products", "list", {"sku": "WOO-1", "orderby": "popularity", "on_sale": True}, "GET", f"{WC}/products",
     {"sku": "WOO-1", "orderby": "popularity", "on_sale": "true"}, None, LIST),
    ("products", "update", {"id": 794, "regular_price": "24.54", "stock_quantity": 3}, "PUT", f"{WC}/products/794",
     {}, {"regular_price": "24.54", "stock_quantity": 3}, ONE),
    ("refunds", "get", {"order_id": 723, "id": 726}, "GET", f"{WC}/orders/723/refunds/726", {}, None, ONE),
    ("refunds", "list", {"order_id": 723}, "GET", f"{WC}/orders/723/refunds", {}, None, LIST),
    ("shipping_methods", "get", {"id": "flat_rate"}, "GET", f"{WC}/shipping_methods/flat_rate", {}, None, ONE),
    ("shipping_methods", "list", {}, "GET", f"{WC}/shipping_methods", {}, None, ALL),
    ("shipping_zones", "get", {"id": 0}, "GET", f"{WC}/shipping/zones/0", {}, None, ONE),
    ("shipping_zones", "list", {}, "GET", f"{WC}/shipping/zones", {}, None, ALL),
    ("tax_classes", "list", {}, "GET", f"{WC}/taxes/classes", {}, None, ALL),
    ("tax_rates", "get", {"id": 72}, "GET", f"{WC}/taxes/72", {}, None, ONE),
    ("tax_rates", "list", {"class": "reduced-rate", "per_page": 100}, "GET", f"{WC}/taxes",
     {"class": "reduced-rate", "per_page": "100"}, None, LIST),
]  # fmt: skip
EXTRAS = {"orders.update", "order_notes.create", "products.update"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("") + WC.lstrip("/")),
        credentials=kwargs.pop("credentials", {"api_key": KEY, "api_secret": SECRET}),
        config={"shop": "shop.example.com"},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _pages(path: str, query: str) -> dict[str, str]:
    return {
        "Link": f'<https://shop.example.com{path}?{query}>; rel="next"',
        "X-WP-Total": "40",
        "X-WP-TotalPages": "4",
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in WOOCOMMERCE_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "2a2552ca-9f78-4c1c-9eb7-4d0dc66d72df"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
        assert ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    WOOCOMMERCE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in WOOCOMMERCE_CASES],
)
def test_woocommerce_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind) -> None:
    one = {"id": 1, "name": "Ana"}
    if kind in (LIST, ALL):
        vendor.answer([{"id": 1}, {"id": 2}], headers=_pages(path, "page=2"))
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
    sent = request.query_string.decode() + vendor.bodies[-1].decode()
    assert KEY not in sent and SECRET not in sent
    if kind in (LIST, ALL):
        assert [r["id"] for r in result.result] == [1, 2]
    if kind == LIST:
        assert result.has_next_page and result.end_cursor
    elif kind == ALL:  # WooCommerce answers these in one go: no pages
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_next_page_follows_the_link_header_on_our_host(httpserver, vendor) -> None:
    path = f"{WC}/orders"
    vendor.answer([{"id": 1}], headers=_pages(path, "per_page=1&status=completed&page=2"))
    vendor.answer([{"id": 2}], headers={"X-WP-Total": "2", "X-WP-TotalPages": "2"})
    first = _run(httpserver, "orders", "list", {"per_page": 1, "status": ["completed"]})
    last = _run(httpserver, "orders", "list", {"per_page": 1, "status": ["completed"], "cursor": first.end_cursor})
    second = vendor.requests[1]
    assert second.path == path  # on the stand-in, not shop.example.com
    assert query_of(second) == {"per_page": "1", "status": "completed", "page": "2"}
    assert second.headers["Authorization"] == BASIC
    assert [r["id"] for r in last.result] == [2]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_page_sizes_and_enums_are_woocommerces(manifests) -> None:
    woo = manifests[SLUG]
    assert validate_params(woo, "orders", "list", {"per_page": 101})
    assert validate_params(woo, "orders", "list", {"status": ["shipped"]})
    assert validate_params(woo, "products", "list", {"stock_status": "available"})
    assert not validate_params(woo, "orders", "list", {"per_page": 100, "status": ["on-hold", "checkout-draft"]})
    errors = validate_params(woo, "order_notes", "create", {"order_id": 1})
    assert {(e["field"], e["error_code"]) for e in errors} == {("params.note", "required")}


def test_note_and_refund_ids_take_woocommerces_names(httpserver, vendor) -> None:
    vendor.answer({"id": 281})
    vendor.answer({"id": 726})
    _run(httpserver, "order_notes", "get", {"order_id": 727, "note_id": 281})
    _run(httpserver, "refunds", "get", {"order_id": 723, "refund_id": 726})
    assert [r.path for r in vendor.requests] == [f"{WC}/orders/727/notes/281", f"{WC}/orders/723/refunds/726"]


def test_a_wrong_key_is_credentials_rejected_with_woocommerces_message(httpserver, vendor) -> None:
    vendor.answer(
        {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.", "data": {}},
        status=401,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "orders", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert "cannot list resources" in str(caught.value)


def test_a_missing_order_is_not_found(httpserver, vendor) -> None:
    vendor.answer({"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}},
                  status=404)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "orders", "get", {"id": 9})
    assert caught.value.code == "not_found"


def test_consumer_key_names_are_aliases_and_the_host_is_the_shops(manifests) -> None:
    woo = manifests[SLUG]
    scheme, stored = validate_credentials(woo, {"consumer_key": KEY, "consumer_secret": SECRET})
    assert (scheme.key, stored) == ("api_key", {"api_key": KEY, "api_secret": SECRET})
    scheme, stored = validate_credentials(woo, {"api_key": KEY, "api_secret": SECRET})
    assert stored == {"api_key": KEY, "api_secret": SECRET}
    assert RAW[SLUG]["base_url"] == "https://{config.shop}/wp-json/wc/v3"
    assert woo.check.entity == "orders" and woo.check.action == "list"


def test_a_host_with_a_path_or_scheme_is_refused(httpserver, vendor) -> None:
    for shop in ("evil.example/x?", "https://shop.example.com"):
        with pytest.raises(Exception) as caught:
            execute_operation(
                manifest=build_manifest(RAW[SLUG]),
                credentials={"api_key": KEY, "api_secret": SECRET},
                config={"shop": shop},
                entity="orders",
                action="list",
                params={},
                limits=LIMITS,
            )
        assert "shop" in str(caught.value) or getattr(caught.value, "code", "") == "invalid_config"
    assert not vendor.requests

"""Every Shopify operation against a loopback stand-in that answers as Shopify's Admin API reference
(shopify.dev/docs/api/admin-rest and admin-graphql, version 2026-07) documents.

Each case is written from Shopify's reference, not from the manifest. Reads are REST: the request (GET, path under
/admin/api/2026-07, query, the X-Shopify-Access-Token header) and the answer: a list under the resource's plural key,
paged by a Link header carrying page_info, or one object under the singular key. Writes are GraphQL mutations
(POST /graphql.json, {"query", "variables"}), answering the mutation's payload with its userErrors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "shopify"
TOKEN = "shpat_depth_4242"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
GID = "gid://shopify/Product/632910392"

# REST reads: (entity, action, params, path, expected query, response key, kind)
REST_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, str], str, str]] = [
    ("abandoned_checkouts", "list", {"status": "closed", "limit": 250}, "/checkouts.json",
     {"status": "closed", "limit": "250"}, "checkouts", LIST),
    ("articles", "list", {"blog_id": 241253187, "published_status": "published", "tag": "Announcing"},
     "/blogs/241253187/articles.json", {"published_status": "published", "tag": "Announcing"}, "articles", LIST),
    ("articles", "get", {"blog_id": 241253187, "article_id": 134645308}, "/blogs/241253187/articles/134645308.json",
     {}, "article", ONE),
    ("balance_transactions", "list", {"payout_id": 623721858, "test": False},
     "/shopify_payments/balance/transactions.json", {"payout_id": "623721858", "test": "false"}, "transactions",
     LIST),
    ("blogs", "list", {"handle": "apple-blog"}, "/blogs.json", {"handle": "apple-blog"}, "blogs", LIST),
    ("blogs", "get", {"blog_id": 241253187, "fields": "id,title"}, "/blogs/241253187.json", {"fields": "id,title"},
     "blog", ONE),
    ("collects", "list", {"since_id": 5}, "/collects.json", {"since_id": "5"}, "collects", LIST),
    ("collects", "get", {"collect_id": 455204334}, "/collects/455204334.json", {}, "collect", ONE),
    ("countries", "list", {}, "/countries.json", {}, "countries", LIST),
    ("countries", "get", {"country_id": 879921427}, "/countries/879921427.json", {}, "country", ONE),
    ("custom_collections", "list", {"product_id": 632910392, "published_status": "any"}, "/custom_collections.json",
     {"product_id": "632910392", "published_status": "any"}, "custom_collections", LIST),
    ("custom_collections", "get", {"custom_collection_id": 841564295}, "/custom_collections/841564295.json", {},
     "custom_collection", ONE),
    ("customer_address", "list", {"customer_id": 207119551, "limit": 1}, "/customers/207119551/addresses.json",
     {"limit": "1"}, "addresses", LIST),
    ("customer_address", "get", {"customer_id": 207119551, "address_id": 207119551},
     "/customers/207119551/addresses/207119551.json", {}, "customer_address", ONE),
    ("customers", "list", {"updated_at_min": "2024-01-01T00:00:00-05:00", "ids": "207119551,1073339460"},
     "/customers.json", {"updated_at_min": "2024-01-01T00:00:00-05:00", "ids": "207119551,1073339460"}, "customers",
     LIST),
    ("customers", "get", {"customer_id": 207119551}, "/customers/207119551.json", {}, "customer", ONE),
    ("discount_codes", "list", {"price_rule_id": 507328175}, "/price_rules/507328175/discount_codes.json", {},
     "discount_codes", LIST),
    ("discount_codes", "get", {"price_rule_id": 507328175, "discount_code_id": 507328175},
     "/price_rules/507328175/discount_codes/507328175.json", {}, "discount_code", ONE),
    ("disputes", "list", {"status": "won"}, "/shopify_payments/disputes.json", {"status": "won"}, "disputes", LIST),
    ("disputes", "get", {"dispute_id": 598735659}, "/shopify_payments/disputes/598735659.json", {}, "dispute", ONE),
    ("draft_orders", "list", {"status": "invoice_sent"}, "/draft_orders.json", {"status": "invoice_sent"},
     "draft_orders", LIST),
    ("draft_orders", "get", {"draft_order_id": 994118539}, "/draft_orders/994118539.json", {}, "draft_order", ONE),
    ("fulfillment_orders", "list", {"order_id": 450789469}, "/orders/450789469/fulfillment_orders.json", {},
     "fulfillment_orders", LIST),
    ("fulfillment_orders", "get", {"fulfillment_order_id": 1046000778}, "/fulfillment_orders/1046000778.json", {},
     "fulfillment_order", ONE),
    ("fulfillments", "list", {"order_id": 450789469, "since_id": 255858046}, "/orders/450789469/fulfillments.json",
     {"since_id": "255858046"}, "fulfillments", LIST),
    ("fulfillments", "get", {"order_id": 450789469, "fulfillment_id": 255858046},
     "/orders/450789469/fulfillments/255858046.json", {}, "fulfillment", ONE),
    ("inventory_items", "list", {"ids": "808950810,39072856"}, "/inventory_items.json", {"ids": "808950810,39072856"},
     "inventory_items", LIST),
    ("inventory_items", "get", {"inventory_item_id": 808950810}, "/inventory_items/808950810.json", {},
     "inventory_item", ONE),
    ("inventory_levels", "list", {"location_id": 487838322}, "/locations/487838322/inventory_levels.json", {},
     "inventory_levels", LIST),
    ("locations", "list", {}, "/locations.json", {}, "locations", LIST),
    ("locations", "get", {"location_id": 487838322}, "/locations/487838322.json", {}, "location", ONE),
    ("metafield_articles", "list", {"blog_id": 1, "article_id": 2, "namespace": "my_fields"},
     "/blogs/1/articles/2/metafields.json", {"namespace": "my_fields"}, "metafields", LIST),
    ("metafield_blogs", "list", {"blog_id": 1}, "/blogs/1/metafields.json", {}, "metafields", LIST),
    ("metafield_customers", "list", {"customer_id": 3, "key": "nickname"}, "/customers/3/metafields.json",
     {"key": "nickname"}, "metafields", LIST),
    ("metafield_draft_orders", "list", {"draft_order_id": 4}, "/draft_orders/4/metafields.json", {}, "metafields",
     LIST),
    ("metafield_locations", "list", {"location_id": 5}, "/locations/5/metafields.json", {}, "metafields", LIST),
    ("metafield_orders", "list", {"order_id": 6, "type": "json"}, "/orders/6/metafields.json", {"type": "json"},
     "metafields", LIST),
    ("metafield_pages", "list", {"page_id": 7}, "/pages/7/metafields.json", {}, "metafields", LIST),
    ("metafield_product_images", "list", {"metafield[owner_id]": 850703190}, "/metafields.json",
     {"metafield[owner_id]": "850703190", "metafield[owner_resource]": "product_image"}, "metafields", LIST),
    ("metafield_product_variants", "list", {"variant_id": 8}, "/variants/8/metafields.json", {}, "metafields", LIST),
    ("metafield_products", "list", {"product_id": 9}, "/products/9/metafields.json", {}, "metafields", LIST),
    ("metafield_shops", "list", {"namespace": "inventory"}, "/metafields.json", {"namespace": "inventory"},
     "metafields", LIST),
    ("metafield_shops", "get", {"metafield_id": 721389482}, "/metafields/721389482.json", {}, "metafield", ONE),
    ("metafield_smart_collections", "list", {"smart_collection_id": 10}, "/smart_collections/10/metafields.json", {},
     "metafields", LIST),
    ("order_refunds", "list", {"order_id": 450789469, "in_shop_currency": True}, "/orders/450789469/refunds.json",
     {"in_shop_currency": "true"}, "refunds", LIST),
    ("order_refunds", "get", {"order_id": 450789469, "refund_id": 509562969},
     "/orders/450789469/refunds/509562969.json", {}, "refund", ONE),
    ("orders", "list", {"status": "any", "financial_status": "paid", "created_at_min": "2024-01-01T00:00:00Z"},
     "/orders.json", {"status": "any", "financial_status": "paid", "created_at_min": "2024-01-01T00:00:00Z"},
     "orders", LIST),
    ("orders", "get", {"order_id": 450789469, "fields": "id,line_items,name,total_price"}, "/orders/450789469.json",
     {"fields": "id,line_items,name,total_price"}, "order", ONE),
    ("pages", "list", {"title": "Contact"}, "/pages.json", {"title": "Contact"}, "pages", LIST),
    ("pages", "get", {"page_id": 131092082}, "/pages/131092082.json", {}, "page", ONE),
    ("price_rules", "list", {"times_used": 0}, "/price_rules.json", {"times_used": "0"}, "price_rules", LIST),
    ("price_rules", "get", {"price_rule_id": 507328175}, "/price_rules/507328175.json", {}, "price_rule", ONE),
    ("product_images", "list", {"product_id": 632910392}, "/products/632910392/images.json", {}, "images", LIST),
    ("product_images", "get", {"product_id": 632910392, "image_id": 850703190},
     "/products/632910392/images/850703190.json", {}, "image", ONE),
    ("product_variants", "list", {"product_id": 632910392, "presentment_currencies": "USD,EUR"},
     "/products/632910392/variants.json", {"presentment_currencies": "USD,EUR"}, "variants", LIST),
    ("product_variants", "get", {"variant_id": 808950810}, "/variants/808950810.json", {}, "variant", ONE),
    ("products", "list", {"status": "active", "vendor": "Apple", "collection_id": 841564295}, "/products.json",
     {"status": "active", "vendor": "Apple", "collection_id": "841564295"}, "products", LIST),
    ("products", "get", {"product_id": 632910392}, "/products/632910392.json", {}, "product", ONE),
    ("shop", "get", {}, "/shop.json", {}, "shop", ONE),
    ("smart_collections", "list", {"handle": "smart-ipods"}, "/smart_collections.json", {"handle": "smart-ipods"},
     "smart_collections", LIST),
    ("smart_collections", "get", {"smart_collection_id": 482865238}, "/smart_collections/482865238.json", {},
     "smart_collection", ONE),
    ("tender_transactions", "list", {"order": "processed_at ASC"}, "/tender_transactions.json",
     {"order": "processed_at ASC"}, "tender_transactions", LIST),
    ("transactions", "list", {"order_id": 450789469}, "/orders/450789469/transactions.json", {}, "transactions",
     LIST),
    ("transactions", "get", {"order_id": 450789469, "transaction_id": 389404469},
     "/orders/450789469/transactions/389404469.json", {}, "transaction", ONE),
]  # fmt: skip

DEL = {"input": {"id": GID}}
# GraphQL writes: (entity, action, params = the variables sent, mutation field)
GQL_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("articles", "create", {"article": {"blogId": "gid://shopify/Blog/1", "title": "Hi", "author": {"name": "Ann"}}},
     "articleCreate"),
    ("articles", "update", {"id": "gid://shopify/Article/2", "article": {"title": "New"}}, "articleUpdate"),
    ("articles", "delete", {"id": "gid://shopify/Article/2"}, "articleDelete"),
    ("blogs", "create", {"blog": {"title": "News"}}, "blogCreate"),
    ("blogs", "update", {"id": "gid://shopify/Blog/1", "blog": {"title": "Updates"}}, "blogUpdate"),
    ("blogs", "delete", {"id": "gid://shopify/Blog/1"}, "blogDelete"),
    ("custom_collections", "create", {"input": {"title": "Summer"}}, "collectionCreate"),
    ("custom_collections", "update", {"input": {"id": "gid://shopify/Collection/3", "title": "Fall"}},
     "collectionUpdate"),
    ("custom_collections", "delete", DEL, "collectionDelete"),
    ("customers", "create", {"input": {"email": "ann@example.com", "firstName": "Ann"}}, "customerCreate"),
    ("customers", "update", {"input": {"id": "gid://shopify/Customer/4", "note": "VIP"}}, "customerUpdate"),
    ("customers", "delete", DEL, "customerDelete"),
    ("discount_codes", "create", {"basicCodeDiscount": {"title": "10% off", "code": "TEN"}},
     "discountCodeBasicCreate"),
    ("discount_codes", "update", {"id": "gid://shopify/DiscountCodeNode/5", "basicCodeDiscount": {"title": "15%"}},
     "discountCodeBasicUpdate"),
    ("discount_codes", "delete", {"id": "gid://shopify/DiscountCodeNode/5"}, "discountCodeDelete"),
    ("draft_order_complete", "update", {"id": "gid://shopify/DraftOrder/6"}, "draftOrderComplete"),
    ("draft_orders", "create", {"input": {"email": "a@example.com", "lineItems": [{"title": "X", "quantity": 1}]}},
     "draftOrderCreate"),
    ("draft_orders", "update", {"id": "gid://shopify/DraftOrder/6", "input": {"note": "rush"}}, "draftOrderUpdate"),
    ("draft_orders", "delete", DEL, "draftOrderDelete"),
    ("inventory_adjust", "create",
     {"input": {"name": "available", "reason": "correction", "changes": [{"delta": -4,
      "inventoryItemId": "gid://shopify/InventoryItem/7", "locationId": "gid://shopify/Location/8"}]}},
     "inventoryAdjustQuantities"),
    ("inventory_set", "create",
     {"input": {"name": "available", "reason": "correction", "quantities": [{"quantity": 11,
      "inventoryItemId": "gid://shopify/InventoryItem/7", "locationId": "gid://shopify/Location/8"}]}},
     "inventorySetQuantities"),
    ("metafields", "create",
     {"metafields": [{"ownerId": GID, "namespace": "custom", "key": "color", "type": "single_line_text_field",
                      "value": "red"}]}, "metafieldsSet"),
    ("metafields", "delete", {"metafields": [{"ownerId": GID, "namespace": "custom", "key": "color"}]},
     "metafieldsDelete"),
    ("orders", "create", {"order": {"email": "a@example.com", "lineItems": [{"variantId": "gid://shopify/ProductVariant/9",
     "quantity": 1}]}}, "orderCreate"),
    ("orders", "update", {"input": {"id": "gid://shopify/Order/10", "tags": ["vip"]}}, "orderUpdate"),
    ("orders", "delete", {"orderId": "gid://shopify/Order/10", "reason": "CUSTOMER", "restock": True,
     "refundMethod": {"originalPaymentMethodsRefund": True}}, "orderCancel"),
    ("pages", "create", {"page": {"title": "About", "body": "<p>Hi</p>"}}, "pageCreate"),
    ("pages", "update", {"id": "gid://shopify/Page/11", "page": {"title": "About us"}}, "pageUpdate"),
    ("pages", "delete", {"id": "gid://shopify/Page/11"}, "pageDelete"),
    ("product_variants", "create", {"productId": GID, "variants": [{"price": "9.99"}]}, "productVariantsBulkCreate"),
    ("product_variants", "update", {"productId": GID, "variants": [{"id": "gid://shopify/ProductVariant/9",
     "price": "8.99"}]}, "productVariantsBulkUpdate"),
    ("product_variants", "delete", {"productId": GID, "variantsIds": ["gid://shopify/ProductVariant/9"]},
     "productVariantsBulkDelete"),
    ("products", "create", {"product": {"title": "Snowboard", "status": "DRAFT"}}, "productCreate"),
    ("products", "update", {"product": {"id": GID, "title": "Board"}}, "productUpdate"),
    ("products", "delete", DEL, "productDelete"),
]  # fmt: skip

ALL = {f"{c[0]}.{c[1]}" for c in REST_CASES} | {f"{c[0]}.{c[1]}" for c in GQL_CASES}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("") + "admin/api/2026-07"),
        credentials=kwargs.pop("credentials", {"api_key": TOKEN}),
        config={"shop": "acme-store"},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _link(httpserver, path: str, next_info: str | None, prev_info: str | None = "p0") -> dict[str, str]:
    """Shopify's Link header: previous and next links whose query holds only limit and page_info."""
    base = httpserver.url_for(f"/admin/api/2026-07{path}")
    parts = []
    if prev_info:
        parts.append(f'<{base}?limit=50&page_info={prev_info}>; rel="previous"')
    if next_info:
        parts.append(f'<{base}?limit=50&page_info={next_info}>; rel="next"')
    return {"Link": ", ".join(parts)} if parts else {}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert len(ALL) == len(REST_CASES) + len(GQL_CASES) == 99
    assert ours == ALL, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "9da77001-af33-4bcd-be46-6252bf9342b9"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
        assert ours == reference


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "query", "key", "kind"),
    REST_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in REST_CASES],
)
def test_rest_read(httpserver, vendor, entity, action, params, path, query, key, kind) -> None:
    one = {"id": 1, "title": "One"}
    if kind == LIST:
        vendor.answer({key: [{"id": 1}, {"id": 2}]}, headers=_link(httpserver, path, "n1"))
    else:
        vendor.answer({key: one})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", f"/admin/api/2026-07{path}")
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert "Authorization" not in request.headers
    assert query_of(request) == query
    assert TOKEN not in request.query_string.decode()
    assert not vendor.bodies[-1]
    if kind == LIST:
        assert [r["id"] for r in result.result] == [1, 2]
        assert result.has_next_page is True and result.end_cursor
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


@pytest.mark.parametrize(
    ("entity", "action", "params", "mutation"), GQL_CASES, ids=[f"{c[0]}.{c[1]}" for c in GQL_CASES]
)
def test_graphql_write(httpserver, vendor, entity, action, params, mutation) -> None:
    payload = {"userErrors": [], "node": {"id": "gid://shopify/Thing/1"}}
    vendor.answer({"data": {mutation: payload}, "extensions": {"cost": {"requestedQueryCost": 10}}})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("POST", "/admin/api/2026-07/graphql.json")
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"].startswith("application/json")
    assert not query_of(request)
    body = json.loads(vendor.bodies[-1])
    assert set(body) == {"query", "variables"}
    assert body["variables"] == params
    query = " ".join(body["query"].split())
    assert query.startswith("mutation ")
    assert f" {mutation}(" in query
    assert "userErrors {" in query or "orderCancelUserErrors {" in query
    for name in params:  # every variable is declared and passed to the mutation
        assert f"${name}:" in query and f"{name}: ${name}" in query
    assert result.result == payload


# --- Pagination -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("entity", "path", "key"), [("orders", "/orders.json", "orders"),
                                                     ("products", "/products.json", "products")])  # fmt: skip
def test_next_page_sends_only_page_info_and_limit(httpserver, vendor, entity, path, key) -> None:
    """Shopify refuses filters beside page_info: the next link's query replaces the caller's."""
    vendor.answer({key: [{"id": 1}]}, headers=_link(httpserver, path, "eyJsYXN0X2lkIjo0fQ", prev_info=None))
    vendor.answer({key: [{"id": 2}]}, headers=_link(httpserver, path, None, prev_info="p1"))
    first = _run(httpserver, entity, "list", {"created_at_min": "2024-01-01T00:00:00Z", "limit": 50})
    last = _run(httpserver, entity, "list", {"cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == {"created_at_min": "2024-01-01T00:00:00Z", "limit": "50"}
    assert vendor.requests[1].path == f"/admin/api/2026-07{path}"
    assert query_of(vendor.requests[1]) == {"limit": "50", "page_info": "eyJsYXN0X2lkIjo0fQ"}
    assert vendor.requests[1].headers["X-Shopify-Access-Token"] == TOKEN
    assert [r["id"] for r in last.result] == [2]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # only a "previous" link: the last page


def test_a_page_without_a_link_header_is_the_last(httpserver, vendor) -> None:
    vendor.answer({"customers": [{"id": 1}]})
    result = _run(httpserver, "customers", "list", {})
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_limits_are_shopifys_bounds(manifests) -> None:
    shopify = manifests[SLUG]
    assert validate_params(shopify, "orders", "list", {"limit": 251})
    assert validate_params(shopify, "orders", "list", {"limit": 0})
    assert not validate_params(shopify, "orders", "list", {"limit": 250})
    assert validate_params(shopify, "orders", "list", {"status": "shipped"})
    assert validate_params(shopify, "inventory_items", "list", {})  # ids are required
    assert validate_params(shopify, "products", "delete", {"input": {"id": "632910392"}})  # needs a gid
    assert validate_params(shopify, "metafields", "create", {"metafields": []})


# --- Aliases ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("custom_collections", "get", {"collection_id": 841564295}, "/custom_collections/841564295.json"),
        ("smart_collections", "get", {"collection_id": 482865238}, "/smart_collections/482865238.json"),
        ("metafield_smart_collections", "list", {"collection_id": 10}, "/smart_collections/10/metafields.json"),
        ("metafield_product_images", "list", {"image_id": 850703190}, "/metafields.json"),
    ],
)
def test_airbyte_path_param_names_are_accepted(httpserver, vendor, entity, action, params, path) -> None:
    vendor.answer({"x": {}})
    _run(httpserver, entity, action, params)
    assert vendor.last.path == f"/admin/api/2026-07{path}"


def test_graphql_id_aliases(httpserver, vendor) -> None:
    vendor.answer({"data": {"productVariantsBulkDelete": {"userErrors": []}}})
    _run(httpserver, "product_variants", "delete", {"product_id": GID, "variantsIds": [GID]})
    assert json.loads(vendor.bodies[-1])["variables"] == {"productId": GID, "variantsIds": [GID]}


# --- Errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
         "credentials_rejected"),
        (404, {"errors": "Not Found"}, "not_found"),
        (422, {"errors": {"title": ["can't be blank"]}}, "bad_request"),
    ],
)  # fmt: skip
def test_rest_errors(httpserver, vendor, status, body, code) -> None:
    vendor.answer(body, status=status)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "products", "get", {"product_id": 1})
    assert caught.value.code == code
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("gql_code", "code"), [("THROTTLED", "rate_limited"), ("ACCESS_DENIED", "credentials_rejected")]
)
def test_graphql_errors_are_classified(httpserver, vendor, gql_code, code) -> None:
    vendor.answer({"errors": [{"message": "Throttled", "extensions": {"code": gql_code}}]})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "products", "delete", DEL)
    assert caught.value.code == code


def test_a_429_is_rate_limited_with_retry_after(httpserver, vendor) -> None:
    message = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
    vendor.answer({"errors": message}, status=429, headers={"Retry-After": "2.0"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "orders", "list", {})
    assert caught.value.code == "rate_limited"


# --- Auth -------------------------------------------------------------------------------------------------------


def test_oauth_access_token_goes_in_the_shopify_header(httpserver, vendor) -> None:
    vendor.answer({"shop": {"id": 1}})
    _run(httpserver, "shop", "get", {}, credentials={"access_token": "shpua_oauth"}, auth_scheme="oauth")
    assert vendor.last.headers["X-Shopify-Access-Token"] == "shpua_oauth"
    assert "Authorization" not in vendor.last.headers


def test_oauth_urls_and_base_url_are_on_the_shops_host(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert oauth.authorization_url == "https://{config.shop}.myshopify.com/admin/oauth/authorize"
    assert oauth.token_url == "https://{config.shop}.myshopify.com/admin/oauth/access_token"
    assert oauth.scope_separator == ","
    assert {"read_orders", "read_products", "write_products", "read_customers"} <= set(oauth.scopes)
    assert RAW[SLUG]["base_url"] == "https://{config.shop}.myshopify.com/admin/api/2026-07"


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"api_key": TOKEN}, "access_token", {"auth_method": "api_password", "api_key": TOKEN}),
        ({"api_password": TOKEN}, "access_token", {"auth_method": "api_password", "api_key": TOKEN}),
        ({"auth_method": "api_password", "api_password": TOKEN}, "access_token",
         {"auth_method": "api_password", "api_key": TOKEN}),
        ({"auth_method": "oauth2.0", "client_id": "c", "client_secret": "s", "access_token": "t"}, "oauth",
         {"auth_method": "oauth2.0", "client_id": "c", "client_secret": "s", "access_token": "t"}),
        ({"access_token": "t"}, "oauth", {"auth_method": "oauth2.0", "access_token": "t"}),
    ],
)  # fmt: skip
def test_airbyte_credential_shapes_are_stored_under_ours(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests[SLUG], credentials)
    assert chosen.key == scheme
    assert normalised == stored


def test_a_token_under_both_names_is_refused(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests[SLUG], {"api_key": "a", "api_password": "b"})
    assert {e.error_code for e in caught.value.errors} == {"conflicting_fields"}


def test_check_is_a_cheap_read(manifests) -> None:
    check = manifests[SLUG].check
    assert (check.entity, check.action, check.params) == ("shop", "get", {"fields": "id,name"})

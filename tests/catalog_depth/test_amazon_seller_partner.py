"""Every Amazon Selling Partner API operation against a loopback stand-in that answers as Amazon's SP-API reference
(developer-docs.amazon.com/sp-api) documents.

Each case is written from Amazon's reference, not from the manifest: the request (method, path, query with array
params comma-separated; the Login with Amazon access token in x-amz-access-token, no Authorization header) and what
comes back: v0 APIs (orders, finances, sellers) wrap the answer in {"payload": ...} and page with payload.NextToken;
Catalog Items 2022-04-01 answers {"items": [...], "pagination": {"nextToken"}} or a bare item; Reports 2021-06-30
answers {"reports": [...], "nextToken"} or a bare report.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

SLUG = "amazon-seller-partner"
TOKEN = "Atza|spapi_depth_access_4242"
CLIENT_ID = "amzn1.application-oa2-client.depth42"
CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": "s3cret", "refresh_token": "Atzr|r", "access_token": TOKEN}
US = "ATVPDKIKX0DER"
ORDER = "902-1845936-5435065"
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"

# (entity, action, params, method, path, expected query, records path in the answer (None: the whole body),
#  next-token path in the answer (None: not paginated), kind)
SPAPI_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str | None, str | None, str]] = [
    ("catalog_items", "get", {"asin": "B07N4M94X4", "marketplaceIds": [US], "includedData": ["summaries", "images"]},
     "GET", "/catalog/2022-04-01/items/B07N4M94X4", {"marketplaceIds": US, "includedData": "summaries,images"},
     None, None, ONE),
    ("catalog_items", "list", {"marketplaceIds": [US], "keywords": ["blender", "krups"], "pageSize": 20}, "GET",
     "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "blender,krups", "pageSize": "20"}, "items",
     "pagination.nextToken", LIST),
    ("list_financial_event_groups", "list", {"FinancialEventGroupStartedAfter": "2026-01-01T00:00:00Z",
                                             "MaxResultsPerPage": 50}, "GET", "/finances/v0/financialEventGroups",
     {"FinancialEventGroupStartedAfter": "2026-01-01T00:00:00Z", "MaxResultsPerPage": "50"},
     "payload.FinancialEventGroupList", "payload.NextToken", LIST),
    ("list_financial_events", "list", {"PostedAfter": "2026-01-01T00:00:00Z", "PostedBefore": "2026-01-31T00:00:00Z"},
     "GET", "/finances/v0/financialEvents",
     {"PostedAfter": "2026-01-01T00:00:00Z", "PostedBefore": "2026-01-31T00:00:00Z"}, "payload.FinancialEvents",
     "payload.NextToken", LIST),
    ("marketplace_participations", "list", {}, "GET", "/sellers/v1/marketplaceParticipations", {}, "payload", None,
     LIST),
    ("order_items", "list", {"orderId": ORDER}, "GET", f"/orders/v0/orders/{ORDER}/orderItems", {},
     "payload.OrderItems", "payload.NextToken", LIST),
    ("orders", "get", {"orderId": ORDER}, "GET", f"/orders/v0/orders/{ORDER}", {}, "payload", None, ONE),
    ("orders", "list", {"MarketplaceIds": [US, "A2EUQ1WTGCTBG2"], "CreatedAfter": "2026-01-01T00:00:00Z",
                        "OrderStatuses": ["Unshipped", "PartiallyShipped"]}, "GET", "/orders/v0/orders",
     {"MarketplaceIds": f"{US},A2EUQ1WTGCTBG2", "CreatedAfter": "2026-01-01T00:00:00Z",
      "OrderStatuses": "Unshipped,PartiallyShipped"}, "payload.Orders", "payload.NextToken", LIST),
    ("reports", "get", {"reportId": "ID323"}, "GET", "/reports/2021-06-30/reports/ID323", {}, None, None, ONE),
    ("reports", "list", {"reportTypes": ["GET_MERCHANT_LISTINGS_ALL_DATA"], "processingStatuses": ["DONE"]}, "GET",
     "/reports/2021-06-30/reports", {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "processingStatuses": "DONE"},
     "reports", "nextToken", LIST),
]  # fmt: skip


def _nest(path: str | None, value: Any, into: dict[str, Any]) -> None:
    if path is None:
        return
    parts = path.split(".")
    node = into
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", CREDENTIALS),
        config=kwargs.pop("config", {"api_host": "sellingpartnerapi-na.amazon.com"}),
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _query(request) -> dict[str, str]:
    parsed = parse_qs(request.query_string.decode(), keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {name: values[0] for name, values in parsed.items()}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SPAPI_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "e55879a8-0ef8-4557-abcf-ab34c53ec460"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert len(reference) == 9
        assert reference <= ours
        assert ours - reference == {"marketplace_participations.list"}


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "records_at", "next_at", "kind"),
    SPAPI_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SPAPI_CASES],
)
def test_spapi_operation(httpserver, vendor, entity, action, params, method, path, query, records_at, next_at, kind):
    if kind == ONE:
        record = {"AmazonOrderId": ORDER} if records_at else {"asin": "B07N4M94X4", "reportId": "ID323"}
        answer: dict[str, Any] = {}
        _nest(records_at, record, answer)
        if records_at is None:
            answer = record
    else:
        records: Any = (
            {"ShipmentEventList": [{"AmazonOrderId": ORDER}], "RefundEventList": []}
            if entity == "list_financial_events"
            else [{"id": "1"}, {"id": "2"}]
        )
        answer = {}
        _nest(records_at, records, answer)
        _nest(next_at, "token-page-2", answer)
    vendor.answer(answer)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["x-amz-access-token"] == TOKEN
    assert "Authorization" not in request.headers
    assert _query(request) == query
    assert not vendor.bodies[-1]
    if kind == ONE:
        assert result.result == record
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif entity == "list_financial_events":
        assert result.result["ShipmentEventList"] == [{"AmazonOrderId": ORDER}]
        assert (result.has_next_page, result.end_cursor) == (True, "token-page-2")
    else:
        assert [r["id"] for r in result.result] == ["1", "2"]
        assert (result.has_next_page, result.end_cursor) == ((True, "token-page-2") if next_at else (False, None))


def test_next_orders_page_sends_next_token_with_the_same_filters(httpserver, vendor) -> None:
    vendor.answer({"payload": {"Orders": [{"AmazonOrderId": "1"}], "NextToken": "2YgYW55IGNhcm5hbCBwbGVhcw=="}})
    vendor.answer({"payload": {"Orders": [{"AmazonOrderId": "2"}], "CreatedBefore": "2026-02-01T00:00:00Z"}})
    params = {"MarketplaceIds": [US], "CreatedAfter": "2026-01-01T00:00:00Z", "MaxResultsPerPage": 1}
    first = _run(httpserver, "orders", "list", params)
    assert (first.has_next_page, first.end_cursor) == (True, "2YgYW55IGNhcm5hbCBwbGVhcw==")
    last = _run(httpserver, "orders", "list", {**params, "cursor": first.end_cursor})
    assert _query(vendor.last) == {
        "MarketplaceIds": US,
        "CreatedAfter": "2026-01-01T00:00:00Z",
        "MaxResultsPerPage": "1",
        "NextToken": "2YgYW55IGNhcm5hbCBwbGVhcw==",
    }
    assert [r["AmazonOrderId"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_next_catalog_page_sends_page_token(httpserver, vendor) -> None:
    vendor.answer({"numberOfResults": 2, "items": [{"asin": "A"}], "pagination": {"nextToken": "xsdflkj324lkjsdlkj"}})
    vendor.answer({"numberOfResults": 2, "items": [{"asin": "B"}], "pagination": {"previousToken": "x"}})
    params = {"marketplaceIds": [US], "identifiers": ["A", "B"], "identifiersType": "ASIN", "pageSize": 1}
    first = _run(httpserver, "catalog_items", "list", params)
    last = _run(httpserver, "catalog_items", "list", {**params, "cursor": first.end_cursor})
    assert _query(vendor.last)["pageToken"] == "xsdflkj324lkjsdlkj"
    assert _query(vendor.last)["identifiers"] == "A,B"
    assert [r["asin"] for r in last.result] == ["B"]
    assert last.has_next_page is False


def test_next_reports_page_sends_next_token_alone(httpserver, vendor) -> None:
    # Amazon refuses nextToken with any other parameter, so the next page needs no reportTypes.
    vendor.answer({"reports": [{"reportId": "1"}], "nextToken": "VGhpcyBpcyBhIHRva2Vu"})
    vendor.answer({"reports": [{"reportId": "2"}]})
    first = _run(httpserver, "reports", "list", {"reportTypes": ["GET_FLAT_FILE_OPEN_LISTINGS_DATA"]})
    last = _run(httpserver, "reports", "list", {"cursor": first.end_cursor})
    assert _query(vendor.last) == {"nextToken": "VGhpcyBpcyBhIHRva2Vu"}
    assert [r["reportId"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_region_is_stored_as_its_api_host(manifests) -> None:
    spapi = manifests[SLUG]
    assert validate_replication_config(spapi, {"region": "eu"}) == {"api_host": "sellingpartnerapi-eu.amazon.com"}
    assert validate_replication_config(spapi, {"region": "fe"}) == {"api_host": "sellingpartnerapi-fe.amazon.com"}
    assert validate_replication_config(spapi, {"region": "na"}) == {"api_host": "sellingpartnerapi-na.amazon.com"}
    sandbox = {"api_host": "sandbox.sellingpartnerapi-eu.amazon.com"}
    assert validate_replication_config(spapi, sandbox) == sandbox
    with pytest.raises(InvalidInput):
        validate_replication_config(spapi, {"region": "eu", "api_host": "sellingpartnerapi-na.amazon.com"})
    with pytest.raises(InvalidInput):
        validate_replication_config(spapi, {"region": "us"})
    with pytest.raises(InvalidInput):
        validate_replication_config(spapi, {"api_host": "evil.example.com"})


def test_the_configured_region_host_is_called(manifests) -> None:
    spapi = manifests[SLUG]
    assert spapi.base_url == "https://{config.api_host}"
    assert spapi.config_defaults["api_host"] == "sellingpartnerapi-na.amazon.com"
    assert set(RAW[SLUG]["allowed_hosts"]) >= {
        "sellingpartnerapi-na.amazon.com",
        "sellingpartnerapi-eu.amazon.com",
        "sellingpartnerapi-fe.amazon.com",
    }


@pytest.mark.parametrize(
    "credentials",
    [
        {"lwa_app_id": CLIENT_ID, "lwa_client_secret": "s3cret", "refresh_token": "Atzr|r"},
        {"lwa_app_id": CLIENT_ID, "lwa_client_secret": "s3cret", "refresh_token": "Atzr|r", "auth_type": "oauth2.0"},
        {"client_id": CLIENT_ID, "client_secret": "s3cret", "refresh_token": "Atzr|r"},
    ],
    ids=["airbyte", "airbyte-replication", "ours"],
)
def test_lwa_credential_names_are_accepted(manifests, credentials) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], credentials)
    assert scheme.key == "oauth2"
    assert (stored["client_id"], stored["client_secret"], stored["refresh_token"]) == (CLIENT_ID, "s3cret", "Atzr|r")
    assert "lwa_app_id" not in stored and "lwa_client_secret" not in stored


def test_conflicting_lwa_names_are_refused(manifests) -> None:
    with pytest.raises(InvalidInput):
        validate_credentials(
            manifests[SLUG],
            {"lwa_app_id": CLIENT_ID, "client_id": "other", "client_secret": "s", "refresh_token": "r"},
        )
    with pytest.raises(InvalidInput):
        validate_credentials(manifests[SLUG], {"lwa_app_id": CLIENT_ID, "lwa_client_secret": "s3cret"})


def test_oauth_refreshes_at_login_with_amazon(manifests) -> None:
    scheme = manifests[SLUG].oauth_scheme()
    assert scheme.oauth.token_url == "https://api.amazon.com/auth/o2/token"
    assert scheme.oauth.client_auth == "body"
    assert scheme.oauth.token_body == "form"
    assert scheme.oauth.rotates_refresh_token is False
    assert scheme.credentials_schema["required"] == ["client_id", "client_secret", "refresh_token"]


def test_params_are_amazons(manifests) -> None:
    spapi = manifests[SLUG]
    assert validate_params(spapi, "orders", "list", {"CreatedAfter": "2026-01-01T00:00:00Z"})  # MarketplaceIds
    assert validate_params(spapi, "orders", "list", {"MarketplaceIds": [US], "MaxResultsPerPage": 101})
    assert validate_params(spapi, "orders", "list", {"MarketplaceIds": [US], "OrderStatuses": ["Open"]})
    assert validate_params(spapi, "catalog_items", "list", {"marketplaceIds": [US], "pageSize": 21})
    assert validate_params(spapi, "catalog_items", "list", {"marketplaceIds": [US, "A1F83G8C2ARO7P"]})
    assert validate_params(spapi, "catalog_items", "get", {"asin": "B07N4M94X4"})
    assert validate_params(spapi, "reports", "list", {"processingStatuses": ["FINISHED"]})
    assert not validate_params(spapi, "orders", "list", {"MarketplaceIds": [US], "FulfillmentChannels": ["AFN"]})
    assert not validate_params(spapi, "reports", "list", {"cursor": "abc"})


def test_a_path_id_alias_is_sent_as_the_path(httpserver, vendor) -> None:
    vendor.answer({"payload": {"AmazonOrderId": ORDER}})
    _run(httpserver, "orders", "get", {"order_id": ORDER})
    assert vendor.last.path == f"/orders/v0/orders/{ORDER}"


def test_an_expired_token_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer(
        {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]},
        status=403,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "orders", "get", {"orderId": ORDER})
    assert caught.value.code == "credentials_rejected"
    assert "denied" in str(caught.value)


def test_quota_exceeded_is_rate_limited(httpserver, vendor) -> None:
    vendor.answer(
        {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]},
        status=429,
        headers={"x-amzn-RateLimit-Limit": "0.0167"},
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "orders", "list", {"MarketplaceIds": [US], "CreatedAfter": "2026-01-01T00:00:00Z"})
    assert caught.value.code == "rate_limited"


def test_a_missing_access_token_fails_before_any_call(httpserver, vendor) -> None:
    credentials = {k: v for k, v in CREDENTIALS.items() if k != "access_token"}
    with pytest.raises(Exception) as caught:
        _run(httpserver, "marketplace_participations", "list", {}, credentials=credentials)
    assert getattr(caught.value, "code", None) == "credentials_missing"
    assert not vendor.bodies


def test_check_is_a_cheap_read(manifests) -> None:
    check = manifests[SLUG].check
    assert (check.entity, check.action) == ("marketplace_participations", "list")

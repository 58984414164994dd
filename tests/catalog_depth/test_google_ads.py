"""Every Google Ads operation against a loopback stand-in that answers as Google's Google Ads API v23 REST reference
(developers.google.com/google-ads/api/rest/reference/rest) documents.

Each case is written from Google's reference, not from the manifest: the request (method, path under `/v23`, the
exact JSON body: a GAQL `query` for `googleAds:search`, `operations` for the mutate services; the bearer access
token, the `developer-token` header, and `login-customer-id` when the connection names a manager account) and the
answer: `{"results": [...], "nextPageToken": ..., "fieldMask": ...}` for searches, `{"resourceNames": [...]}` for
listAccessibleCustomers, `{"results": [{"resourceName": ...}]}` for mutates.
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

SLUG = "google-ads"
ACCESS = "ya29.ads_depth_4242"
DEV = "devtok_ABCDEF123"
CREDENTIALS = {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-s", "refresh_token": "1//r",
               "developer_token": DEV}  # fmt: skip
LIMITS = Limits(max_attempts=1)
NEXT = "CNiGt4LrAxgCKAA"
C = "/v23/customers/1234567890"
SEARCH = f"{C}/googleAds:search"
SEARCH_ROWS, RESOURCE_NAMES, MUTATE = "search", "resource_names", "mutate"
CID = {"customerId": "1234567890"}


def _from(resource: str) -> str:
    """The FROM clause of a GAQL query: what each entity's search reads."""
    return f" FROM {resource}"


LABEL_OP = [{"create": {"adGroup": f"{C[1:]}/adGroups/5", "label": f"{C[1:]}/labels/7"}}]
CAMPAIGN_LABEL_OP = [{"create": {"campaign": f"{C[1:]}/campaigns/9", "label": f"{C[1:]}/labels/7"}}]
PAUSE_GROUP = [{"update": {"resourceName": f"{C[1:]}/adGroups/5", "status": "PAUSED"}, "updateMask": "status"}]
PAUSE_CAMPAIGN = [{"update": {"resourceName": f"{C[1:]}/campaigns/9", "status": "PAUSED"}, "updateMask": "status"}]
NEW_LABEL = [{"create": {"name": "Q3 push", "textLabel": {"backgroundColor": "#e993eb"}}}]

# (entity, action, params, method, path, body: exact dict, or the GAQL FROM clause the query must hold, kind)
ADS_CASES: list[tuple[str, str, dict[str, Any], str, str, Any, str]] = [
    ("accessible_customers", "list", {}, "GET", "/v23/customers:listAccessibleCustomers", None, RESOURCE_NAMES),
    ("accounts", "list", CID, "POST", SEARCH, _from("customer"), SEARCH_ROWS),
    ("ad_group_ad_labels", "list", CID, "POST", SEARCH, _from("ad_group_ad_label"), SEARCH_ROWS),
    ("ad_group_ads", "list", CID, "POST", SEARCH, _from("ad_group_ad"), SEARCH_ROWS),
    ("ad_group_labels", "create", {**CID, "operations": LABEL_OP}, "POST", f"{C}/adGroupLabels:mutate",
     {"operations": LABEL_OP}, MUTATE),
    ("ad_group_labels", "list", CID, "POST", SEARCH, _from("ad_group_label"), SEARCH_ROWS),
    ("ad_groups", "list", CID, "POST", SEARCH, _from("ad_group"), SEARCH_ROWS),
    ("ad_groups", "update", {**CID, "operations": PAUSE_GROUP, "partialFailure": True}, "POST",
     f"{C}/adGroups:mutate", {"operations": PAUSE_GROUP, "partialFailure": True}, MUTATE),
    ("campaign_labels", "create", {**CID, "operations": CAMPAIGN_LABEL_OP, "validateOnly": True}, "POST",
     f"{C}/campaignLabels:mutate", {"operations": CAMPAIGN_LABEL_OP, "validateOnly": True}, MUTATE),
    ("campaign_labels", "list", CID, "POST", SEARCH, _from("campaign_label"), SEARCH_ROWS),
    ("campaigns", "list", CID, "POST", SEARCH, _from("campaign"), SEARCH_ROWS),
    ("campaigns", "update", {**CID, "operations": PAUSE_CAMPAIGN, "responseContentType": "MUTABLE_RESOURCE"},
     "POST", f"{C}/campaigns:mutate", {"operations": PAUSE_CAMPAIGN, "responseContentType": "MUTABLE_RESOURCE"},
     MUTATE),
    ("labels", "create", {**CID, "operations": NEW_LABEL}, "POST", f"{C}/labels:mutate", {"operations": NEW_LABEL},
     MUTATE),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in ADS_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 13
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours
    assert manifest.definition_id == "253487c0-2246-43ba-a21f-5116b20a2c50"


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "body", "kind"),
    ADS_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in ADS_CASES],
)
def test_google_ads_operation(httpserver, vendor, entity, action, params, method, path, body, kind) -> None:
    answers = {
        SEARCH_ROWS: {"results": [{"campaign": {"resourceName": f"{C[1:]}/campaigns/9", "id": "9"}},
                                 {"campaign": {"resourceName": f"{C[1:]}/campaigns/10", "id": "10"}}],
                      "nextPageToken": NEXT, "fieldMask": "campaign.id", "queryResourceConsumption": "40"},
        RESOURCE_NAMES: {"resourceNames": ["customers/1234567890", "customers/9876543210"]},
        MUTATE: {"results": [{"resourceName": f"{C[1:]}/labels/7"}]},
    }  # fmt: skip
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.query_string == b""
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.headers["developer-token"] == DEV
    assert "login-customer-id" not in request.headers
    raw = vendor.bodies[-1].decode()
    assert ACCESS not in raw and DEV not in raw
    if kind == RESOURCE_NAMES:
        assert not vendor.bodies[-1]
        assert result.result == ["customers/1234567890", "customers/9876543210"]
        assert result.has_next_page is False
        return
    sent = json.loads(vendor.bodies[-1])
    assert request.headers["Content-Type"].startswith("application/json")
    if kind == SEARCH_ROWS:
        assert set(sent) == {"query"}
        query = " ".join(sent["query"].split())
        assert query.startswith("SELECT ") and query.endswith(body), query
        assert [r["campaign"]["id"] for r in result.result] == ["9", "10"]
        assert (result.has_next_page, result.end_cursor) == (True, NEXT)
    else:
        assert sent == body
        assert result.result == answers[MUTATE]


def test_a_query_of_ones_own_replaces_the_entitys(httpserver, vendor) -> None:
    gaql = "SELECT campaign.id, metrics.clicks FROM campaign WHERE segments.date DURING LAST_7_DAYS"
    vendor.answer({"results": []})
    _run(httpserver, "campaigns", "list", {**CID, "query": gaql, "returnTotalResultsCount": True})
    assert json.loads(vendor.bodies[-1]) == {"query": gaql, "returnTotalResultsCount": True}


def test_the_next_page_sends_the_page_token_in_the_body(httpserver, vendor) -> None:
    vendor.answer({"results": [{"adGroup": {"id": "1"}}], "nextPageToken": NEXT})
    vendor.answer({"results": [{"adGroup": {"id": "2"}}], "fieldMask": "ad_group.id"})
    first = _run(httpserver, "ad_groups", "list", CID)
    last = _run(httpserver, "ad_groups", "list", {**CID, "cursor": first.end_cursor})
    before, after = json.loads(vendor.bodies[0]), json.loads(vendor.bodies[1])
    assert "pageToken" not in before
    assert after == {**before, "pageToken": NEXT}
    assert vendor.requests[1].path == SEARCH and vendor.requests[1].query_string == b""
    assert [r["adGroup"]["id"] for r in last.result] == ["2"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_manager_account_is_sent_as_login_customer_id(httpserver, vendor, manifests) -> None:
    vendor.answer({"results": []})
    _run(httpserver, "campaigns", "list", CID, config={"login_customer_id": "5555555555"})
    assert vendor.last.headers["login-customer-id"] == "5555555555"
    assert validate_replication_config(manifests[SLUG], {}) == {}
    with pytest.raises(InvalidInput) as caught:
        validate_replication_config(manifests[SLUG], {"login_customer_id": "555-555-5555"})
    assert [e.field for e in caught.value.errors] == ["replication_config.login_customer_id"]


def test_airbytes_customer_id_builds_the_same_request(httpserver, vendor, manifests) -> None:
    vendor.answer({"results": []})
    _run(httpserver, "campaigns", "list", {"customer_id": "1234567890"})
    assert vendor.last.path == SEARCH
    errors = validate_params(manifests[SLUG], "campaigns", "list", {"customerId": "1", "customer_id": "2"})
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}


@pytest.mark.parametrize(
    ("entity", "action", "params", "field"),
    [
        ("campaigns", "list", {"customerId": "123-456-7890"}, "params.customerId"),
        ("campaigns", "list", {**CID, "summaryRowSetting": "ALL"}, "params.summaryRowSetting"),
        ("labels", "create", CID, "params.operations"),
        ("labels", "create", {**CID, "operations": []}, "params.operations"),
        ("campaigns", "update", {**CID, "operations": PAUSE_CAMPAIGN, "responseContentType": "FULL"},
         "params.responseContentType"),
    ],
)  # fmt: skip
def test_params_follow_googles_reference(manifests, entity, action, params, field) -> None:
    errors = validate_params(manifests[SLUG], entity, action, params)
    assert field in [e["field"] for e in errors]


def test_mutates_are_not_repeated_after_a_server_error(httpserver, vendor) -> None:
    vendor.answer({"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}, status=500)
    with pytest.raises(UpstreamError):
        _run(httpserver, "labels", "create", {**CID, "operations": NEW_LABEL},
             limits=Limits(max_attempts=3, max_retry_seconds=30), sleep=lambda _: None)  # fmt: skip
    assert len(vendor.requests) == 1


# --- Auth and errors --------------------------------------------------------------------------------------------


def test_the_developer_token_is_required_and_secret(manifests) -> None:
    scheme, stored = validate_credentials(manifests[SLUG], CREDENTIALS)
    assert scheme.key == "oauth" and stored == CREDENTIALS
    assert scheme.credentials_schema["properties"]["developer_token"]["secret"] is True
    without = {k: v for k, v in CREDENTIALS.items() if k != "developer_token"}
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests[SLUG], without)
    assert "credentials.developer_token" in {e.field for e in caught.value.errors}


def test_service_account_credentials_pick_their_scheme_and_partial_ones_are_named(manifests) -> None:
    key = '{"type": "service_account", "client_email": "ads@p.iam.gserviceaccount.com", "private_key": "k"}'
    scheme, _ = validate_credentials(manifests[SLUG], {"service_account_info": key, "developer_token": DEV})
    assert scheme.key == "service_account"
    with pytest.raises(InvalidInput) as caught:  # only the service-account scheme knows the key field
        validate_credentials(manifests[SLUG], {"service_account_info": key})
    assert {e.field for e in caught.value.errors} == {"credentials.developer_token"}
    with pytest.raises(InvalidInput) as caught:  # a developer token alone could belong to either
        validate_credentials(manifests[SLUG], {"developer_token": DEV})
    assert {e.field for e in caught.value.errors} == {"credentials"}


def test_a_missing_access_token_fails_before_any_call(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "accessible_customers", "list", {}, credentials=CREDENTIALS)
    assert caught.value.code == "credentials_missing"
    assert vendor.requests == []


def test_oauth_block_asks_google_for_an_offline_adwords_grant(manifests) -> None:
    oauth = manifests[SLUG].oauth_scheme().oauth
    assert (oauth.authorization_url, oauth.token_url) == (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
    )
    assert dict(oauth.authorize_params)["access_type"] == "offline"
    assert oauth.scopes == ("https://www.googleapis.com/auth/adwords",)


@pytest.mark.parametrize(
    ("status", "google_status", "code"),
    [
        (429, "RESOURCE_EXHAUSTED", "rate_limited"),
        (403, "PERMISSION_DENIED", "credentials_rejected"),
        (401, "UNAUTHENTICATED", "credentials_rejected"),
        (404, "NOT_FOUND", "not_found"),
        (400, "INVALID_ARGUMENT", "bad_request"),
    ],
)
def test_errors_carry_the_google_ads_failure_message(httpserver, vendor, status, google_status, code) -> None:
    failure = {
        "@type": "type.googleapis.com/google.ads.googleads.v23.errors.GoogleAdsFailure",
        "errors": [{"errorCode": {"queryError": "BAD_FIELD_NAME"}, "message": f"Ads says {google_status}"}],
    }
    vendor.answer({"error": {"code": status, "message": "Request contains an invalid argument.",
                             "status": google_status, "details": [failure]}}, status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "campaigns", "list", CID)
    assert caught.value.code == code
    assert f"Ads says {google_status}" in caught.value.message
    assert DEV not in caught.value.message


def test_check_lists_the_accessible_customers(httpserver, vendor, manifests) -> None:
    check = manifests[SLUG].check
    vendor.answer({"resourceNames": ["customers/1234567890"]})
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert vendor.last.path == "/v23/customers:listAccessibleCustomers"
    assert result.result == ["customers/1234567890"]

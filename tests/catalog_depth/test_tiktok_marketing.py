"""Every TikTok Marketing operation against a loopback stand-in that answers as TikTok's API for Business v1.3
reference (business-api.tiktok.com/portal/docs) documents.

Each case is written from TikTok's reference, not from the manifest: a GET under /open_api/v1.3 with the access token
in the `Access-Token` header (no "Bearer"), list and object params as JSON text (fields=["campaign_id"]), page and
page_size for paging; every answer is HTTP 200 with {"code": 0, "message": "OK", "request_id", "data": {"list": [...],
"page_info": {page, page_size, total_number, total_page}}}, and errors are HTTP 200 with a non-zero `code`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.manifest import ErrorSpec, RateLimit
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.classify import classify
from connectors.engine.http import RawResponse
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "tiktok-marketing"
BASE = "/open_api/v1.3"
TOKEN = "tt_access_depth4242"
CREDS = {"access_token": TOKEN}
LIMITS = Limits(max_attempts=1)
ADV = "7012345678901234567"
BC = "7098765432109876543"
METRICS = ["spend", "impressions", "clicks", "ctr", "cpc", "cpm", "reach", "conversion", "cost_per_conversion"]


def _j(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _report(level: str, dimensions: list[str], **extra: str) -> dict[str, str]:
    query = {"advertiser_id": ADV, "report_type": "BASIC", "data_level": level, "dimensions": _j(dimensions),
             "metrics": _j(METRICS), "page_size": "1000"}  # fmt: skip
    return {**query, **extra}


DATES = {"start_date": "2025-01-01", "end_date": "2025-01-31"}
ONE_DAY = {"start_date": "2025-01-05", "end_date": "2025-01-05"}

# (entity, action, params, path, expected query (exact), paginated)
TIKTOK_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, str], bool]] = [
    ("current_user", "get", {}, "/user/info/", {}, False),
    ("advertisers", "list", {"advertiser_ids": [ADV], "fields": ["advertiser_id", "name"]}, "/advertiser/info/",
     {"advertiser_ids": _j([ADV]), "fields": '["advertiser_id","name"]'}, False),
    ("campaigns", "list", {"advertiser_id": ADV, "fields": ["campaign_id"], "filtering": {"campaign_ids": ["1", "2"]}},
     "/campaign/get/", {"advertiser_id": ADV, "fields": '["campaign_id"]', "filtering": '{"campaign_ids":["1","2"]}',
                        "page_size": "1000"}, True),
    ("ad_groups", "list", {"advertiser_id": ADV, "page_size": 200, "page": 2}, "/adgroup/get/",
     {"advertiser_id": ADV, "page_size": "200", "page": "2"}, True),
    ("ads", "list", {"advertiser_id": ADV, "filtering": {"adgroup_ids": ["9"]}}, "/ad/get/",
     {"advertiser_id": ADV, "filtering": '{"adgroup_ids":["9"]}', "page_size": "1000"}, True),
    ("audiences", "list", {"advertiser_id": ADV, "custom_audience_ids": ["55"]}, "/dmp/custom_audience/list/",
     {"advertiser_id": ADV, "custom_audience_ids": '["55"]', "page_size": "100"}, True),
    ("catalogs", "list", {"bc_id": BC}, "/catalog/get/", {"bc_id": BC, "page_size": "1000"}, True),
    ("creative_assets_images", "list", {"advertiser_id": ADV, "filtering": {"image_ids": ["ad-site-i18n-sg/x"]}},
     "/file/image/ad/search/", {"advertiser_id": ADV, "filtering": '{"image_ids":["ad-site-i18n-sg/x"]}',
                                "page_size": "100"}, True),
    ("creative_assets_videos", "list", {"advertiser_id": ADV, "page_size": 20}, "/file/video/ad/search/",
     {"advertiser_id": ADV, "page_size": "20"}, True),
    ("spark_ads", "list", {"advertiser_id": ADV}, "/tt_video/list/", {"advertiser_id": ADV, "page_size": "50"}, True),
    ("advertisers_reports_daily", "list", {"advertiser_id": ADV, **DATES}, "/report/integrated/get/",
     _report("AUCTION_ADVERTISER", ["advertiser_id", "stat_time_day"], **DATES), True),
    ("campaigns_reports_daily", "list", {"advertiser_id": ADV, **DATES}, "/report/integrated/get/",
     _report("AUCTION_CAMPAIGN", ["campaign_id", "stat_time_day"], **DATES), True),
    ("ad_groups_reports_daily", "list", {"advertiser_id": ADV, **DATES}, "/report/integrated/get/",
     _report("AUCTION_ADGROUP", ["adgroup_id", "stat_time_day"], **DATES), True),
    ("ads_reports_daily", "list", {"advertiser_id": ADV, **DATES, "metrics": ["spend"]}, "/report/integrated/get/",
     {**_report("AUCTION_AD", ["ad_id", "stat_time_day"], **DATES), "metrics": '["spend"]'}, True),
    ("ads_reports_hourly", "list", {"advertiser_id": ADV, **ONE_DAY}, "/report/integrated/get/",
     _report("AUCTION_AD", ["ad_id", "stat_time_hour"], **ONE_DAY), True),
    ("ads_reports_lifetime", "list", {"advertiser_id": ADV}, "/report/integrated/get/",
     _report("AUCTION_AD", ["ad_id"], query_lifetime="true"), True),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for(BASE)),
        credentials=kwargs.pop("credentials", CREDS),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "OK", "request_id": "202501010000000000", "data": data}


def _page(ids: list[str], page: int, page_size: int, total: int) -> dict[str, Any]:
    info = {"page": page, "page_size": page_size, "total_number": total, "total_page": -(-total // page_size)}
    return _ok({"list": [{"id": i} for i in ids], "page_info": info})


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in TIKTOK_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "4bfac00d-ce15-44ff-95b9-9e3c3e8fbd35"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference <= ours
        assert ours - reference == {"current_user.get"}


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "query", "paginated"),
    TIKTOK_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in TIKTOK_CASES],
)
def test_tiktok_operation(httpserver, vendor, entity, action, params, path, query, paginated) -> None:
    if entity == "current_user":
        vendor.answer(_ok({"core_user_id": "7000", "display_name": "Ads Ops", "email": "ops@example.com"}))
    elif paginated:
        size = int(query.get("page_size", 10))
        vendor.answer(_page([str(n) for n in range(size)], int(query.get("page", 1)), size, size * 3))
    else:
        vendor.answer(_ok({"list": [{"advertiser_id": ADV, "name": "Shop"}]}))
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", BASE + path)
    assert request.headers["Access-Token"] == TOKEN
    assert "Authorization" not in request.headers
    assert query_of(request) == query
    assert not vendor.bodies[-1]
    if entity == "current_user":
        assert result.result["core_user_id"] == "7000"
    elif paginated:
        assert len(result.result) == int(query.get("page_size", 10))
        assert result.has_next_page is True
        assert result.end_cursor == str(int(query.get("page", 1)) + 1)
    else:
        assert result.result == [{"advertiser_id": ADV, "name": "Shop"}]
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_next_page_sends_the_page_number_and_a_short_page_is_the_last(httpserver, vendor) -> None:
    vendor.answer(_page(["a", "b"], 1, 2, 3))
    vendor.answer(_page(["c"], 2, 2, 3))
    first = _run(httpserver, "campaigns", "list", {"advertiser_id": ADV, "page_size": 2})
    assert (first.has_next_page, first.end_cursor) == (True, "2")
    last = _run(httpserver, "campaigns", "list", {"advertiser_id": ADV, "page_size": 2, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"advertiser_id": ADV, "page_size": "2", "page": "2"}
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_the_one_scheme_takes_airbytes_replication_shape(manifests) -> None:
    tiktok = manifests[SLUG]
    assert [s.key for s in tiktok.auth_schemes] == ["access_token"]
    replication = {"auth_type": "oauth2.0", "access_token": TOKEN, "app_id": "7001", "secret": "app-secret"}
    scheme, stored = validate_credentials(tiktok, replication)
    assert scheme.key == "access_token" and stored["access_token"] == TOKEN
    assert tiktok.scheme("access_token").credential_properties["secret"].get("secret") is True


def test_param_bounds_are_tiktoks(manifests) -> None:
    tiktok = manifests[SLUG]
    assert not validate_params(tiktok, "campaigns", "list", {"advertiser_id": ADV, "page_size": 1000})
    assert validate_params(tiktok, "campaigns", "list", {"advertiser_id": ADV, "page_size": 1001})
    assert validate_params(tiktok, "audiences", "list", {"advertiser_id": ADV, "page_size": 101})
    assert validate_params(tiktok, "spark_ads", "list", {"advertiser_id": ADV, "page_size": 51})
    assert validate_params(tiktok, "campaigns", "list", {})
    assert validate_params(tiktok, "advertisers", "list", {"advertiser_ids": []})
    assert validate_params(tiktok, "ads_reports_daily", "list", {"advertiser_id": ADV, "start_date": "01/02/2025"})


@pytest.mark.parametrize(
    ("code", "expected"),
    [(40105, "credentials_rejected"), (40001, "credentials_rejected"), (40100, "rate_limited"), (40002, "bad_request")],
)
def test_errors_in_http_200_answers(httpserver, vendor, code, expected) -> None:
    vendor.answer({"code": code, "message": "Access token is incorrect or has been revoked.", "request_id": "r1",
                   "data": {}})  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "campaigns", "list", {"advertiser_id": ADV})
    assert (caught.value.code, caught.value.status_code) == (expected, 200)
    assert "incorrect or has been revoked" in str(caught.value)


def _classify(body: Any, **errors: Any):
    raw = RawResponse(status_code=200, headers={}, content=json.dumps(body).encode(), url="https://t.test/")
    return classify(raw, errors=ErrorSpec(**errors), rate_limit=RateLimit(), idempotent=True)


def test_success_codes_in_the_engine() -> None:
    spec = {"code_field": "code", "success_codes": (0,), "codes": {"40100": "rate_limited"}}
    assert _classify({"code": 0, "data": {}}, **spec).error_code is None
    assert _classify({"code": "0", "data": {}}, **spec).error_code is None
    assert _classify({"code": 40100, "message": "slow down"}, **spec).error_code == "rate_limited"
    assert _classify({"code": 51000}, **spec).error_code == "bad_request"
    assert _classify({"code": False}, **spec).error_code == "bad_request"
    assert _classify({"data": {}}, **spec).error_code is None  # no code at all: the status decides
    # Without success_codes a code_field alone never turns a 2xx into an error (the old behaviour).
    assert _classify({"code": 40100}, code_field="code").error_code is None

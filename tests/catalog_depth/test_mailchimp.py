"""Every Mailchimp Marketing operation against a loopback stand-in that answers as Mailchimp's Marketing API
reference (mailchimp.com/developer/marketing/api) documents.

Each case is written from Mailchimp's reference, not from the manifest: the request (method, path under /3.0, the
query, the API key as the Basic password with any username) and the answer: lists name their records (`lists`,
`members`, `campaigns`, …) beside `total_items`, and page with `count` (default 10, up to 1000) and `offset`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from connectors.catalog import build_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

KEY = "0123456789abcdef0123456789abcdef-us6"
LIMITS = Limits(max_attempts=1)
HASH = "b58996c504c5638798eb6b511e6f49af"  # md5("user@example.com")
ONE, UNPAGED = "one", "unpaged"
MEMBER = {"email_address": "user@example.com", "status_if_new": "subscribed", "merge_fields": {"FNAME": "Ada"}}

# (entity, action, params, method, path, expected query (GET) or exact JSON body, records key or answer kind)
MAILCHIMP_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("automations", "list", {"status": "sending", "count": 2}, "GET", "/3.0/automations",
     {"status": "sending", "count": "2"}, "automations"),
    ("campaigns", "get", {"campaign_id": "c1", "fields": "id,settings.title"}, "GET", "/3.0/campaigns/c1",
     {"fields": "id,settings.title"}, ONE),
    ("campaigns", "list", {"status": "sent", "sort_field": "send_time", "sort_dir": "DESC", "count": 2}, "GET",
     "/3.0/campaigns", {"status": "sent", "sort_field": "send_time", "sort_dir": "DESC", "count": "2"}, "campaigns"),
    ("email_activity", "list", {"campaign_id": "c1", "since": "2026-01-01T00:00:00+00:00", "count": 2}, "GET",
     "/3.0/reports/c1/email-activity", {"since": "2026-01-01T00:00:00+00:00", "count": "2"}, "emails"),
    ("interest_categories", "get", {"list_id": "l1", "interest_category_id": "ic1"}, "GET",
     "/3.0/lists/l1/interest-categories/ic1", {}, ONE),
    ("interest_categories", "list", {"list_id": "l1", "count": 2}, "GET", "/3.0/lists/l1/interest-categories",
     {"count": "2"}, "categories"),
    ("interests", "get", {"list_id": "l1", "interest_category_id": "ic1", "interest_id": "i1"}, "GET",
     "/3.0/lists/l1/interest-categories/ic1/interests/i1", {}, ONE),
    ("interests", "list", {"list_id": "l1", "interest_category_id": "ic1", "count": 2}, "GET",
     "/3.0/lists/l1/interest-categories/ic1/interests", {"count": "2"}, "interests"),
    ("list_members", "get", {"list_id": "l1", "subscriber_hash": HASH}, "GET", f"/3.0/lists/l1/members/{HASH}",
     {}, ONE),
    ("list_members", "list",
     {"list_id": "l1", "status": "subscribed", "since_last_changed": "2026-01-01T00:00:00+00:00", "count": 2},
     "GET", "/3.0/lists/l1/members",
     {"status": "subscribed", "since_last_changed": "2026-01-01T00:00:00+00:00", "count": "2"}, "members"),
    ("list_members", "upsert", {"list_id": "l1", "subscriber_hash": HASH, **MEMBER}, "PUT",
     f"/3.0/lists/l1/members/{HASH}", MEMBER, ONE),
    ("lists", "get", {"list_id": "l1", "include_total_contacts": True}, "GET", "/3.0/lists/l1",
     {"include_total_contacts": "true"}, ONE),
    ("lists", "list", {"email": "user@example.com", "count": 2}, "GET", "/3.0/lists",
     {"email": "user@example.com", "count": "2"}, "lists"),
    ("ping", "get", {}, "GET", "/3.0/ping", {}, ONE),
    ("reports", "get", {"campaign_id": "c1"}, "GET", "/3.0/reports/c1", {}, ONE),
    ("reports", "list", {"type": "regular", "count": 2}, "GET", "/3.0/reports", {"type": "regular", "count": "2"},
     "reports"),
    ("segment_members", "list", {"list_id": "l1", "segment_id": "s1", "include_unsubscribed": True, "count": 2},
     "GET", "/3.0/lists/l1/segments/s1/members", {"include_unsubscribed": "true", "count": "2"}, "members"),
    ("segments", "get", {"list_id": "l1", "segment_id": "s1"}, "GET", "/3.0/lists/l1/segments/s1", {}, ONE),
    ("segments", "list", {"list_id": "l1", "type": "static", "count": 2}, "GET", "/3.0/lists/l1/segments",
     {"type": "static", "count": "2"}, "segments"),
    ("tags", "list", {"list_id": "l1", "name": "vip"}, "GET", "/3.0/lists/l1/tag-search", {"name": "vip"}, UNPAGED),
    ("unsubscribes", "list", {"campaign_id": "c1", "count": 2}, "GET", "/3.0/reports/c1/unsubscribed",
     {"count": "2"}, "unsubscribes"),
]  # fmt: skip
EXTRAS = {"ping.get", "list_members.upsert"}


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["mailchimp"], httpserver.url_for("/3.0")),
        credentials=kwargs.pop("credentials", {"api_key": KEY}),
        config=kwargs.pop("config", {"data_center": "us6"}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _basic(request) -> str:
    scheme, _, value = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode()


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["mailchimp"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in MAILCHIMP_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "b03a9f3e-22a5-11eb-adc1-0242ac120002"
    reference = reference_operations("mailchimp")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    MAILCHIMP_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in MAILCHIMP_CASES],
)
def test_mailchimp_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"id": "obj_1", "name": "One"}
    if kind == ONE:
        vendor.answer(one)
    elif kind == UNPAGED:
        vendor.answer({"tags": [{"id": 1, "name": "vip"}, {"id": 2, "name": "vip-2026"}], "total_items": 2})
    else:  # a page of 2 out of 5: Mailchimp gives total_items beside the records it names
        vendor.answer({kind: [{"id": "obj_1"}, {"id": "obj_2"}], "total_items": 5, "_links": []})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert _basic(request) == f"anystring:{KEY}"
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    assert KEY not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == UNPAGED:
        assert [t["name"] for t in result.result] == ["vip", "vip-2026"]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, "2")  # offset 0 + 2 records < 5


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "key"),
    [
        ("lists", "list", {}, "lists"),
        ("list_members", "list", {"list_id": "l1", "status": "subscribed"}, "members"),
        ("campaigns", "list", {"status": "sent"}, "campaigns"),
        ("reports", "list", {}, "reports"),
        ("segments", "list", {"list_id": "l1"}, "segments"),
        ("email_activity", "list", {"campaign_id": "c1"}, "emails"),
    ],
)
def test_next_page_sends_the_offset_until_total_items(httpserver, vendor, entity, action, params, key) -> None:
    page = {**params, "count": 2}
    vendor.answer({key: [{"id": "a"}, {"id": "b"}], "total_items": 3})
    vendor.answer({key: [{"id": "c"}], "total_items": 3})
    first = _run(httpserver, entity, action, page)
    last = _run(httpserver, entity, action, {**page, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert "offset" not in before
    assert after == {**before, "offset": "2"}
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # 2 + 1 = total_items


def test_without_count_mailchimps_default_page_of_10_is_assumed(httpserver, vendor) -> None:
    vendor.answer({"lists": [{"id": str(i)} for i in range(10)], "total_items": 25})
    result = _run(httpserver, "lists", "list", {"offset": 10})
    assert query_of(vendor.last) == {"offset": "10"}
    assert (result.has_next_page, result.end_cursor) == (True, "20")


def test_a_cursor_must_be_an_offset(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError):
        _run(httpserver, "lists", "list", {"cursor": "https://evil.example/3.0/lists"})
    assert not vendor.requests


# --- Data centre, params, errors ------------------------------------------------------------------------------------


def test_the_data_center_is_the_host(manifests) -> None:
    mailchimp = manifests["mailchimp"]
    assert mailchimp.base_url == "https://{config.data_center}.api.mailchimp.com/3.0"
    assert "required" not in mailchimp.config_schema  # derived from the API key's suffix; the field overrides it
    assert mailchimp.derived_config({"api_key": KEY}) == {"data_center": "us6"}


@pytest.mark.parametrize("data_center", ["us6.evil.com/x?", "", "US6 "])
def test_a_data_center_that_is_not_a_host_label_is_refused(data_center) -> None:
    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=build_manifest(RAW["mailchimp"]),
            credentials={"api_key": KEY.split("-")[0]},  # no data-centre suffix to derive one from
            config={"data_center": data_center} if data_center else {},
            entity="ping",
            action="get",
            params={},
            limits=LIMITS,
        )
    assert caught.value.code == "invalid_config"


def test_bounds_are_mailchimps(manifests) -> None:
    mailchimp = manifests["mailchimp"]
    assert validate_params(mailchimp, "lists", "list", {"count": 1001})[0]["field"] == "params.count"
    assert validate_params(mailchimp, "list_members", "list", {"list_id": "l1", "status": "gone"})
    errors = validate_params(mailchimp, "list_members", "get", {"list_id": "l1"})
    assert [e["field"] for e in errors] == ["params.subscriber_hash"]


def test_problem_details_become_the_message(httpserver, vendor) -> None:
    vendor.answer(
        {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": "API Key Invalid", "status": 401,
         "detail": "Your API key may be invalid, or you've attempted to access the wrong datacenter.", "instance": "x"},
        status=401,
    )  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "ping", "get", {})
    assert caught.value.code == "credentials_rejected"
    assert "wrong datacenter" in caught.value.message
    assert KEY not in caught.value.message


def test_too_many_connections_is_rate_limited(httpserver, vendor) -> None:
    vendor.answer({"title": "Too Many Requests", "status": 429, "detail": "You have exceeded the limit"}, status=429)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "lists", "list", {})
    assert caught.value.code == "rate_limited"


# --- Auth -----------------------------------------------------------------------------------------------------------


def test_oauth_access_token_is_sent_as_bearer(httpserver, vendor) -> None:
    vendor.answer({"health_status": "Everything's Chimpy!"})
    result = _run(httpserver, "ping", "get", {}, credentials={"access_token": "mc_oauth_1"}, auth_scheme="oauth")
    assert vendor.last.headers["Authorization"] == "Bearer mc_oauth_1"
    assert result.result == {"health_status": "Everything's Chimpy!"}


def test_oauth_uses_mailchimps_endpoints(manifests) -> None:
    oauth = manifests["mailchimp"].scheme("oauth").oauth
    assert oauth.authorization_url == "https://login.mailchimp.com/oauth2/authorize"
    assert oauth.token_url == "https://login.mailchimp.com/oauth2/token"
    assert not oauth.scopes  # Mailchimp has no scopes


@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        # Airbyte's agent connector.
        ({"api_key": KEY}, "api_key", {"auth_type": "apikey", "api_key": KEY}),
        # Airbyte's replication shape: `apikey`, marked with auth_type.
        ({"auth_type": "apikey", "apikey": KEY}, "api_key", {"auth_type": "apikey", "api_key": KEY}),
        ({"apikey": KEY}, "api_key", {"auth_type": "apikey", "api_key": KEY}),
        (
            {"auth_type": "oauth2.0", "client_id": "c", "client_secret": "s", "access_token": "t"},
            "oauth",
            {"auth_type": "oauth2.0", "client_id": "c", "client_secret": "s", "access_token": "t"},
        ),
        ({"access_token": "t"}, "oauth", {"auth_type": "oauth2.0", "access_token": "t"}),
    ],
)
def test_airbyte_credential_shapes_are_stored_under_ours(manifests, credentials, scheme, stored) -> None:
    chosen, normalised = validate_credentials(manifests["mailchimp"], credentials)
    assert (chosen.key, normalised) == (scheme, stored)


def test_a_key_under_both_names_is_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["mailchimp"], {"api_key": KEY, "apikey": "other-us1"})
    assert {e.field for e in caught.value.errors} == {"credentials.api_key", "credentials.apikey"}
    assert KEY not in str(caught.value.errors)


def test_a_marker_naming_the_other_scheme_is_refused(manifests) -> None:
    with pytest.raises(InvalidInput):
        validate_credentials(manifests["mailchimp"], {"auth_type": "oauth2.0", "apikey": KEY})

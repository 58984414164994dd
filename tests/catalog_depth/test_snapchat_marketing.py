"""Every Snapchat Marketing operation against a loopback stand-in that answers as Snap's Marketing API reference
(developers.snap.com/api/marketing-api) documents.

Each case is written from Snap's reference, not from the manifest: the request the operation must send (GET under
/v1, the OAuth access token as a bearer header, `limit` when paging) and what comes back: {"request_status":
"SUCCESS", "<plural>": [{"sub_request_status": "SUCCESS", "<singular>": {...}}], "paging": {"next_link": ...}}.
Lists and get return the objects inside; a failed sub-request in a list comes back as Snap sent it.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "snapchat-marketing"
TOKEN = "snap_access_depth4242"
CREDS = {"client_id": "c-id", "client_secret": "c-secret", "refresh_token": "r-tok", "access_token": TOKEN}
LIMITS = Limits(max_attempts=1)
ORG = "8fdeefec-f502-4ca8-9a84-6411e0a51053"
ACC = "3b0fbace-04b4-4f05-a7c4-8bd2c4e5a1f0"
OBJ = "6cf25572-048b-4447-95d1-eb47032ea5a7"

# (entity, action, params, path, expected query, wrapper key, singular)
SNAP_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, str], str, str]] = [
    ("adaccounts", "get", {"id": ACC}, f"/v1/adaccounts/{ACC}", {}, "adaccounts", "adaccount"),
    ("adaccounts", "list", {"organization_id": ORG, "limit": 50}, f"/v1/organizations/{ORG}/adaccounts",
     {"limit": "50"}, "adaccounts", "adaccount"),
    ("ads", "get", {"id": OBJ}, f"/v1/ads/{OBJ}", {}, "ads", "ad"),
    ("ads", "list", {"ad_account_id": ACC, "read_deleted_entities": True}, f"/v1/adaccounts/{ACC}/ads",
     {"read_deleted_entities": "true"}, "ads", "ad"),
    ("adsquads", "get", {"id": OBJ}, f"/v1/adsquads/{OBJ}", {}, "adsquads", "adsquad"),
    ("adsquads", "list", {"ad_account_id": ACC, "limit": 1000}, f"/v1/adaccounts/{ACC}/adsquads", {"limit": "1000"},
     "adsquads", "adsquad"),
    ("campaigns", "get", {"id": OBJ}, f"/v1/campaigns/{OBJ}", {}, "campaigns", "campaign"),
    ("campaigns", "list", {"ad_account_id": ACC}, f"/v1/adaccounts/{ACC}/campaigns", {}, "campaigns", "campaign"),
    ("creatives", "get", {"id": OBJ}, f"/v1/creatives/{OBJ}", {}, "creatives", "creative"),
    ("creatives", "list", {"ad_account_id": ACC, "limit": 100}, f"/v1/adaccounts/{ACC}/creatives", {"limit": "100"},
     "creatives", "creative"),
    ("media", "get", {"id": OBJ}, f"/v1/media/{OBJ}", {}, "media", "media"),
    ("media", "list", {"ad_account_id": ACC}, f"/v1/adaccounts/{ACC}/media", {}, "media", "media"),
    ("organizations", "get", {"id": ORG}, f"/v1/organizations/{ORG}", {}, "organizations", "organization"),
    ("organizations", "list", {"with_ad_accounts": True}, "/v1/me/organizations", {"with_ad_accounts": "true"},
     "organizations", "organization"),
    ("segments", "get", {"id": OBJ}, f"/v1/segments/{OBJ}", {}, "segments", "segment"),
    ("segments", "list", {"ad_account_id": ACC}, f"/v1/adaccounts/{ACC}/segments", {}, "segments", "segment"),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("/v1")),
        credentials=kwargs.pop("credentials", CREDS),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _answer(plural: str, singular: str, ids: list[str], next_link: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_status": "SUCCESS",
        "request_id": "5f1b2c3d",
        plural: [{"sub_request_status": "SUCCESS", singular: {"id": i, "name": f"n{i}"}} for i in ids],
    }
    if next_link:
        body["paging"] = {"next_link": next_link}
    return body


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests[SLUG]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SNAP_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "200330b2-ea62-4d11-ac6d-cfe3e3f8ab2b"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "query", "plural", "singular"),
    SNAP_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SNAP_CASES],
)
def test_snapchat_operation(httpserver, vendor, entity, action, params, path, query, plural, singular) -> None:
    origin = httpserver.url_for("").rstrip("/")
    if action == "list":
        vendor.answer(_answer(plural, singular, ["a", "b"], f"{origin}{path}?cursor=Q1VSU09S&limit=50"))
    else:
        vendor.answer(_answer(plural, singular, ["a"]))
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert query_of(request) == query
    assert not vendor.bodies[-1]
    if action == "list":
        assert result.result == [{"id": "a", "name": "na"}, {"id": "b", "name": "nb"}]
        assert result.has_next_page is True and result.end_cursor
    else:
        assert result.result == {"id": "a", "name": "na"}
        assert (result.has_next_page, result.end_cursor) == (False, None)


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "plural", "singular"),
    [
        ("campaigns", "list", {"ad_account_id": ACC, "limit": 50}, f"/v1/adaccounts/{ACC}/campaigns", "campaigns",
         "campaign"),
        ("organizations", "list", {}, "/v1/me/organizations", "organizations", "organization"),
    ],
)  # fmt: skip
def test_next_page_follows_next_link_on_the_same_host(httpserver, vendor, entity, action, params, path, plural,
                                                      singular) -> None:  # fmt: skip
    origin = httpserver.url_for("").rstrip("/")
    vendor.answer(_answer(plural, singular, ["a"], f"{origin}{path}?cursor=Q1VSU09S&limit=50"))
    vendor.answer(_answer(plural, singular, ["b"]))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert (vendor.requests[1].path, query_of(vendor.requests[1])) == (path, {"cursor": "Q1VSU09S", "limit": "50"})
    assert vendor.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"
    assert [r["id"] for r in last.result] == ["b"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_failed_sub_request_in_a_list_comes_back_as_snap_sent_it(httpserver, vendor) -> None:
    failed = {"sub_request_status": "ERROR", "sub_request_error_reason": "Campaign 'b' is not accessible."}
    answer = _answer("campaigns", "campaign", ["a"])
    answer["campaigns"].append(failed)
    vendor.answer(answer)
    result = _run(httpserver, "campaigns", "list", {"ad_account_id": ACC})
    assert result.result == [{"id": "a", "name": "na"}, failed]


def test_a_next_link_to_another_host_or_path_is_no_next_page(httpserver, vendor) -> None:
    path = f"/v1/adaccounts/{ACC}/campaigns"
    vendor.answer(_answer("campaigns", "campaign", ["a"], f"https://evil.example{path}?cursor=x"))
    result = _run(httpserver, "campaigns", "list", {"ad_account_id": ACC})
    assert (result.has_next_page, result.end_cursor) == (False, None)
    with pytest.raises(OperationInputError):
        _run(httpserver, "campaigns", "list", {"ad_account_id": ACC, "cursor": "/v1/me/organizations?cursor=x"})


def test_oauth_is_the_only_scheme_with_snaps_endpoints(manifests) -> None:
    snap = manifests[SLUG]
    assert [s.key for s in snap.auth_schemes] == ["oauth"]
    oauth = snap.find_scheme("oauth").oauth
    assert oauth.authorization_url == "https://accounts.snapchat.com/login/oauth2/authorize"
    assert oauth.token_url == "https://accounts.snapchat.com/login/oauth2/access_token"
    assert list(oauth.scopes) == ["snapchat-marketing-api"]
    scheme, stored = validate_credentials(snap, {k: v for k, v in CREDS.items() if k != "access_token"})
    assert scheme.key == "oauth" and stored == {
        "client_id": "c-id",
        "client_secret": "c-secret",
        "refresh_token": "r-tok",
    }


def test_param_bounds_are_snaps(manifests) -> None:
    snap = manifests[SLUG]
    assert validate_params(snap, "campaigns", "list", {"ad_account_id": ACC, "limit": 49})
    assert validate_params(snap, "campaigns", "list", {"ad_account_id": ACC, "limit": 1001})
    assert not validate_params(snap, "campaigns", "list", {"ad_account_id": ACC, "limit": 1000})
    assert validate_params(snap, "campaigns", "get", {})


@pytest.mark.parametrize(("status", "code"), [(401, "credentials_rejected"), (404, "not_found"), (400, "bad_request")])
def test_snaps_error_answers(httpserver, vendor, status, code) -> None:
    vendor.answer({"request_status": "ERROR", "request_id": "r1", "debug_message": "Something about it",
                   "display_message": "We're sorry", "error_code": "E1008"}, status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "campaigns", "get", {"id": OBJ})
    assert caught.value.code == code
    assert "Something about it" in str(caught.value)

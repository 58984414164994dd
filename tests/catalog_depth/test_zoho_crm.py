"""Every Zoho CRM operation against a loopback stand-in that answers as Zoho's CRM REST API v2 reference
(zoho.com/crm/developer/docs/api/v2) documents.

Each case is written from Zoho's reference, not from the manifest: `GET /crm/v2/{module_api_name}` with `page` and
`per_page` (up to 200), `fields`, `sort_by`/`sort_order`, `cvid`, `converted`/`approved`, the `If-Modified-Since`
header; `GET /crm/v2/{module_api_name}/{record_id}`; the `Zoho-oauthtoken` authorization scheme; answers
`{"data": [...], "info": {"page", "per_page", "count", "more_records"}}` (one record: a one-element `data`), and an
empty 204 when nothing matches. Each organization lives in one data centre: www.zohoapis.<suffix>.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.catalog import build_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.urls import resolve_base_url
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

ACCESS = "1000.zoho_depth_access.4242"
CREDENTIALS = {"client_id": "1000.ABCDEF", "client_secret": "zoho_secret_4242", "refresh_token": "1000.refresh"}
LIMITS = Limits(max_attempts=1)
LIST, ONE = "list", "one"
MODULES = {
    "accounts": "Accounts",
    "calls": "Calls",
    "campaigns": "Campaigns",
    "contacts": "Contacts",
    "deals": "Deals",
    "events": "Events",
    "invoices": "Invoices",
    "leads": "Leads",
    "notes": "Notes",
    "products": "Products",
    "quotes": "Quotes",
    "tasks": "Tasks",
}

# (entity, action, params, path, expected query (lists of values), answer kind)
ZOHO_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, list[str]], str]] = [
    case
    for entity, module in MODULES.items()
    for case in (
        (entity, "get", {"id": "4150868000000224005"}, f"/crm/v2/{module}/4150868000000224005", {}, ONE),
        (entity, "list", {"fields": "id,Created_Time", "per_page": 50, "sort_by": "Modified_Time", "sort_order": "asc"},
         f"/crm/v2/{module}",
         {"fields": ["id,Created_Time"], "per_page": ["50"], "sort_by": ["Modified_Time"], "sort_order": ["asc"]},
         LIST),
    )
] + [
    ("leads", "list", {"converted": "both", "cvid": "4150868000000087501"}, "/crm/v2/Leads",
     {"converted": ["both"], "cvid": ["4150868000000087501"]}, LIST),
    ("users", "me", {}, "/crm/v2/users", {"type": ["CurrentUser"]}, ONE),
]  # fmt: skip
EXTRAS = {"users.me"}


def _query(request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["zoho-crm"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config=kwargs.pop("config", {"dc_region": "eu"}),
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _page(ids: list[str], *, page: int, more: bool) -> dict[str, Any]:
    return {
        "data": [{"id": i, "Owner": {"id": "u1"}} for i in ids],
        "info": {"per_page": len(ids), "count": len(ids), "page": page, "more_records": more},
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["zoho-crm"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in ZOHO_CASES}, "a manifest operation without a stand-in case here"
    reference = reference_operations("zoho-crm")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "query", "kind"),
    ZOHO_CASES,
    ids=[f"{c[0]}.{c[1]}" + ("-filters" if c[2].get("converted") else "") for c in ZOHO_CASES],
)
def test_zoho_operation(httpserver, vendor, entity, action, params, path, query, kind) -> None:
    one = {"id": "4150868000000224005", "Owner": {"id": "u1"}}
    if entity == "users":
        vendor.answer({"users": [one], "info": {"count": 1, "more_records": False}})
    else:
        vendor.answer(_page(["r1", "r2"], page=1, more=True) if kind == LIST else {"data": [one]})
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", path)
    assert _query(request) == query
    assert request.headers["Authorization"] == f"Zoho-oauthtoken {ACCESS}"
    assert not vendor.bodies[-1]
    assert ACCESS not in request.query_string.decode()
    if kind == ONE:
        assert result.result == one  # the single record, out of its one-element list
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["r1", "r2"]
        assert (result.has_next_page, result.end_cursor) == (True, "2")


@pytest.mark.parametrize("entity", sorted(MODULES))
def test_the_next_page_asks_for_page_plus_one_until_more_records_is_false(httpserver, vendor, entity) -> None:
    vendor.answer(_page(["a", "b"], page=1, more=True))
    vendor.answer(_page(["c"], page=2, more=False))
    first = _run(httpserver, entity, "list", {"per_page": 2})
    last = _run(httpserver, entity, "list", {"per_page": 2, "cursor": first.end_cursor})
    assert "page" not in _query(vendor.requests[0])
    assert _query(vendor.requests[1]) == {"per_page": ["2"], "page": ["2"]}
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_no_matching_records_is_an_empty_204(httpserver, vendor) -> None:
    vendor.answer(None, status=204)
    result = _run(httpserver, "deals", "list", {})
    assert (result.result, result.has_next_page) == (None, False)


def test_modified_since_goes_in_the_header(httpserver, vendor) -> None:
    vendor.answer(_page(["a"], page=1, more=False))
    _run(httpserver, "contacts", "list", {"If-Modified-Since": "2026-07-25T15:26:49+05:30"})
    assert vendor.last.headers["If-Modified-Since"] == "2026-07-25T15:26:49+05:30"
    assert _query(vendor.last) == {}


@pytest.mark.parametrize(
    ("entity", "action", "params", "field"),
    [
        ("leads", "list", {"per_page": 201}, "params.per_page"),
        ("leads", "list", {"converted": "yes"}, "params.converted"),
        ("accounts", "list", {"ids": "1,abc"}, "params.ids"),
        ("accounts", "get", {"id": "../Leads"}, "params.id"),
        ("notes", "list", {"cvid": "1"}, "params.cvid"),  # no custom views on notes
    ],
)
def test_zohos_bounds_are_enforced_before_any_call(manifests, entity, action, params, field) -> None:
    errors = validate_params(manifests["zoho-crm"], entity, action, params)
    assert [e["field"] for e in errors] == [field]


# --- Data centres, auth, errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "host"),
    [
        ({}, "https://www.zohoapis.com"),
        ({"dc_region": "eu"}, "https://www.zohoapis.eu"),
        ({"dc_region": "com.au"}, "https://www.zohoapis.com.au"),
        ({"dc_region": "uk"}, "https://www.zohoapis.uk"),
        ({"dc_region": "com.cn", "environment": "Production"}, "https://www.zohoapis.com.cn"),
        ({"dc_region": "ca"}, "https://www.zohoapis.ca"),
    ],
)
def test_calls_go_to_the_organizations_data_centre(manifests, config, host) -> None:
    manifest = manifests["zoho-crm"]
    stored = validate_replication_config(manifest, config)
    url = resolve_base_url(manifest.base_url, config=stored, credentials={}, config_defaults=manifest.config_defaults)
    assert url == host


@pytest.mark.parametrize("config", [{"dc_region": "evil.com/x?"}, {"dc_region": "US"}, {"environment": "Sandbox"}])
def test_unknown_data_centres_and_environments_are_refused(manifests, config) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        validate_replication_config(manifests["zoho-crm"], config)


@pytest.mark.parametrize(
    ("config", "accounts"),
    [
        ({}, "https://accounts.zoho.com"),
        ({"dc_region": "eu"}, "https://accounts.zoho.eu"),
        ({"dc_region": "uk"}, "https://accounts.zoho.uk"),
        ({"dc_region": "ca"}, "https://accounts.zohocloud.ca"),  # Canada's accounts host is not zoho.ca
        ({"dc_region": "eu", "accounts_domain": "zoho.com"}, "https://accounts.zoho.com"),  # set: it wins
    ],
)
def test_oauth_goes_to_the_data_centres_accounts_server(manifests, config, accounts) -> None:
    from connectors.oauth.apps import oauth_endpoints

    manifest = manifests["zoho-crm"]
    oauth = oauth_endpoints(manifest.oauth_scheme(), manifest, validate_replication_config(manifest, config))
    assert oauth.authorization_url == f"{accounts}/oauth/v2/auth"
    assert oauth.token_url == f"{accounts}/oauth/v2/token"
    assert oauth.revoke_url == f"{accounts}/oauth/v2/token/revoke"


def test_oauth_details() -> None:
    oauth = build_manifest(RAW["zoho-crm"]).oauth_scheme().oauth
    assert oauth.scope_separator == ","
    assert dict(oauth.authorize_params) == {"access_type": "offline", "prompt": "consent"}
    assert oauth.rotates_refresh_token is False


def test_credentials_keep_airbytes_names(manifests) -> None:
    scheme, stored = validate_credentials(manifests["zoho-crm"], CREDENTIALS)
    assert (scheme.key, stored) == ("oauth", CREDENTIALS)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "INVALID_TOKEN", "credentials_rejected"),
        (401, "OAUTH_SCOPE_MISMATCH", "credentials_rejected"),
        (429, "TOO_MANY_REQUESTS", "rate_limited"),
        (400, "INVALID_DATA", "bad_request"),
        (404, "INVALID_URL_PATTERN", "not_found"),
    ],
)
def test_zoho_error_codes_are_classified(httpserver, vendor, status, code, expected) -> None:
    vendor.answer({"code": code, "details": {}, "message": f"zoho says {code}", "status": "error"}, status=status)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "leads", "get", {"id": "1"})
    assert caught.value.code == expected
    assert caught.value.message.endswith(f"zoho says {code}")


def test_check_reads_the_current_user(httpserver, vendor, manifests) -> None:
    check = manifests["zoho-crm"].check
    vendor.answer({"users": [{"id": "u1", "email": "ada@example.com"}]})
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert (vendor.last.path, _query(vendor.last)) == ("/crm/v2/users", {"type": ["CurrentUser"]})
    assert result.result["email"] == "ada@example.com"

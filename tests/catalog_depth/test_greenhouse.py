"""Every Greenhouse Harvest operation against a loopback stand-in that answers as Greenhouse's Harvest v3 reference
(harvestdocs.greenhouse.io) documents.

Each case is written from Harvest v3's guides, not from the manifest: list endpoints take `per_page` (1-500), `ids`
and parent filters as comma-separated lists, time filters as `created_at=gte|...` (or `created_at[gte]=...`), and
answer a JSON array with an RFC 5988 `Link: <...?cursor=...>; rel="next"` header; the next request sends the cursor as
its only query parameter. Calls carry the OAuth access token as a bearer token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from werkzeug import Response

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

ACCESS = "gh_v3_depth_access_4242"
CREDENTIALS = {"client_id": "gh_client", "client_secret": "gh_secret_4242", "refresh_token": "gh_refresh"}
LIMITS = Limits(max_attempts=1)
CURSOR = "eyJpZCI6MTIzNDUsImZpbHRlcnMiOnt9fQ"
LIST, ONE = "list", "one"

# (entity, action, params, path, expected query (lists of values), kind)
GREENHOUSE_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, list[str]], str]] = [
    ("applications", "list",
     {"candidate_ids": [12345, 12346], "status": "hired", "created_at": "gte|2024-01-01T00:00:00Z", "per_page": 50},
     "/applications",
     {"candidate_ids": ["12345,12346"], "status": ["hired"], "created_at": ["gte|2024-01-01T00:00:00Z"],
      "per_page": ["50"]}, LIST),
    ("attachments", "download", {"ids": 777}, "/attachments", {"ids": ["777"]}, ONE),
    ("attachments", "list", {"application_ids": [9], "type": "resume"}, "/attachments",
     {"application_ids": ["9"], "type": ["resume"]}, LIST),
    ("candidates", "list", {"updated_at": {"gte": "2026-01-01T00:00:00Z"}, "fields": ["id", "first_name"]},
     "/candidates", {"updated_at[gte]": ["2026-01-01T00:00:00Z"], "fields": ["id,first_name"]}, LIST),
    ("departments", "list", {"per_page": 500}, "/departments", {"per_page": ["500"]}, LIST),
    ("interviews", "list", {"application_ids": [1, 2]}, "/interviews", {"application_ids": ["1,2"]}, LIST),
    ("job_posts", "list", {"job_ids": [4]}, "/job_posts", {"job_ids": ["4"]}, LIST),
    ("jobs", "list", {"status": "closed", "per_page": 2}, "/jobs", {"status": ["closed"], "per_page": ["2"]}, LIST),
    ("offers", "list", {"application_ids": [5]}, "/offers", {"application_ids": ["5"]}, LIST),
    ("offices", "list", {}, "/offices", {}, LIST),
    ("sources", "list", {"ids": [1, 2, 3]}, "/sources", {"ids": ["1,2,3"]}, LIST),
    ("users", "list", {"created_at": {"gte": "2025-01-01T00:00:00Z", "lt": "2026-01-01T00:00:00Z"}}, "/users",
     {"created_at[gte]": ["2025-01-01T00:00:00Z"], "created_at[lt]": ["2026-01-01T00:00:00Z"]}, LIST),
]  # fmt: skip


def _query(request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["greenhouse"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _next_link(httpserver, path: str) -> dict[str, str]:
    return {"Link": f'<{httpserver.url_for("/v3" + path)}?cursor={CURSOR}>; rel="next"'}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["greenhouse"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in GREENHOUSE_CASES}, "a manifest operation without a stand-in case here"
    reference = reference_operations("greenhouse")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "query", "kind"),
    GREENHOUSE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GREENHOUSE_CASES],
)
def test_greenhouse_operation(httpserver, vendor, entity, action, params, path, query, kind) -> None:
    records = [{"id": 1, "name": "One"}, {"id": 2, "name": "Two"}]
    vendor.answer(records[:1] if kind == ONE else records, headers=_next_link(httpserver, path))
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", path)  # the base URL's /v3 is replaced by the stand-in's
    assert _query(request) == query
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert not vendor.bodies[-1]
    assert ACCESS not in request.query_string.decode()
    if kind == ONE:
        assert result.result == {"id": 1, "name": "One"}
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == records
        assert result.has_next_page is True and result.end_cursor


def test_the_base_url_is_harvest_v3(manifests) -> None:
    assert manifests["greenhouse"].base_url == "https://harvest.greenhouse.io/v3"


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [(c[0], c[1], c[2], c[3]) for c in GREENHOUSE_CASES if c[5] == LIST],
    ids=[f"{c[0]}.{c[1]}" for c in GREENHOUSE_CASES if c[5] == LIST],
)
def test_the_next_page_sends_the_cursor_alone(httpserver, vendor, entity, action, params, path) -> None:
    """Harvest v3: "When you pass a cursor, it must be the only query parameter"; the filters live in the cursor."""
    vendor.answer([{"id": 1}], headers=_next_link(httpserver, path))
    vendor.answer([{"id": 2}])  # no Link header: the last page
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert vendor.requests[1].path == vendor.requests[0].path
    assert _query(vendor.requests[1]) == {"cursor": [CURSOR]}
    assert last.result == [{"id": 2}]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_next_link_to_another_host_is_never_followed(httpserver, vendor) -> None:
    vendor.answer([{"id": 1}], headers={"Link": f'<https://evil.example.com/steal?cursor={CURSOR}>; rel="next"'})
    vendor.answer([{"id": 2}])
    first = _run(httpserver, "jobs", "list", {})
    _run(httpserver, "jobs", "list", {"cursor": first.end_cursor})
    assert vendor.requests[1].path == "/jobs"  # same host and path; only the query comes from the link
    assert _query(vendor.requests[1]) == {"cursor": [CURSOR]}


def test_attachment_download_returns_the_record_with_its_download_url(httpserver, vendor) -> None:
    url = "https://grnhse-prod.s3.amazonaws.com/person_attachments/resume.pdf?X-Amz-Expires=604800"
    vendor.answer([{"id": 777, "filename": "resume.pdf", "type": "resume", "url": url}])
    result = _run(httpserver, "attachments", "download", {"attachment_id": 777})
    assert _query(vendor.last) == {"ids": ["777"]}
    assert result.result["url"] == url
    assert len(vendor.requests) == 1  # the storage host is never called by the engine


def test_attachment_download_of_an_unknown_id_is_empty(httpserver, vendor) -> None:
    vendor.answer([])
    assert _run(httpserver, "attachments", "download", {"id": 1}).result is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 501}, "params.per_page"),
        ({"ids": list(range(51))}, "params.ids"),
        ({"created_at": "2026-01-01"}, "params.created_at"),
        ({"created_at": {"after": "2026-01-01"}}, "params.created_at"),
        ({"status": "archived"}, "params.status"),
    ],
)
def test_harvest_bounds_are_enforced_before_any_call(manifests, params, field) -> None:
    errors = validate_params(manifests["greenhouse"], "applications", "list", params)
    assert [e["field"] for e in errors] == [field]


# --- Auth, rate limits, errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "stored"),
    [
        (CREDENTIALS, {"auth_type": "Client", **CREDENTIALS}),
        ({"auth_type": "Client", **CREDENTIALS}, {"auth_type": "Client", **CREDENTIALS}),  # Airbyte's replication
        ({**CREDENTIALS, "access_token": ACCESS}, {"auth_type": "Client", **CREDENTIALS, "access_token": ACCESS}),
    ],
)
def test_credential_shapes_are_accepted(manifests, credentials, stored) -> None:
    scheme, normalised = validate_credentials(manifests["greenhouse"], credentials)
    assert (scheme.key, normalised) == ("oauth", stored)


def test_oauth_block_uses_greenhouses_auth_server(manifests) -> None:
    oauth = manifests["greenhouse"].oauth_scheme().oauth
    assert (oauth.authorization_url, oauth.token_url) == (
        "https://auth.greenhouse.io/authorize",
        "https://auth.greenhouse.io/token",
    )
    assert oauth.client_auth == "basic"
    assert {s.split(":")[1] for s in oauth.scopes} == {c[0] for c in GREENHOUSE_CASES}


def test_rate_limited_answer_is_retried_after_retry_after(httpserver, vendor) -> None:
    sleeps: list[float] = []
    vendor.answer({"message": "Too Many Requests"}, status=429, headers={"Retry-After": "2"})
    vendor.answer([{"id": 1}], headers={"X-RateLimit-Remaining": "49", "X-RateLimit-Limit": "50"})
    result = _run(httpserver, "users", "list", {}, limits=Limits(max_attempts=2, max_retry_seconds=30),
                  sleep=sleeps.append)  # fmt: skip
    assert sleeps == [2.0]
    assert result.result == [{"id": 1}]
    assert result.rate_limit_remaining == 49


def test_a_rejected_token_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer({"message": "Unauthorized"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "candidates", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert ACCESS not in caught.value.message


def test_check_lists_one_user(httpserver, manifests) -> None:
    seen = []

    def handler(request):
        seen.append(request)
        return Response('[{"id": 5, "name": "Ada"}]', content_type="application/json")

    httpserver.expect_request("/users").respond_with_handler(handler)
    check = manifests["greenhouse"].check
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert _query(seen[0]) == {"per_page": ["1"]}
    assert result.result == [{"id": 5, "name": "Ada"}]

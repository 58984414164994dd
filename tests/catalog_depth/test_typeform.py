"""Every Typeform operation against a loopback stand-in that answers as Typeform's developer reference
(typeform.com/developers: Create, Responses and Webhooks APIs) documents.

Each case is written from Typeform's reference, not from the manifest: the request (method, path, query; the token as
a bearer token) and the answer: `{"total_items", "page_count", "items": [...]}` for forms, themes and workspaces
(numbered pages, `page` from 1, `page_size`), `{"total_items", "page_count", "items": [...]}` with a `token` on each
response (the next page asks `before=<the last token>`), `{"items": [...]}` for webhooks, a bare array for images, and
one form object for a get.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

TOKEN = "tfp_depth4242abcdef"
LIMITS = Limits(max_attempts=1)
PAGES, TOKENS, ITEMS, ARRAY, ONE = "pages", "tokens", "items", "array", "one"

# (entity, action, params, path, expected query, answer kind)
TYPEFORM_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, str], str]] = [
    ("forms", "get", {"form_id": "u6nXL7"}, "/forms/u6nXL7", {}, ONE),
    ("forms", "list", {"search": "NPS", "workspace_id": "Aw33bz", "sort_by": "last_updated_at", "order_by": "desc",
                       "page_size": 2}, "/forms",
     {"search": "NPS", "workspace_id": "Aw33bz", "sort_by": "last_updated_at", "order_by": "desc", "page_size": "2"},
     PAGES),
    ("images", "list", {}, "/images", {}, ARRAY),
    ("responses", "list", {"form_id": "u6nXL7", "page_size": 2, "since": "2026-01-01T00:00:00Z",
                           "response_type": "completed", "fields": "ynfG,xQ2c"}, "/forms/u6nXL7/responses",
     {"page_size": "2", "since": "2026-01-01T00:00:00Z", "response_type": "completed", "fields": "ynfG,xQ2c"}, TOKENS),
    ("themes", "list", {"page_size": 2}, "/themes", {"page_size": "2"}, PAGES),
    ("webhooks", "list", {"form_id": "u6nXL7"}, "/forms/u6nXL7/webhooks", {}, ITEMS),
    ("workspaces", "list", {"search": "Marketing", "page_size": 2}, "/workspaces",
     {"search": "Marketing", "page_size": "2"}, PAGES),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], *, credentials: dict[str, Any] | None = None):
    return execute_operation(
        manifest=point_at(RAW["typeform"], httpserver.url_for("")),
        credentials=credentials or {"access_token": TOKEN},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )


def _page(ids: list[str]) -> dict[str, Any]:
    return {"total_items": 5, "page_count": 3, "items": [{"id": i, "token": f"tok_{i}"} for i in ids]}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["typeform"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in TYPEFORM_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "e7eff203-90bf-43e5-a240-19ea3056c474"
    reference = reference_operations("typeform")
    if reference is not None:
        assert reference <= ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "expected", "kind"),
    TYPEFORM_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in TYPEFORM_CASES],
)
def test_typeform_operation(httpserver, vendor, entity, action, params, path, expected, kind) -> None:
    one = {"id": "u6nXL7", "title": "NPS", "fields": []}
    answers = {
        PAGES: _page(["a", "b"]),
        TOKENS: _page(["a", "b"]),
        ITEMS: {"items": [{"id": "a"}, {"id": "b"}]},
        ARRAY: [{"id": "a"}, {"id": "b"}],
        ONE: one,
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert query_of(request) == expected
    if kind == ONE:
        assert result.result == one
    else:
        assert [r["id"] for r in result.result] == ["a", "b"]
    cursor = {PAGES: "2", TOKENS: "tok_b"}.get(kind)
    assert (result.has_next_page, result.end_cursor) == (cursor is not None, cursor)


def test_numbered_pages_ask_for_the_next_page_and_stop_on_a_short_one(httpserver, vendor) -> None:
    vendor.answer(_page(["a", "b"]))
    vendor.answer(_page(["c"]))
    first = _run(httpserver, "forms", "list", {"page_size": 2})
    last = _run(httpserver, "forms", "list", {"page_size": 2, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"page_size": "2", "page": "2"}
    assert [r["id"] for r in last.result] == ["c"]
    assert last.has_next_page is False


def test_responses_page_backwards_by_the_last_token(httpserver, vendor) -> None:
    vendor.answer(_page(["a", "b"]))
    vendor.answer(_page(["c"]))
    first = _run(httpserver, "responses", "list", {"form_id": "u6nXL7", "page_size": 2})
    last = _run(httpserver, "responses", "list", {"form_id": "u6nXL7", "page_size": 2, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"page_size": "2", "before": "tok_b"}
    assert last.has_next_page is False
    vendor.answer(_page([f"r{i}" for i in range(24)]))
    assert _run(httpserver, "responses", "list", {"form_id": "u6nXL7"}).has_next_page is False


def test_oauth_token_and_the_eu_data_center(httpserver, vendor, manifests) -> None:
    vendor.answer(_page([]))
    oauth = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "tok_oauth"}
    _run(httpserver, "workspaces", "list", {}, credentials=oauth)
    assert vendor.last.headers["Authorization"] == "Bearer tok_oauth"
    typeform = manifests["typeform"]
    assert typeform.oauth_scheme().oauth.token_url == "https://{config.api_host}/oauth/token"
    assert validate_replication_config(typeform, {"api_host": "api.eu.typeform.com"}) == {
        "api_host": "api.eu.typeform.com"
    }
    with pytest.raises(InvalidInput):
        validate_replication_config(typeform, {"api_host": "evil.example.com"})


def test_credential_shapes(manifests) -> None:
    typeform = manifests["typeform"]
    scheme, stored = validate_credentials(typeform, {"access_token": TOKEN})
    assert (scheme.key, stored) == ("access_token", {"auth_type": "access_token", "access_token": TOKEN})
    scheme, _ = validate_credentials(typeform, {"auth_type": "oauth2.0", "client_id": "c", "client_secret": "s",
                                                "refresh_token": "r"})  # fmt: skip
    assert scheme.key == "oauth"


def test_params_follow_typeforms_reference(manifests) -> None:
    typeform = manifests["typeform"]
    assert validate_params(typeform, "forms", "list", {"page_size": 201})
    assert validate_params(typeform, "responses", "list", {"form_id": "u6nXL7", "page_size": 1001})
    assert validate_params(typeform, "forms", "get", {"form_id": "../me"})
    assert validate_params(typeform, "forms", "list", {"sort_by": "title"})
    assert not validate_params(typeform, "responses", "list", {"form_id": "u6nXL7", "page_size": 1000})


def test_a_bad_token_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer({"code": "AUTHENTICATION_FAILED", "description": "Authentication credentials not found"}, status=403)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "forms", "list", {})
    assert caught.value.code == "credentials_rejected"

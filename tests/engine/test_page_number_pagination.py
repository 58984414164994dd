"""The `page` pagination style: numbered pages (ClickUp's `page` from 0; many APIs' from 1). The cursor is the next
page's number; the vendor's own last-page flag wins, then `has_more`, then a full page."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug import Response

from connectors.catalog import build_manifest
from connectors.catalog.loader import validate_manifest
from connectors.engine import Limits, execute_operation
from core.errors import OperationInputError

BASE: dict[str, Any] = {
    "definition_id": "0b5e2a71-3c1d-4d2e-9f5a-6b7c8d9e0f11",
    "slug": "pages-internal",
    "name": "Pages",
    "version": "1.0.0",
    "base_url": "https://pages.example.com",
    "auth_schemes": [
        {
            "key": "api_key",
            "title": "API key",
            "type": "api_key",
            "credentials_schema": {
                "type": "object",
                "required": ["api_key"],
                "additionalProperties": False,
                "properties": {"api_key": {"type": "string", "secret": True, "order": 0}},
            },
            "apply": [{"type": "bearer", "field": "api_key"}],
        }
    ],
    "entities": {
        "items": {
            "actions": {
                "list": {
                    "method": "GET",
                    "path": "/items",
                    "params": {
                        "type": "object",
                        "properties": {
                            "per_page": {"type": "integer", "in": "query", "default": 3},
                            "page": {"type": "integer", "in": "query", "minimum": 1},
                        },
                    },
                    "records": "items",
                    "pagination": {"type": "page", "limit_param": "per_page"},
                }
            }
        }
    },
}


def _manifest(httpserver, **pagination: Any):
    data = copy.deepcopy(BASE)
    data["entities"]["items"]["actions"]["list"]["pagination"].update(pagination)
    validate_manifest(data, path="pages.yaml")
    return build_manifest(data, overrides={"base_url": httpserver.url_for("").rstrip("/")})


def _serve(httpserver, bodies: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: list[dict[str, str]] = []

    def handler(request):
        seen.append(dict(parse_qsl(request.query_string.decode())))
        return Response(json.dumps(bodies.pop(0)), content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(handler)
    return seen


def _run(manifest, params: dict[str, Any]):
    return execute_operation(
        manifest=manifest,
        credentials={"api_key": "k"},
        config={},
        entity="items",
        action="list",
        params=params,
        limits=Limits(max_attempts=1),
    )


def _items(n: int, **extra: Any) -> dict[str, Any]:
    return {"items": [{"id": i} for i in range(n)], **extra}


def test_pages_from_one_by_default_and_a_short_page_ends(httpserver) -> None:
    """No flag in the body: a full page (per_page, else its default) means there may be more."""
    seen = _serve(httpserver, [_items(3), _items(2)])
    manifest = _manifest(httpserver)
    first = _run(manifest, {})
    assert (first.has_next_page, first.end_cursor) == (True, "2")
    last = _run(manifest, {"cursor": first.end_cursor})
    assert seen == [{}, {"page": "2"}]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_first_page_zero_and_the_vendors_last_page_flag_wins(httpserver) -> None:
    seen = _serve(httpserver, [_items(1, last_page=False), _items(5, last_page=True)])
    manifest = _manifest(httpserver, first_page=0, page_param="pg", is_last="last_page", full_page=100)
    first = _run(manifest, {})
    assert (first.has_next_page, first.end_cursor) == (True, "1")  # short, but the vendor says more
    last = _run(manifest, {"cursor": first.end_cursor})
    assert seen == [{}, {"pg": "1"}]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_has_more_and_a_caller_page(httpserver) -> None:
    _serve(httpserver, [_items(1, meta={"more": True}), _items(3, meta={"more": False})])
    manifest = _manifest(httpserver, has_more="meta.more")
    assert _run(manifest, {"page": 7}).end_cursor == "8"
    assert _run(manifest, {"page": 8}).has_next_page is False


def test_full_page_is_the_page_size_without_a_flag(httpserver) -> None:
    _serve(httpserver, [_items(4), _items(3)])
    manifest = _manifest(httpserver, full_page=4, limit_param="size")  # no size param: the vendor's fixed pages
    assert _run(manifest, {}).end_cursor == "2"
    assert _run(manifest, {}).has_next_page is False


@pytest.mark.parametrize("cursor", ["x", "-2", "2.0", "1234567890"])
def test_a_cursor_that_is_not_a_page_number_is_refused(httpserver, cursor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(_manifest(httpserver), {"cursor": cursor})
    assert caught.value.code == "invalid_cursor"

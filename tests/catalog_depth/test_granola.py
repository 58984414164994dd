"""Every Granola operation against a loopback stand-in that answers as Granola's public API reference
(docs.granola.ai/api-reference) documents.

Each case is written from Granola's reference, not from the manifest: the request the operation must send (method,
path, query, the API key as a bearer token) and what comes back: `{"notes": [...], "hasMore": bool, "cursor": ...}`
for the list, one note object for a get.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

KEY = "grn_depth4242abcdef"
LIMITS = Limits(max_attempts=1)
NEXT = "eyJjcmVkZW50aWFsfQ=="
LIST, ONE = "list", "one"

GRANOLA_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str]] = [
    ("notes", "get", {"note_id": "not_1d3tmYTlCICgjy", "include": "transcript"}, "GET", "/v1/notes/not_1d3tmYTlCICgjy",
     {"include": "transcript"}, ONE),
    ("notes", "list", {"created_after": "2026-01-01", "updated_after": "2026-01-15", "page_size": 30}, "GET",
     "/v1/notes", {"created_after": "2026-01-01", "updated_after": "2026-01-15", "page_size": "30"}, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any]):
    return execute_operation(
        manifest=point_at(RAW["granola"], httpserver.url_for("")),
        credentials={"api_key": KEY},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )


def _notes(ids: list[str], cursor: str | None) -> dict[str, Any]:
    return {
        "notes": [{"id": i, "object": "note", "title": i, "created_at": "2026-01-27T15:30:00Z"} for i in ids],
        "hasMore": cursor is not None,
        "cursor": cursor,
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["granola"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in GRANOLA_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "9023923c-002f-4131-9554-3ebdf56540a4"
    reference = reference_operations("granola")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    GRANOLA_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GRANOLA_CASES],
)
def test_granola_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    one = {"id": "not_1d3tmYTlCICgjy", "object": "note", "title": "Budget review", "transcript": []}
    vendor.answer(_notes(["not_a", "not_b"], NEXT) if kind == LIST else one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert query_of(request) == expected
    assert KEY not in request.query_string.decode()
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [n["id"] for n in result.result] == ["not_a", "not_b"]
        assert (result.has_next_page, result.end_cursor) == (True, NEXT)


def test_next_page_sends_the_cursor_granola_returned(httpserver, vendor) -> None:
    vendor.answer(_notes(["not_a", "not_b"], NEXT))
    vendor.answer(_notes(["not_c"], None))
    first = _run(httpserver, "notes", "list", {"page_size": 2})
    last = _run(httpserver, "notes", "list", {"page_size": 2, "cursor": first.end_cursor})
    assert query_of(vendor.requests[0]) == {"page_size": "2"}
    assert query_of(vendor.requests[1]) == {"page_size": "2", "cursor": NEXT}
    assert [n["id"] for n in last.result] == ["not_c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_has_more_false_ends_even_with_a_cursor(httpserver, vendor) -> None:
    vendor.answer({"notes": [{"id": "not_a"}], "hasMore": False, "cursor": "stale"})
    assert _run(httpserver, "notes", "list", {}).has_next_page is False


def test_params_follow_granolas_reference(manifests) -> None:
    granola = manifests["granola"]
    assert validate_params(granola, "notes", "list", {"page_size": 31})
    assert validate_params(granola, "notes", "get", {"note_id": "../me"})
    assert validate_params(granola, "notes", "get", {"note_id": "not_1", "include": "audio"})
    assert not validate_params(granola, "notes", "list", {"page_size": 1})


def test_a_bad_key_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer({"message": "Unauthorized"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "notes", "list", {})
    assert caught.value.code == "credentials_rejected"

"""Every Exa operation against a loopback stand-in that answers as Exa's API reference (exa.ai/docs/reference)
documents.

Each case is written from Exa's reference, not from the manifest: the request the operation must send (a POST with
the exact JSON body, the API key in the x-api-key header) and what comes back: `{"requestId", "results": [...],
"costDollars"}` (contents also `statuses`), one answer with no pages.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

KEY = "exa_depth_4242"
LIMITS = Limits(max_attempts=1)

# (entity, action, params, path, exact JSON body)
EXA_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, Any]]] = [
    ("contents", "list",
     {"urls": ["https://exa.ai/blog"], "text": {"maxCharacters": 1000}, "livecrawl": "fallback", "subpages": 1},
     "/contents",
     {"urls": ["https://exa.ai/blog"], "text": {"maxCharacters": 1000}, "livecrawl": "fallback", "subpages": 1}),
    ("search_results", "list",
     {"query": "startups building AI agents", "type": "auto", "numResults": 5, "category": "company",
      "includeDomains": ["ycombinator.com"], "startPublishedDate": "2026-01-01T00:00:00.000Z",
      "contents": {"text": True, "highlights": {"maxCharacters": 300}}},
     "/search",
     {"query": "startups building AI agents", "type": "auto", "numResults": 5, "category": "company",
      "includeDomains": ["ycombinator.com"], "startPublishedDate": "2026-01-01T00:00:00.000Z",
      "contents": {"text": True, "highlights": {"maxCharacters": 300}}}),
    ("similar_results", "list",
     {"url": "https://arxiv.org/abs/1706.03762", "numResults": 3, "excludeSourceDomain": True},
     "/findSimilar", {"url": "https://arxiv.org/abs/1706.03762", "numResults": 3, "excludeSourceDomain": True}),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["exa"], httpserver.url_for("")),
        credentials={"api_key": KEY},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _answer(urls: list[str]) -> dict[str, Any]:
    return {
        "requestId": "b5947044c4b78efa9552a7c89b306d95",
        "resolvedSearchType": "neural",
        "results": [{"id": u, "url": u, "title": u, "score": 0.5} for u in urls],
        "statuses": [{"id": u, "status": "success"} for u in urls],
        "costDollars": {"total": 0.005},
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["exa"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in EXA_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "7c3acca3-8781-4a4b-bb10-fd2e4500da18"
    reference = reference_operations("exa")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "body"), EXA_CASES, ids=[f"{c[0]}.{c[1]}" for c in EXA_CASES]
)
def test_exa_operation(httpserver, vendor, entity, action, params, path, body) -> None:
    vendor.answer(_answer(["https://a.example", "https://b.example"]))
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("POST", path)
    assert request.headers["x-api-key"] == KEY
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"].startswith("application/json")
    assert not request.query_string
    assert json.loads(vendor.bodies[-1]) == body
    assert KEY not in vendor.bodies[-1].decode()
    assert [r["url"] for r in result.result] == ["https://a.example", "https://b.example"]
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_searches_are_reads(manifests) -> None:
    exa = manifests["exa"]
    for entity, actions in exa.operations().items():
        for action in actions:
            assert exa.action(entity, action).is_read_only, (entity, action)


def test_params_follow_exas_reference(manifests) -> None:
    exa = manifests["exa"]
    assert validate_params(exa, "search_results", "list", {})  # query is required
    assert validate_params(exa, "search_results", "list", {"query": "x", "numResults": 101})
    assert validate_params(exa, "contents", "list", {"urls": []})
    assert validate_params(exa, "contents", "list", {"urls": ["u"], "livecrawl": "sometimes"})
    assert validate_params(exa, "similar_results", "list", {"numResults": 5})  # url is required
    assert not validate_params(exa, "contents", "list", {"urls": ["u"], "text": True, "highlights": {"query": "q"}})


def test_a_bad_key_is_credentials_rejected(httpserver, vendor) -> None:
    vendor.answer({"requestId": "r", "error": "Invalid API key", "tag": "INVALID_API_KEY"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "search_results", "list", {"query": "x"})
    assert caught.value.code == "credentials_rejected"


def test_exas_error_message_is_reported(httpserver, vendor) -> None:
    vendor.answer(
        {"requestId": "r", "error": "numResults must be at most 100", "tag": "INVALID_REQUEST_BODY"}, status=400
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "search_results", "list", {"query": "x"})
    assert caught.value.code == "bad_request"
    assert "numResults must be at most 100" in str(caught.value)


def test_the_check_is_one_small_search(manifests) -> None:
    check = manifests["exa"].check
    assert (check.entity, check.action) == ("search_results", "list")
    assert check.params["numResults"] == 1

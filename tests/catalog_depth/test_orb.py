"""Every Orb operation against a loopback stand-in that answers as Orb's API reference (docs.withorb.com) documents.

Each case is written from Orb's reference, not from the manifest: the request (GET, path, query with
`created_at[gte]`-style bounds; the API key as a bearer token) and the answer: `{"data": [...],
"pagination_metadata": {"has_more": bool, "next_cursor": ...}}` for lists (the next page sends `?cursor=`), one
resource object for a get.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from core.errors import UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

KEY = "orb_depth_4242abcdef"
LIMITS = Limits(max_attempts=1)
NEXT = "Z2V0X2N1c3RvbWVycw"
LIST, ONE = "list", "one"

ORB_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, str], str]] = [
    ("customers", "get", {"customer_id": "XuxCbt7x9L82yyeF"}, "/customers/XuxCbt7x9L82yyeF", {}, ONE),
    ("customers", "list", {"limit": 2, "created_at": {"gte": "2026-01-01T00:00:00Z"}}, "/customers",
     {"limit": "2", "created_at[gte]": "2026-01-01T00:00:00Z"}, LIST),
    ("invoices", "get", {"invoice_id": "gXcsPTVyC4YZa3Sc"}, "/invoices/gXcsPTVyC4YZa3Sc", {}, ONE),
    ("invoices", "list", {"customer_id": "XuxCbt7x9L82yyeF", "status": "issued", "date_type": "due_date",
                          "invoice_date": {"lt": "2026-02-01T00:00:00Z"}}, "/invoices",
     {"customer_id": "XuxCbt7x9L82yyeF", "status": "issued", "date_type": "due_date",
      "invoice_date[lt]": "2026-02-01T00:00:00Z"}, LIST),
    ("plans", "get", {"plan_id": "ZMwNQefe7J3ecf7W"}, "/plans/ZMwNQefe7J3ecf7W", {}, ONE),
    ("plans", "list", {"status": "active"}, "/plans", {"status": "active"}, LIST),
    ("subscriptions", "get", {"subscription_id": "VDGsT23osdLb84KD"}, "/subscriptions/VDGsT23osdLb84KD", {}, ONE),
    ("subscriptions", "list", {"external_customer_id": "acme-1", "status": "active", "limit": 100}, "/subscriptions",
     {"external_customer_id": "acme-1", "status": "active", "limit": "100"}, LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any]):
    return execute_operation(
        manifest=point_at(RAW["orb"], httpserver.url_for("")),
        credentials={"api_key": KEY},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )


def _page(ids: list[str], cursor: str | None) -> dict[str, Any]:
    return {
        "data": [{"id": i} for i in ids],
        "pagination_metadata": {"has_more": cursor is not None, "next_cursor": cursor},
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["orb"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in ORB_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "7f0455fb-4518-4ec0-b7a3-d808bf8081cc"
    reference = reference_operations("orb")
    if reference is not None:
        assert reference <= ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "expected", "kind"),
    ORB_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in ORB_CASES],
)
def test_orb_operation(httpserver, vendor, entity, action, params, path, expected, kind) -> None:
    one = {"id": "XuxCbt7x9L82yyeF", "name": "Acme"}
    vendor.answer(_page(["a", "b"], NEXT) if kind == LIST else one)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", "/" + path.lstrip("/"))
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert query_of(request) == expected
    if kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["a", "b"]
        assert (result.has_next_page, result.end_cursor) == (True, NEXT)


def test_next_page_sends_the_cursor_orb_returned(httpserver, vendor) -> None:
    vendor.answer(_page(["a", "b"], NEXT))
    vendor.answer(_page(["c"], None))
    first = _run(httpserver, "customers", "list", {"limit": 2})
    last = _run(httpserver, "customers", "list", {"limit": 2, "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"limit": "2", "cursor": NEXT}
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_has_more_false_ends_even_with_a_cursor(httpserver, vendor) -> None:
    vendor.answer({"data": [{"id": "a"}], "pagination_metadata": {"has_more": False, "next_cursor": "stale"}})
    assert _run(httpserver, "plans", "list", {}).has_next_page is False


def test_params_follow_orbs_reference(manifests) -> None:
    orb = manifests["orb"]
    assert validate_params(orb, "customers", "list", {"limit": 101})
    assert validate_params(orb, "invoices", "list", {"status": "open"})
    assert validate_params(orb, "subscriptions", "list", {"status": "paused"})
    assert validate_params(orb, "customers", "list", {"created_at": {"after": "2026-01-01"}})
    assert not validate_params(orb, "customers", "list", {"limit": 100})


def test_orbs_error_title_is_kept_and_a_bad_key_is_rejected(httpserver, vendor) -> None:
    vendor.answer({"status": 404, "title": "Customer not found", "type": "x"}, status=404)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "customers", "get", {"customer_id": "nope"})
    assert caught.value.code == "not_found"
    vendor.answer({"status": 401, "title": "Authentication error", "type": "x"}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "customers", "list", {})
    assert caught.value.code == "credentials_rejected"

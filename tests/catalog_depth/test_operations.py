"""Every Stripe and GitHub operation against a loopback stand-in that answers as the vendor documents.

Each case is written from the vendor's API reference, not from the manifest: the request the operation must send
(method, path, query or body, where the credentials go) and the shape of what comes back (a list of records with
pagination metadata, or one record).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.engine import Limits, execute_operation
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

STRIPE_KEY = "sk_test_depth_4242"
GITHUB_TOKEN = "ghp_depth_4242"
LIMITS = Limits(max_attempts=1)

# (entity, action, params, method, path, expected query or form body (a subset), answer kind)
LIST, SEARCH, ONE = "list", "search", "one"
STRIPE_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], str]] = [
    ("balance", "get", {}, "GET", "/v1/balance", {}, ONE),
    (
        "balance_transactions",
        "list",
        {"limit": 3, "type": "charge"},
        "GET",
        "/v1/balance_transactions",
        {"limit": "3", "type": "charge"},
        LIST,
    ),
    ("balance_transactions", "get", {"id": "txn_1"}, "GET", "/v1/balance_transactions/txn_1", {}, ONE),
    ("charges", "list", {"customer": "cus_1"}, "GET", "/v1/charges", {"customer": "cus_1"}, LIST),
    ("charges", "get", {"id": "ch_1"}, "GET", "/v1/charges/ch_1", {}, ONE),
    ("charges", "search", {"query": "amount>999"}, "GET", "/v1/charges/search", {"query": "amount>999"}, SEARCH),
    (
        "checkout_sessions",
        "create",
        {"mode": "payment", "success_url": "https://x.test/ok", "line_items": [{"price": "price_1", "quantity": 2}]},
        "POST",
        "/v1/checkout/sessions",
        {"mode": "payment", "line_items[0][price]": "price_1", "line_items[0][quantity]": "2"},
        ONE,
    ),
    (
        "customers",
        "create",
        {"email": "a@b.test", "metadata": {"k": "v"}},
        "POST",
        "/v1/customers",
        {"email": "a@b.test", "metadata[k]": "v"},
        ONE,
    ),
    ("customers", "delete", {"id": "cus_1"}, "DELETE", "/v1/customers/cus_1", {}, ONE),
    (
        "customers",
        "get",
        {"id": "cus_1", "expand": ["default_source"]},
        "GET",
        "/v1/customers/cus_1",
        {"expand[0]": "default_source"},
        ONE,
    ),
    (
        "customers",
        "list",
        {"limit": 2, "email": "a@b.test"},
        "GET",
        "/v1/customers",
        {"limit": "2", "email": "a@b.test"},
        LIST,
    ),
    (
        "customers",
        "search",
        {"query": "email:'a@b.test'", "limit": 5},
        "GET",
        "/v1/customers/search",
        {"query": "email:'a@b.test'", "limit": "5"},
        SEARCH,
    ),
    ("customers", "update", {"id": "cus_1", "name": "Ada"}, "POST", "/v1/customers/cus_1", {"name": "Ada"}, ONE),
    ("disputes", "get", {"id": "dp_1"}, "GET", "/v1/disputes/dp_1", {}, ONE),
    ("disputes", "list", {"charge": "ch_1"}, "GET", "/v1/disputes", {"charge": "ch_1"}, LIST),
    (
        "invoice_finalizations",
        "create",
        {"id": "in_1", "auto_advance": False},
        "POST",
        "/v1/invoices/in_1/finalize",
        {"auto_advance": "false"},
        ONE,
    ),
    ("invoice_sends", "create", {"id": "in_1"}, "POST", "/v1/invoices/in_1/send", {}, ONE),
    (
        "invoices",
        "create",
        {"customer": "cus_1", "collection_method": "send_invoice", "days_until_due": 30},
        "POST",
        "/v1/invoices",
        {"customer": "cus_1", "days_until_due": "30"},
        ONE,
    ),
    ("invoices", "get", {"id": "in_1"}, "GET", "/v1/invoices/in_1", {}, ONE),
    ("invoices", "list", {"status": "open"}, "GET", "/v1/invoices", {"status": "open"}, LIST),
    ("invoices", "search", {"query": "total>1000"}, "GET", "/v1/invoices/search", {"query": "total>1000"}, SEARCH),
    (
        "payment_intent_cancellations",
        "create",
        {"id": "pi_1", "cancellation_reason": "duplicate"},
        "POST",
        "/v1/payment_intents/pi_1/cancel",
        {"cancellation_reason": "duplicate"},
        ONE,
    ),
    (
        "payment_intent_confirmations",
        "create",
        {"id": "pi_1", "payment_method": "pm_1"},
        "POST",
        "/v1/payment_intents/pi_1/confirm",
        {"payment_method": "pm_1"},
        ONE,
    ),
    (
        "payment_intents",
        "create",
        {"amount": 500, "currency": "eur"},
        "POST",
        "/v1/payment_intents",
        {"amount": "500", "currency": "eur"},
        ONE,
    ),
    ("payment_intents", "get", {"id": "pi_1"}, "GET", "/v1/payment_intents/pi_1", {}, ONE),
    ("payment_intents", "list", {"customer": "cus_1"}, "GET", "/v1/payment_intents", {"customer": "cus_1"}, LIST),
    (
        "payment_intents",
        "search",
        {"query": "status:'succeeded'"},
        "GET",
        "/v1/payment_intents/search",
        {"query": "status:'succeeded'"},
        SEARCH,
    ),
    (
        "payment_intents",
        "update",
        {"id": "pi_1", "description": "Order 7"},
        "POST",
        "/v1/payment_intents/pi_1",
        {"description": "Order 7"},
        ONE,
    ),
    (
        "payment_method_attachments",
        "create",
        {"id": "pm_1", "customer": "cus_1"},
        "POST",
        "/v1/payment_methods/pm_1/attach",
        {"customer": "cus_1"},
        ONE,
    ),
    ("payouts", "get", {"id": "po_1"}, "GET", "/v1/payouts/po_1", {}, ONE),
    ("payouts", "list", {"status": "paid"}, "GET", "/v1/payouts", {"status": "paid"}, LIST),
    (
        "prices",
        "create",
        {"currency": "usd", "unit_amount": 1200, "product": "prod_1", "recurring": {"interval": "month"}},
        "POST",
        "/v1/prices",
        {"unit_amount": "1200", "recurring[interval]": "month"},
        ONE,
    ),
    ("products", "create", {"name": "T-shirt"}, "POST", "/v1/products", {"name": "T-shirt"}, ONE),
    ("products", "delete", {"id": "prod_1"}, "DELETE", "/v1/products/prod_1", {}, ONE),
    ("products", "get", {"id": "prod_1"}, "GET", "/v1/products/prod_1", {}, ONE),
    ("products", "list", {"active": True}, "GET", "/v1/products", {"active": "true"}, LIST),
    (
        "products",
        "search",
        {"query": "active:'true'"},
        "GET",
        "/v1/products/search",
        {"query": "active:'true'"},
        SEARCH,
    ),
    ("products", "update", {"id": "prod_1", "active": False}, "POST", "/v1/products/prod_1", {"active": "false"}, ONE),
    (
        "refunds",
        "create",
        {"payment_intent": "pi_1", "amount": 100},
        "POST",
        "/v1/refunds",
        {"payment_intent": "pi_1", "amount": "100"},
        ONE,
    ),
    ("refunds", "get", {"id": "re_1"}, "GET", "/v1/refunds/re_1", {}, ONE),
    ("refunds", "list", {"charge": "ch_1"}, "GET", "/v1/refunds", {"charge": "ch_1"}, LIST),
    (
        "subscriptions",
        "create",
        {"customer": "cus_1", "items": [{"price": "price_1"}]},
        "POST",
        "/v1/subscriptions",
        {"customer": "cus_1", "items[0][price]": "price_1"},
        ONE,
    ),
    (
        "subscriptions",
        "delete",
        {"id": "sub_1", "invoice_now": True},
        "DELETE",
        "/v1/subscriptions/sub_1",
        {"invoice_now": "true"},
        ONE,
    ),
    ("subscriptions", "get", {"id": "sub_1"}, "GET", "/v1/subscriptions/sub_1", {}, ONE),
    ("subscriptions", "list", {"status": "active"}, "GET", "/v1/subscriptions", {"status": "active"}, LIST),
    (
        "subscriptions",
        "search",
        {"query": "status:'active'"},
        "GET",
        "/v1/subscriptions/search",
        {"query": "status:'active'"},
        SEARCH,
    ),
    (
        "subscriptions",
        "update",
        {"id": "sub_1", "cancel_at_period_end": True},
        "POST",
        "/v1/subscriptions/sub_1",
        {"cancel_at_period_end": "true"},
        ONE,
    ),
]

REPO = {"owner": "octo", "repo": "hello"}
GQL_LIST, GQL_ONE = "graphql_list", "graphql_one"
WHOLE = "whole_list"  # a list GitHub answers in one piece (a directory's entries): no pagination
# GitHub: (entity, action, params, method, path, expected query / JSON body / GraphQL variables (a subset), kind,
# where the records are for GraphQL answers)
GITHUB_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str, str | None]] = [
    (
        "branches",
        "get",
        {**REPO, "branch": "release/1.x"},
        "GET",
        "/repos/octo/hello/branches/release/1.x",
        {},
        ONE,
        None,
    ),
    (
        "branches",
        "list",
        {**REPO, "protected": True},
        "GET",
        "/repos/octo/hello/branches",
        {"protected": "true"},
        LIST,
        None,
    ),
    (
        "comments",
        "create",
        {**REPO, "number": 7, "body": "Thanks!"},
        "POST",
        "/repos/octo/hello/issues/7/comments",
        {"body": "Thanks!"},
        ONE,
        None,
    ),
    ("comments", "get", {**REPO, "comment_id": 42}, "GET", "/repos/octo/hello/issues/comments/42", {}, ONE, None),
    (
        "comments",
        "list",
        {**REPO, "number": 7},
        "GET",
        "/repos/octo/hello/issues/7/comments",
        {"per_page": None},
        LIST,
        None,
    ),
    ("commits", "get", {**REPO, "sha": "abc123"}, "GET", "/repos/octo/hello/commits/abc123", {}, ONE, None),
    (
        "commits",
        "list",
        {**REPO, "path": "src/app.py", "per_page": 5},
        "GET",
        "/repos/octo/hello/commits",
        {"path": "src/app.py", "per_page": "5"},
        LIST,
        None,
    ),
    (
        "directory_content",
        "list",
        {**REPO, "path": "src/lib", "ref": "main"},
        "GET",
        "/repos/octo/hello/contents/src/lib",
        {"ref": "main"},
        WHOLE,
        None,
    ),
    (
        "discussions",
        "get",
        {**REPO, "number": 3},
        "POST",
        "/graphql",
        {"owner": "octo", "repo": "hello", "number": 3},
        GQL_ONE,
        "repository.discussion",
    ),
    (
        "discussions",
        "list",
        {**REPO, "first": 10},
        "POST",
        "/graphql",
        {"owner": "octo", "repo": "hello", "first": 10},
        GQL_LIST,
        "repository.discussions",
    ),
    (
        "discussions",
        "search",
        {"q": "repo:octo/hello is:unanswered"},
        "POST",
        "/graphql",
        {"query": "repo:octo/hello is:unanswered"},
        GQL_LIST,
        "search",
    ),
    (
        "file_content",
        "get",
        {**REPO, "path": "docs/README.md"},
        "GET",
        "/repos/octo/hello/contents/docs/README.md",
        {},
        ONE,
        None,
    ),
    ("issues", "create", {**REPO, "title": "Bug"}, "POST", "/repos/octo/hello/issues", {"title": "Bug"}, ONE, None),
    ("issues", "get", {**REPO, "number": 7}, "GET", "/repos/octo/hello/issues/7", {}, ONE, None),
    ("issues", "list", {**REPO, "state": "all"}, "GET", "/repos/octo/hello/issues", {"state": "all"}, LIST, None),
    (
        "issues",
        "search",
        {"q": "repo:octo/hello label:bug"},
        "GET",
        "/search/issues",
        {"q": "repo:octo/hello label:bug is:issue"},
        SEARCH,
        None,
    ),
    (
        "issues",
        "update",
        {**REPO, "number": 7, "state": "closed", "state_reason": "completed"},
        "PATCH",
        "/repos/octo/hello/issues/7",
        {"state": "closed", "state_reason": "completed"},
        ONE,
        None,
    ),
    (
        "labels",
        "get",
        {**REPO, "name": "good first issue"},
        "GET",
        "/repos/octo/hello/labels/good%20first%20issue",
        {},
        ONE,
        None,
    ),
    ("labels", "list", REPO, "GET", "/repos/octo/hello/labels", {}, LIST, None),
    ("milestones", "get", {**REPO, "number": 2}, "GET", "/repos/octo/hello/milestones/2", {}, ONE, None),
    (
        "milestones",
        "list",
        {**REPO, "state": "closed"},
        "GET",
        "/repos/octo/hello/milestones",
        {"state": "closed"},
        LIST,
        None,
    ),
    (
        "org_repositories",
        "list",
        {"org": "octo-org", "type": "sources"},
        "GET",
        "/orgs/octo-org/repos",
        {"type": "sources"},
        LIST,
        None,
    ),
    ("organizations", "get", {"org": "octo-org"}, "GET", "/orgs/octo-org", {}, ONE, None),
    ("organizations", "list", {}, "GET", "/user/orgs", {}, LIST, None),
    ("pr_comments", "get", {**REPO, "comment_id": 9}, "GET", "/repos/octo/hello/pulls/comments/9", {}, ONE, None),
    ("pr_comments", "list", {**REPO, "number": 5}, "GET", "/repos/octo/hello/pulls/5/comments", {}, LIST, None),
    (
        "project_items",
        "list",
        {"org": "octo-org", "number": 1},
        "POST",
        "/graphql",
        {"org": "octo-org", "project_number": 1},
        GQL_LIST,
        "organization.projectV2.items",
    ),
    (
        "projects",
        "get",
        {"org": "octo-org", "number": 1},
        "POST",
        "/graphql",
        {"org": "octo-org", "project_number": 1},
        GQL_ONE,
        "organization.projectV2",
    ),
    (
        "projects",
        "list",
        {"org": "octo-org"},
        "POST",
        "/graphql",
        {"org": "octo-org"},
        GQL_LIST,
        "organization.projectsV2",
    ),
    (
        "pull_requests",
        "create",
        {**REPO, "title": "Fix", "head": "fix-1", "base": "main"},
        "POST",
        "/repos/octo/hello/pulls",
        {"head": "fix-1", "base": "main"},
        ONE,
        None,
    ),
    ("pull_requests", "get", {**REPO, "number": 5}, "GET", "/repos/octo/hello/pulls/5", {}, ONE, None),
    (
        "pull_requests",
        "list",
        {**REPO, "state": "closed"},
        "GET",
        "/repos/octo/hello/pulls",
        {"state": "closed"},
        LIST,
        None,
    ),
    (
        "pull_requests",
        "search",
        {"query": "repo:octo/hello is:open"},
        "GET",
        "/search/issues",
        {"q": "repo:octo/hello is:open is:pr"},
        SEARCH,
        None,
    ),
    ("releases", "get", {**REPO, "tag": "v1.0.0"}, "GET", "/repos/octo/hello/releases/tags/v1.0.0", {}, ONE, None),
    ("releases", "list", REPO, "GET", "/repos/octo/hello/releases", {}, LIST, None),
    (
        "repositories",
        "create",
        {"name": "new-repo", "private": True},
        "POST",
        "/user/repos",
        {"name": "new-repo", "private": True},
        ONE,
        None,
    ),
    ("repositories", "get", REPO, "GET", "/repos/octo/hello", {}, ONE, None),
    ("repositories", "list", {"visibility": "public"}, "GET", "/user/repos", {"visibility": "public"}, LIST, None),
    (
        "repositories",
        "search",
        {"q": "tetris language:assembly", "sort": "stars"},
        "GET",
        "/search/repositories",
        {"q": "tetris language:assembly", "sort": "stars"},
        SEARCH,
        None,
    ),
    ("reviews", "list", {**REPO, "number": 5}, "GET", "/repos/octo/hello/pulls/5/reviews", {}, LIST, None),
    ("stargazers", "list", REPO, "GET", "/repos/octo/hello/stargazers", {}, LIST, None),
    ("tags", "get", {**REPO, "tag": "v1.0.0"}, "GET", "/repos/octo/hello/git/ref/tags/v1.0.0", {}, ONE, None),
    ("tags", "list", REPO, "GET", "/repos/octo/hello/tags", {}, LIST, None),
    ("teams", "get", {"org": "octo-org", "team_slug": "core"}, "GET", "/orgs/octo-org/teams/core", {}, ONE, None),
    ("teams", "list", {"org": "octo-org"}, "GET", "/orgs/octo-org/teams", {}, LIST, None),
    ("users", "get", {"username": "octocat"}, "GET", "/users/octocat", {}, ONE, None),
    ("users", "list", {"since": 10}, "GET", "/users", {"since": "10"}, LIST, None),
    ("users", "me", {}, "GET", "/user", {}, ONE, None),
    (
        "users",
        "search",
        {"q": "tom followers:>1000"},
        "GET",
        "/search/users",
        {"q": "tom followers:>1000"},
        SEARCH,
        None,
    ),
    ("viewer", "get", {}, "GET", "/user", {}, ONE, None),
    ("viewer_repositories", "list", {}, "GET", "/user/repos", {}, LIST, None),
]


def _ops(cases: list[tuple[Any, ...]]) -> set[str]:
    return {f"{case[0]}.{case[1]}" for case in cases}


@pytest.mark.parametrize(
    ("slug", "cases", "extras"),
    [("stripe", STRIPE_CASES, set()), ("github", GITHUB_CASES, {"users.me", "repositories.create"})],
)
def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests, slug, cases, extras) -> None:
    manifest = manifests[slug]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == _ops(cases), "a manifest operation without a stand-in case here (or the reverse)"
    reference = reference_operations(slug)
    if reference is not None:
        assert reference <= ours and ours - reference == extras


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    STRIPE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in STRIPE_CASES],
)
def test_stripe_operation(httpserver, vendor, entity, action, params, method, path, expected, kind) -> None:
    if kind == ONE:
        vendor.answer({"id": "obj_1", "object": entity.rstrip("s")})
    else:
        page = {"object": "list" if kind == LIST else "search_result", "url": path, "has_more": True}
        page["data"] = [{"id": "obj_1"}, {"id": "obj_2"}]
        if kind == SEARCH:
            page["next_page"] = "page_token_2"
        vendor.answer(page)
    result = execute_operation(
        manifest=point_at(RAW["stripe"], httpserver.url_for("")),
        credentials={"api_key": STRIPE_KEY},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert "Stripe-Account" not in request.headers
    if method == "POST":
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.headers.get("Idempotency-Key")  # a fresh key per execution makes the write safe to retry
        sent = dict(parse_qsl(vendor.bodies[-1].decode(), keep_blank_values=True))
        assert not query_of(request)
    else:
        sent = query_of(request)
        assert not vendor.bodies[-1]
    assert expected.items() <= sent.items(), sent
    # Path params (and their alias `id`) never leak into the query or body.
    assert "id" not in sent or entity == "products"
    if kind == ONE:
        assert result.result == {"id": "obj_1", "object": entity.rstrip("s")}
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert result.has_next_page is True and result.end_cursor


@pytest.mark.parametrize("kind", [LIST, SEARCH])
def test_stripe_next_page_goes_where_stripe_wants_it(httpserver, vendor, kind) -> None:
    """Lists continue with starting_after=<last id>; searches with page=<next_page>."""
    entity, action, params = (
        ("customers", "list", {"limit": 2}) if kind == LIST else ("customers", "search", {"query": "name:'A'"})
    )
    first = {"object": "list", "data": [{"id": "cus_1"}, {"id": "cus_2"}], "has_more": True}
    if kind == SEARCH:
        first["next_page"] = "tok_2"
    vendor.answer(first)
    vendor.answer({"object": "list", "data": [{"id": "cus_3"}], "has_more": False, "next_page": None})
    manifest = point_at(RAW["stripe"], httpserver.url_for(""))
    run = dict(
        manifest=manifest, credentials={"api_key": STRIPE_KEY}, config={}, entity=entity, action=action, limits=LIMITS
    )
    page_one = execute_operation(**run, params=params)
    page_two = execute_operation(**run, params={**params, "cursor": page_one.end_cursor})
    continued = query_of(vendor.requests[1])
    if kind == LIST:
        assert continued["starting_after"] == "cus_2"
    else:
        assert continued["page"] == "tok_2" and continued["query"] == "name:'A'"
    assert [r["id"] for r in page_two.result] == ["cus_3"]
    assert (page_two.has_next_page, page_two.end_cursor) == (False, None)


def _graphql_answer(where: str, kind: str) -> dict[str, Any]:
    inner: Any
    if kind == GQL_ONE:
        inner = {"id": "N_1", "number": 1, "title": "One"}
    else:
        inner = {
            "nodes": [{"id": "N_1"}, {"id": "N_2"}],
            "pageInfo": {"hasNextPage": True, "endCursor": "Y3Vyc29yOjI="},
        }
    for key in reversed(where.split(".")):
        inner = {key: inner}
    return {"data": inner}


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind", "where"),
    GITHUB_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GITHUB_CASES],
)
def test_github_operation(httpserver, vendor, entity, action, params, method, path, expected, kind, where) -> None:
    base = httpserver.url_for("").rstrip("/")
    link = {"Link": f'<{base}{path}?page=2&per_page=30>; rel="next", <{base}{path}?page=5>; rel="last"'}
    if kind == ONE:
        vendor.answer({"id": 1, "name": "one"})
    elif kind in (LIST, WHOLE):
        vendor.answer([{"id": 1}, {"id": 2}], headers=link if kind == LIST else {})
    elif kind == SEARCH:
        vendor.answer({"total_count": 40, "incomplete_results": False, "items": [{"id": 1}, {"id": 2}]}, headers=link)
    else:
        vendor.answer(_graphql_answer(where, kind))
    result = execute_operation(
        manifest=point_at(RAW["github"], httpserver.url_for("")),
        credentials={"personal_access_token": GITHUB_TOKEN},
        config={"repositories": ["octo/hello"]},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )
    request = vendor.last
    assert (request.method, request.path) == (method, path.replace("%20", " "))
    assert request.headers["Authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    if kind in (GQL_ONE, GQL_LIST):
        document = json.loads(vendor.bodies[-1])
        assert document["query"].lstrip().startswith("query")
        assert expected.items() <= document["variables"].items(), document["variables"]
    elif method in ("POST", "PATCH"):
        sent = json.loads(vendor.bodies[-1])
        assert expected.items() <= sent.items(), sent
        assert not {"owner", "repo", "number", "issue_number"} & set(sent)
    else:
        sent = query_of(request)
        assert {k: v for k, v in expected.items() if v is not None}.items() <= sent.items(), sent
        assert not {"owner", "repo", "number"} & set(sent)
    if kind == ONE:
        assert result.result == {"id": 1, "name": "one"}
        assert not result.has_next_page
    elif kind == GQL_ONE:
        assert result.result == {"id": "N_1", "number": 1, "title": "One"}
    elif kind == WHOLE:
        assert result.result == [{"id": 1}, {"id": 2}] and not result.has_next_page
    elif kind == GQL_LIST:
        assert [r["id"] for r in result.result] == ["N_1", "N_2"]
        assert result.has_next_page is True and result.end_cursor == "Y3Vyc29yOjI="
    else:
        assert [r["id"] for r in result.result] == [1, 2]
        assert result.has_next_page is True and result.end_cursor


def test_github_label_name_is_encoded_as_one_segment(httpserver, vendor) -> None:
    vendor.answer({"name": "a/b"})
    execute_operation(
        manifest=point_at(RAW["github"], httpserver.url_for("")),
        credentials={"personal_access_token": GITHUB_TOKEN},
        config={},
        entity="labels",
        action="get",
        params={**REPO, "name": "a/b"},
        limits=LIMITS,
    )
    assert vendor.bodies and "/labels/a%2Fb" in vendor.last.environ.get("RAW_URI", vendor.last.environ["REQUEST_URI"])


@pytest.mark.parametrize("path", ["", "/"])
def test_github_directory_listing_defaults_to_the_root(httpserver, vendor, path) -> None:
    vendor.answer([{"name": "README.md", "type": "file"}])
    params = {**REPO, **({"path": path} if path else {})}
    run = execute_operation(
        manifest=point_at(RAW["github"], httpserver.url_for("")),
        credentials={"personal_access_token": GITHUB_TOKEN},
        config={},
        entity="directory_content",
        action="list",
        params=params,
        limits=LIMITS,
    )
    assert vendor.last.path == "/repos/octo/hello/contents/"
    assert run.result == [{"name": "README.md", "type": "file"}]


@pytest.mark.parametrize("path", ["../secrets", "a/../../b", "a//b", "a\\b"])
def test_github_file_paths_cannot_climb_out(httpserver, vendor, path) -> None:
    from core.errors import OperationInputError

    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=point_at(RAW["github"], httpserver.url_for("")),
            credentials={"personal_access_token": GITHUB_TOKEN},
            config={},
            entity="file_content",
            action="get",
            params={**REPO, "path": path},
            limits=LIMITS,
        )
    assert caught.value.errors[0]["field"] == "params.path"
    assert not vendor.requests


def test_github_graphql_next_page_sends_the_end_cursor_as_after(httpserver, vendor) -> None:
    vendor.answer(_graphql_answer("repository.discussions", GQL_LIST))
    vendor.answer({"data": {"repository": {"discussions": {"nodes": [], "pageInfo": {"hasNextPage": False}}}}})
    run = {
        "manifest": point_at(RAW["github"], httpserver.url_for("")),
        "credentials": {"personal_access_token": GITHUB_TOKEN},
        "config": {},
        "entity": "discussions",
        "action": "list",
        "limits": LIMITS,
    }
    first = execute_operation(**run, params=REPO)
    last = execute_operation(**run, params={**REPO, "cursor": first.end_cursor})
    assert json.loads(vendor.bodies[1])["variables"] == {**REPO, "after": "Y3Vyc29yOjI="}
    assert (last.result, last.has_next_page) == ([], False)


def test_github_search_next_page_keeps_the_query(httpserver, vendor) -> None:
    base = httpserver.url_for("").rstrip("/")
    link = {"Link": f'<{base}/search/issues?q=bug+is%3Aissue&page=2>; rel="next"'}
    vendor.answer({"total_count": 3, "items": [{"id": 1}, {"id": 2}]}, headers=link)
    vendor.answer({"total_count": 3, "items": [{"id": 3}]})
    run = {
        "manifest": point_at(RAW["github"], httpserver.url_for("")),
        "credentials": {"personal_access_token": GITHUB_TOKEN},
        "config": {},
        "entity": "issues",
        "action": "search",
        "limits": LIMITS,
    }
    first = execute_operation(**run, params={"q": "bug"})
    second = execute_operation(**run, params={"q": "bug", "cursor": first.end_cursor})
    assert query_of(vendor.requests[1]) == {"q": "bug is:issue", "page": "2"}
    assert [r["id"] for r in second.result] == [3] and not second.has_next_page

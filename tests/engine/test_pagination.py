"""Every pagination style, against loopback vendors shaped like the real ones. end_cursor passed back as `cursor`
must fetch the next page, and a cursor must never take the call (or the credentials) to another host."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from werkzeug import Request, Response

from connectors.engine import Limits, OperationInputError, execute_operation
from connectors.engine.pagination import encode_link_token


def run(manifest, scheme, creds, entity, action, params, config=None):  # noqa: ANN001, ANN201
    return execute_operation(
        manifest=manifest,
        auth_scheme=scheme,
        credentials=creds,
        config=config or {},
        entity=entity,
        action=action,
        params=params,
        limits=Limits(max_attempts=1),
    )


def test_github_link_header(httpserver, manifests, stub) -> None:
    manifest = stub(manifests["github"])
    # GitHub's next links name a different path (/repositories/<id>/issues) and its own host; only the query counts.
    next_link = (
        '<https://api.github.com/repositories/1300192/issues?state=all&per_page=2&page=2>; rel="next", '
        '<https://api.github.com/repositories/1300192/issues?state=all&per_page=2&page=5>; rel="last"'
    )
    first_page = httpserver.expect_ordered_request("/repos/octo/hello/issues", query_string="state=all&per_page=2")
    first_page.respond_with_json([{"number": 1}, {"number": 2}], headers={"Link": next_link})
    httpserver.expect_ordered_request(
        "/repos/octo/hello/issues", query_string="state=all&per_page=2&page=2"
    ).respond_with_json([{"number": 3}])
    creds = {"personal_access_token": "ghp_x"}
    config = {"repositories": ["octo/hello"]}
    params = {"owner": "octo", "repo": "hello", "state": "all", "per_page": 2}
    first = run(manifest, "pat", creds, "issues", "list", params, config)
    assert first.result == [{"number": 1}, {"number": 2}]
    assert first.has_next_page and first.end_cursor
    assert "api.github.com" not in first.end_cursor
    second = run(manifest, "pat", creds, "issues", "list", {**params, "cursor": first.end_cursor}, config)
    assert second.result == [{"number": 3}]
    assert not second.has_next_page and second.end_cursor is None


def test_link_header_cursor_never_carries_query_credentials(httpserver, stub) -> None:
    from tests.engine.test_request_building import QUERY_MANIFEST

    manifest = stub(QUERY_MANIFEST)
    httpserver.expect_request("/things").respond_with_json(
        {"items": [1]}, headers={"Link": '<https://elsewhere.example/things?page=2&key=qk-secret-9>; rel="next"'}
    )
    result = run(manifest, "api_key", {"key": "qk-secret-9"}, "things", "list", {})
    assert result.has_next_page
    import base64

    decoded = base64.urlsafe_b64decode(result.end_cursor[4:] + "==").decode()
    assert decoded == "page=2" and "qk-secret-9" not in result.end_cursor


def test_link_token_replaces_query_but_keeps_host_and_auth(httpserver, stub) -> None:
    from tests.engine.test_request_building import QUERY_MANIFEST

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps({"items": []}), content_type="application/json")

    httpserver.expect_request("/things").respond_with_handler(handler)
    # A forged cursor trying to override the credential parameter.
    forged = encode_link_token([("page", "3"), ("key", "attacker")])
    run(stub(QUERY_MANIFEST), "api_key", {"key": "real-key-1"}, "things", "list", {"cursor": forged})
    assert parse_qsl(seen[0].query_string.decode()) == [("page", "3"), ("key", "real-key-1")]


@pytest.mark.parametrize("cursor", ["not-a-token", "lh1.%%%", "x" * 9000])
def test_garbage_link_cursor_is_invalid(manifests, cursor) -> None:
    with pytest.raises(OperationInputError) as caught:
        run(
            manifests["github"],
            "pat",
            {"personal_access_token": "t"},
            "repositories",
            "list",
            {"cursor": cursor},
            {"repositories": ["a/b"]},
        )
    assert caught.value.code == "invalid_cursor"


def test_stripe_starting_after_has_more(httpserver, manifests, stub) -> None:
    manifest = stub(manifests["stripe"])
    httpserver.expect_ordered_request("/v1/customers", query_string="limit=2").respond_with_json(
        {"object": "list", "url": "/v1/customers", "has_more": True, "data": [{"id": "cus_1"}, {"id": "cus_2"}]}
    )
    httpserver.expect_ordered_request("/v1/customers", query_string="limit=2&starting_after=cus_2").respond_with_json(
        {"object": "list", "url": "/v1/customers", "has_more": False, "data": [{"id": "cus_3"}]}
    )
    creds = {"api_key": "sk_test_x"}
    first = run(manifest, "api_key", creds, "customers", "list", {"limit": 2})
    assert (first.has_next_page, first.end_cursor) == (True, "cus_2")
    second = run(manifest, "api_key", creds, "customers", "list", {"limit": 2, "cursor": first.end_cursor})
    assert second.result == [{"id": "cus_3"}]
    assert (second.has_next_page, second.end_cursor) == (False, None)


def test_hubspot_paging_next_after(httpserver, manifests, stub) -> None:
    manifest = stub(manifests["hubspot"])
    httpserver.expect_ordered_request("/crm/v3/objects/contacts", query_string="limit=1").respond_with_json(
        {"results": [{"id": "1"}], "paging": {"next": {"after": "NTI1Cg%3D%3D", "link": "https://api.hubapi.com/x"}}}
    )
    httpserver.expect_ordered_request(
        "/crm/v3/objects/contacts", query_string="limit=1&after=NTI1Cg%253D%253D"
    ).respond_with_json({"results": [{"id": "2"}]})
    creds = {"access_token": "pat-na1-x"}
    first = run(manifest, "private_app", creds, "contacts", "list", {"limit": 1})
    assert (first.has_next_page, first.end_cursor) == (True, "NTI1Cg%3D%3D")
    second = run(manifest, "private_app", creds, "contacts", "list", {"limit": 1, "cursor": first.end_cursor})
    assert second.result == [{"id": "2"}] and not second.has_next_page


def test_linear_graphql_page_info(httpserver, manifests, stub) -> None:
    bodies: list[dict] = []

    def handler(request: Request) -> Response:
        document = json.loads(request.get_data())
        bodies.append(document)
        if document["variables"].get("after") == "cursor-1":
            data = {"issues": {"nodes": [{"id": "i2"}], "pageInfo": {"hasNextPage": False, "endCursor": "cursor-2"}}}
        else:
            data = {"issues": {"nodes": [{"id": "i1"}], "pageInfo": {"hasNextPage": True, "endCursor": "cursor-1"}}}
        return Response(json.dumps({"data": data}), content_type="application/json")

    httpserver.expect_request("/graphql", method="POST").respond_with_handler(handler)
    manifest = stub(manifests["linear"])
    first = run(manifest, "api_key", {"api_key": "k"}, "issues", "list", {"first": 1})
    assert first.result == [{"id": "i1"}] and (first.has_next_page, first.end_cursor) == (True, "cursor-1")
    second = run(manifest, "api_key", {"api_key": "k"}, "issues", "list", {"first": 1, "cursor": "cursor-1"})
    assert second.result == [{"id": "i2"}] and (second.has_next_page, second.end_cursor) == (False, None)
    assert bodies[1]["variables"] == {"first": 1, "after": "cursor-1"}


def test_jira_offset_start_at(httpserver, manifests, stub) -> None:
    manifest = stub(manifests["jira"])
    page = {"self": "x", "maxResults": 2, "total": 3}
    httpserver.expect_ordered_request("/rest/api/3/project/search", query_string="maxResults=2").respond_with_json(
        {**page, "startAt": 0, "isLast": False, "values": [{"key": "A"}, {"key": "B"}]}
    )
    httpserver.expect_ordered_request(
        "/rest/api/3/project/search", query_string="maxResults=2&startAt=2"
    ).respond_with_json({**page, "startAt": 2, "isLast": True, "values": [{"key": "C"}]})
    creds = {"email": "a@b.c", "api_token": "t"}
    config = {"site": "acme.atlassian.net"}
    first = run(manifest, "api_token", creds, "projects", "list", {"maxResults": 2}, config)
    assert (first.has_next_page, first.end_cursor) == (True, "2")
    second = run(manifest, "api_token", creds, "projects", "list", {"maxResults": 2, "cursor": "2"}, config)
    assert second.result == [{"key": "C"}] and (second.has_next_page, second.end_cursor) == (False, None)


def test_jira_offset_without_total_uses_page_size(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/rest/api/3/users").respond_with_json([{"accountId": str(i)} for i in range(50)])
    result = run(
        stub(manifests["jira"]),
        "api_token",
        {"email": "a@b.c", "api_token": "t"},
        "users",
        "list",
        {},
        {"site": "acme.atlassian.net"},
    )
    assert (result.has_next_page, result.end_cursor) == (True, "50")


@pytest.mark.parametrize("cursor", ["-1", "abc", "1e3"])
def test_offset_cursor_must_be_a_number(manifests, cursor) -> None:
    with pytest.raises(OperationInputError):
        run(
            manifests["jira"],
            "api_token",
            {"email": "a@b.c", "api_token": "t"},
            "projects",
            "list",
            {"cursor": cursor},
            {"site": "acme.atlassian.net"},
        )


def test_salesforce_next_records_url(httpserver, manifests, stub) -> None:
    manifest = stub(manifests["salesforce"])
    httpserver.expect_ordered_request("/query", query_string={"q": "SELECT Id FROM Account"}).respond_with_json(
        {
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": "/query/01gD0000002HU6KIAW-2000",
            "records": [{"Id": "001A"}, {"Id": "001B"}],
        }
    )
    httpserver.expect_ordered_request("/query/01gD0000002HU6KIAW-2000").respond_with_json(
        {"totalSize": 3, "done": True, "records": [{"Id": "001C"}]}
    )
    creds = {
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
        "access_token": "a",
        "instance_url": "https://acme.my.salesforce.com",
    }
    first = run(manifest, "oauth", creds, "soql", "query", {"q": "SELECT Id FROM Account"})
    assert (first.has_next_page, first.end_cursor) == (True, "/query/01gD0000002HU6KIAW-2000")
    second = run(manifest, "oauth", creds, "soql", "query", {"q": "SELECT Id FROM Account", "cursor": first.end_cursor})
    assert second.result == [{"Id": "001C"}] and not second.has_next_page


@pytest.mark.parametrize(
    "cursor",
    [
        "//evil.example/query/x",
        "https://evil.example/query/x",
        "/sobjects/Account/001",
        "/query/../sobjects/x",
        "query/x",
        "/query/%2e%2e/x",
        "/query\\x",
        "/query/x#frag",
        "@evil.example/query",
    ],
)
def test_next_url_cursor_cannot_leave_the_action(manifests, cursor) -> None:
    creds = {
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
        "access_token": "a",
        "instance_url": "https://acme.my.salesforce.com",
    }
    with pytest.raises(OperationInputError) as caught:
        run(manifests["salesforce"], "oauth", creds, "soql", "query", {"q": "x", "cursor": cursor})
    assert caught.value.code == "invalid_cursor"


def test_next_records_url_on_another_host_is_not_offered(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/query").respond_with_json(
        {"done": False, "nextRecordsUrl": "https://evil.example/query/x", "records": []}
    )
    creds = {
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
        "access_token": "a",
        "instance_url": "https://acme.my.salesforce.com",
    }
    result = run(stub(manifests["salesforce"]), "oauth", creds, "soql", "query", {"q": "x"})
    assert (result.has_next_page, result.end_cursor) == (False, None)


def test_notion_cursor_in_body(httpserver, manifests, stub) -> None:
    bodies: list[dict] = []

    def handler(request: Request) -> Response:
        body = json.loads(request.get_data())
        bodies.append(body)
        more = "start_cursor" not in body
        return Response(
            json.dumps(
                {
                    "object": "list",
                    "results": [{"id": len(bodies)}],
                    "has_more": more,
                    "next_cursor": "c-2" if more else None,
                }
            ),
            content_type="application/json",
        )

    httpserver.expect_request("/v1/data_sources/ds1/query", method="POST").respond_with_handler(handler)
    manifest = stub(manifests["notion"])
    first = run(
        manifest, "token", {"token": "ntn_x"}, "data_sources", "query", {"data_source_id": "ds1", "page_size": 1}
    )
    assert (first.has_next_page, first.end_cursor) == (True, "c-2")
    second = run(
        manifest,
        "token",
        {"token": "ntn_x"},
        "data_sources",
        "query",
        {"data_source_id": "ds1", "page_size": 1, "cursor": "c-2"},
    )
    assert not second.has_next_page
    assert bodies[1] == {"page_size": 1, "start_cursor": "c-2"}


def test_slack_empty_next_cursor_ends(httpserver, manifests, stub) -> None:
    httpserver.expect_ordered_request("/conversations.list", query_string="limit=1").respond_with_json(
        {"ok": True, "channels": [{"id": "C1"}], "response_metadata": {"next_cursor": "dGVhbTpDMDYx"}}
    )
    httpserver.expect_ordered_request(
        "/conversations.list", query_string="limit=1&cursor=dGVhbTpDMDYx"
    ).respond_with_json({"ok": True, "channels": [{"id": "C2"}], "response_metadata": {"next_cursor": ""}})
    manifest = stub(manifests["slack"])
    first = run(manifest, "api_token", {"api_token": "xoxb-1"}, "conversations", "list", {"limit": 1})
    assert first.end_cursor == "dGVhbTpDMDYx"
    second = run(
        manifest,
        "api_token",
        {"api_token": "xoxb-1"},
        "conversations",
        "list",
        {"limit": 1, "cursor": first.end_cursor},
    )
    assert second.result == [{"id": "C2"}] and (second.has_next_page, second.end_cursor) == (False, None)


def test_zendesk_cursor_pagination(httpserver, manifests, stub) -> None:
    httpserver.expect_ordered_request("/api/v2/tickets", query_string="page%5Bsize%5D=100").respond_with_json(
        {
            "tickets": [{"id": 1}],
            "meta": {"has_more": True, "after_cursor": "xxx", "before_cursor": "yyy"},
            "links": {"next": "https://acme.zendesk.com/api/v2/tickets.json?page%5Bafter%5D=xxx&page%5Bsize%5D=100"},
        }
    )
    httpserver.expect_ordered_request(
        "/api/v2/tickets", query_string="page%5Bsize%5D=100&page%5Bafter%5D=xxx"
    ).respond_with_json({"tickets": [{"id": 2}], "meta": {"has_more": False, "after_cursor": "zzz"}})
    manifest = stub(manifests["zendesk-support"])
    creds = {"email": "a@b.c", "api_token": "t"}
    first = run(manifest, "api_token", creds, "tickets", "list", {}, {"subdomain": "acme"})
    assert (first.has_next_page, first.end_cursor) == (True, "xxx")
    second = run(manifest, "api_token", creds, "tickets", "list", {"cursor": "xxx"}, {"subdomain": "acme"})
    assert second.result == [{"id": 2}] and (second.has_next_page, second.end_cursor) == (False, None)


def test_cursor_on_unpaginated_action_is_unknown_param(manifests) -> None:
    with pytest.raises(OperationInputError) as caught:
        run(
            manifests["github"],
            "pat",
            {"personal_access_token": "t"},
            "users",
            "me",
            {"cursor": "x"},
            {"repositories": ["a/b"]},
        )
    assert caught.value.errors[0]["error_code"] == "unknown_field"

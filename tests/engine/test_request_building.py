"""How the engine builds requests: auth apply styles, base_url placeholders, params placement and encoding."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qsl

import pytest
from werkzeug import Request, Response

from connectors.catalog.params import UnknownOperation
from connectors.engine import OperationInputError, execute_operation
from tests.engine.conftest import LOOPBACK


def capture(httpserver, uri, body=None, method=None, status=200):  # noqa: ANN001, ANN201
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        request.get_data()
        return Response(json.dumps(body if body is not None else {}), status=status, content_type="application/json")

    kwargs = {"method": method} if method else {}
    httpserver.expect_request(uri, **kwargs).respond_with_handler(handler)
    return seen


def test_bearer_github_pat(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/user", {"login": "octocat"})
    result = execute_operation(
        manifest=stub(manifests["github"]),
        auth_scheme="pat",
        credentials={"personal_access_token": "ghp_secret1"},
        config={"repositories": ["a/b"]},
        entity="users",
        action="me",
        params={},
    )
    assert result.result == {"login": "octocat"}
    assert result.status_code == 200 and result.attempts == 1 and not result.has_next_page
    assert seen[0].headers["Authorization"] == "Bearer ghp_secret1"
    assert seen[0].headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert seen[0].headers["Accept"] == "application/vnd.github+json"


def test_header_template_linear_raw_key(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/graphql", {"data": {"viewer": {"id": "u1"}}}, method="POST")
    result = execute_operation(
        manifest=stub(manifests["linear"]),
        auth_scheme="api_key",
        credentials={"api_key": "lin_api_abc"},
        config={},
        entity="users",
        action="me",
        params={},
    )
    assert result.result == {"id": "u1"}
    assert seen[0].headers["Authorization"] == "lin_api_abc"  # raw key, no Bearer
    document = json.loads(seen[0].get_data())
    assert document["query"].startswith("query Viewer") and document["variables"] == {}


def test_linear_oauth_uses_bearer(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/graphql", {"data": {"viewer": {"id": "u1"}}}, method="POST")
    execute_operation(
        manifest=stub(manifests["linear"]),
        auth_scheme="oauth",
        credentials={"access_token": "lin_oauth_tok"},
        config={},
        entity="users",
        action="me",
        params={},
    )
    assert seen[0].headers["Authorization"] == "Bearer lin_oauth_tok"


def _basic(request: Request) -> str:
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(encoded).decode()


def test_basic_jira_email_and_token(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/rest/api/3/myself", {"accountId": "abc"})
    execute_operation(
        manifest=stub(manifests["jira"]),
        auth_scheme="api_token",
        credentials={"email": "me@example.com", "api_token": "atl-token"},
        config={"site": "acme.atlassian.net"},
        entity="users",
        action="me",
        params={},
    )
    assert _basic(seen[0]) == "me@example.com:atl-token"


def test_basic_zendesk_token_form(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/api/v2/users/me", {"user": {"id": 7}})
    result = execute_operation(
        manifest=stub(manifests["zendesk-support"]),
        auth_scheme="api_token",
        credentials={"email": "agent@example.com", "api_token": "zd-token"},
        config={"subdomain": "acme"},
        entity="users",
        action="me",
        params={},
    )
    assert result.result == {"id": 7}
    assert _basic(seen[0]) == "agent@example.com/token:zd-token"


QUERY_MANIFEST = {
    "definition_id": "00000000-0000-4000-8000-000000000001",
    "slug": "querykey",
    "name": "Query Key API",
    "version": "1",
    "base_url": "http://placeholder",
    "auth_schemes": [
        {
            "key": "api_key",
            "title": "API key",
            "type": "api_key",
            "credentials_schema": {"type": "object", "properties": {"key": {"type": "string", "secret": True}}},
            "apply": [{"type": "query", "name": "key", "value": "{key}"}],
        }
    ],
    "entities": {
        "things": {
            "actions": {
                "list": {
                    "method": "GET",
                    "path": "/things",
                    "params": {"type": "object", "properties": {"q": {"type": "string"}}},
                    "records": "items",
                    "pagination": {"type": "link_header"},
                }
            }
        }
    },
}


def test_query_param_auth(httpserver, stub) -> None:
    seen = capture(httpserver, "/things", {"items": [1]})
    result = execute_operation(
        manifest=stub(QUERY_MANIFEST),
        credentials={"key": "qk-secret-1"},
        config={},
        entity="things",
        action="list",
        params={"q": "x y"},
    )
    assert result.result == [1]
    assert dict(parse_qsl(seen[0].query_string.decode())) == {"q": "x y", "key": "qk-secret-1"}
    assert "Authorization" not in seen[0].headers


def test_missing_access_token_is_reported_without_calling(manifests) -> None:
    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=manifests["hubspot"],
            auth_scheme="oauth",
            credentials={"client_id": "c", "client_secret": "s", "refresh_token": "r"},
            config={},
            entity="contacts",
            action="list",
            params={},
        )
    assert caught.value.code == "credentials_missing"
    assert caught.value.errors[0]["field"] == "credentials.access_token"


# --- base_url placeholders -------------------------------------------------------------------------------------


def test_config_placeholder_default_and_value(httpserver, manifests) -> None:
    capture(httpserver, "/user", {"login": "x"})
    github = manifests["github"]  # base_url "{config.api_url}", default https://api.github.com
    url = httpserver.url_for("").rstrip("/")
    result = execute_operation(
        manifest=github,
        auth_scheme="pat",
        credentials={"personal_access_token": "t"},
        config={"repositories": ["a/b"], "api_url": url},
        entity="users",
        action="me",
        params={},
        allow_http_hosts=LOOPBACK,
    )
    assert result.result == {"login": "x"}


def test_subdomain_placeholder_is_substituted(monkeypatch, manifests) -> None:
    from connectors.engine import executor

    calls = []

    def fake_send(session, **kwargs):  # noqa: ANN001, ANN202
        calls.append(kwargs["url"])
        from connectors.engine.http import RawResponse

        return RawResponse(200, {}, b'{"user": {"id": 1}}', kwargs["url"])

    monkeypatch.setattr(executor.http, "send_once", fake_send)
    execute_operation(
        manifest=manifests["zendesk-support"],
        auth_scheme="api_token",
        credentials={"email": "a@b.c", "api_token": "t"},
        config={"subdomain": "acme"},
        entity="users",
        action="me",
        params={},
    )
    execute_operation(
        manifest=manifests["salesforce"],
        auth_scheme="oauth",
        credentials={
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
            "access_token": "a",
            "instance_url": "https://acme.my.salesforce.com",
        },
        config={},
        entity="org",
        action="limits",
        params={},
    )
    execute_operation(
        manifest=manifests["jira"],
        auth_scheme="oauth",
        credentials={"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "a"},
        config={"site": "acme.atlassian.net", "cloud_id": "11111111-2222-3333-4444-555555555555"},
        entity="users",
        action="me",
        params={},
    )
    execute_operation(
        manifest=manifests["google-sheets"],
        auth_scheme="oauth",
        credentials={"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "a"},
        config={},
        entity="values",
        action="get",
        params={"spreadsheetId": "sheet1", "range": "Tab 1!A1:B2"},
    )
    assert calls[0] == "https://acme.zendesk.com/api/v2/users/me"
    assert calls[1] == "https://acme.my.salesforce.com/services/data/v68.0/limits"  # the default api_version
    assert calls[2] == "https://api.atlassian.com/ex/jira/11111111-2222-3333-4444-555555555555/rest/api/3/myself"
    assert calls[3] == "https://sheets.googleapis.com/v4/spreadsheets/sheet1/values/Tab%201%21A1%3AB2"


@pytest.mark.parametrize("subdomain", ["evil.com/x?", "evil.com#", "a@evil.com", "../x", "", "-x"])
def test_host_placeholder_rejects_values_that_change_the_host(manifests, subdomain) -> None:
    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=manifests["zendesk-support"],
            auth_scheme="api_token",
            credentials={"email": "a@b.c", "api_token": "t"},
            config={"subdomain": subdomain},
            entity="users",
            action="me",
            params={},
        )
    assert caught.value.code == "invalid_config"


@pytest.mark.parametrize(
    "instance_url", ["ftp://x.example", "https://user:pw@x.example", "https://x.example?a=1", None]
)
def test_url_placeholder_must_be_a_plain_origin(manifests, instance_url) -> None:
    creds = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "a"}
    if instance_url:
        creds["instance_url"] = instance_url
    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=manifests["salesforce"],
            auth_scheme="oauth",
            credentials=creds,
            config={},
            entity="org",
            action="limits",
            params={},
        )
    assert caught.value.code == "invalid_config"


# --- params ------------------------------------------------------------------------------------------------------


def test_path_params_are_quoted(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, re.compile("^/repos/"), {"id": 1})
    execute_operation(
        manifest=stub(manifests["github"]),
        auth_scheme="pat",
        credentials={"personal_access_token": "t"},
        config={"repositories": ["a/b"]},
        entity="repositories",
        action="get",
        params={"owner": "o x", "repo": "r/y"},
    )
    assert seen[0].environ["RAW_URI"] == "/repos/o%20x/r%2Fy"


@pytest.mark.parametrize("owner", ["..", "."])
def test_dot_segments_in_path_params_are_refused(manifests, owner) -> None:
    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=manifests["github"],
            auth_scheme="pat",
            credentials={"personal_access_token": "t"},
            config={"repositories": ["a/b"]},
            entity="repositories",
            action="get",
            params={"owner": owner, "repo": "r"},
        )
    assert caught.value.code == "invalid_params"


def test_stripe_form_body_with_bracket_nesting_and_idempotency_key(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/v1/customers", {"id": "cus_1"}, method="POST")
    execute_operation(
        manifest=stub(manifests["stripe"]),
        auth_scheme="api_key",
        credentials={"api_key": "sk_test_1"},
        config={},
        entity="customers",
        action="create",
        params={"email": "a@example.com", "metadata": {"order": "6735"}, "address": {"city": "Paris", "country": "FR"}},
    )
    request = seen[0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(request.get_data(as_text=True))) == {
        "email": "a@example.com",
        "metadata[order]": "6735",
        "address[city]": "Paris",
        "address[country]": "FR",
    }
    assert len(request.headers["Idempotency-Key"]) == 36


def test_stripe_query_arrays_and_objects(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/v1/customers", {"data": [], "has_more": False})
    execute_operation(
        manifest=stub(manifests["stripe"]),
        auth_scheme="api_key",
        credentials={"api_key": "sk_test_1"},
        config={},
        entity="customers",
        action="list",
        params={"limit": 3, "created": {"gte": 100}, "expand": ["data.x", "data.y"]},
    )
    assert parse_qsl(seen[0].query_string.decode()) == [
        ("limit", "3"),
        ("created[gte]", "100"),
        ("expand[0]", "data.x"),
        ("expand[1]", "data.y"),
    ]


def test_header_params(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/v1/customers/cus_1", {"id": "cus_1"})
    execute_operation(
        manifest=stub(manifests["stripe"]),
        auth_scheme="api_key",
        credentials={"api_key": "sk_test_1"},
        config={},
        entity="customers",
        action="get",
        params={"customer": "cus_1", "Stripe-Account": "acct_123"},
    )
    assert seen[0].headers["Stripe-Account"] == "acct_123"
    assert seen[0].query_string == b""


def test_hubspot_array_query_repeats_and_json_body(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/crm/v3/objects/contacts", {"results": [], "paging": {}}, method="GET")
    execute_operation(
        manifest=stub(manifests["hubspot"]),
        auth_scheme="private_app",
        credentials={"access_token": "pat-na1-x"},
        config={},
        entity="contacts",
        action="list",
        params={"properties": ["email", "firstname"], "archived": False},
    )
    assert parse_qsl(seen[0].query_string.decode()) == [
        ("properties", "email"),
        ("properties", "firstname"),
        ("archived", "false"),
    ]
    seen2 = capture(httpserver, "/crm/v3/objects/contacts", {"id": "1"}, method="POST")
    execute_operation(
        manifest=stub(manifests["hubspot"]),
        auth_scheme="private_app",
        credentials={"access_token": "pat-na1-x"},
        config={},
        entity="contacts",
        action="create",
        params={"properties": {"email": "a@example.com"}},
    )
    assert json.loads(seen2[0].get_data()) == {"properties": {"email": "a@example.com"}}


def test_defaults_fill_omitted_params(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/v1/search", {"results": [], "has_more": False}, method="POST")
    execute_operation(
        manifest=stub(manifests["notion"]),
        auth_scheme="token",
        credentials={"token": "ntn_1"},
        config={},
        entity="data_sources",
        action="list",
        params={"query": "Tasks"},
    )
    assert json.loads(seen[0].get_data()) == {
        "filter": {"property": "object", "value": "data_source"},
        "query": "Tasks",
    }
    assert seen[0].headers["Notion-Version"] == "2025-09-03"


def test_graphql_variables(httpserver, manifests, stub) -> None:
    seen = capture(httpserver, "/graphql", {"data": {"issue": {"id": "ENG-1"}}}, method="POST")
    result = execute_operation(
        manifest=stub(manifests["linear"]),
        auth_scheme="api_key",
        credentials={"api_key": "k"},
        config={},
        entity="issues",
        action="get",
        params={"id": "ENG-1"},
    )
    assert result.result == {"id": "ENG-1"}
    assert json.loads(seen[0].get_data())["variables"] == {"id": "ENG-1"}


def test_invalid_params_are_refused_before_any_call(manifests) -> None:
    with pytest.raises(OperationInputError) as caught:
        execute_operation(
            manifest=manifests["github"],
            auth_scheme="pat",
            credentials={"personal_access_token": "t"},
            config={"repositories": ["a/b"]},
            entity="issues",
            action="list",
            params={"owner": "o", "per_page": 500, "bogus": 1},
        )
    assert caught.value.code == "invalid_params"
    assert {(e["field"], e["error_code"]) for e in caught.value.errors} == {
        ("params.repo", "required"),
        ("params.per_page", "invalid_value"),
        ("params.bogus", "unknown_field"),
    }


def test_unknown_operation_lists_what_exists(manifests) -> None:
    with pytest.raises(UnknownOperation) as caught:
        execute_operation(
            manifest=manifests["github"],
            auth_scheme="pat",
            credentials={"personal_access_token": "t"},
            config={},
            entity="issues",
            action="explode",
            params={},
        )
    assert "list" in str(caught.value) and caught.value.available["issues"] == [
        "list",
        "get",
        "create",
        "update",
        "search",
    ]

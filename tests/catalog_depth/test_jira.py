"""Every Jira operation against a loopback stand-in that answers as Atlassian's Jira Cloud platform REST API v3
reference documents.

Each case is written from that reference, not from the manifest: the request the operation must send (method, path,
query, exact JSON body, HTTP Basic email:API token) and the shape of what comes back: a page of records (offset pages
with `startAt`/`maxResults`/`total`/`isLast`, bare arrays of users, or `/search/jql` with `nextPageToken`), one
object, or nothing (Jira's 204 and 201 answers without a body).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug import Request, Response

from connectors.catalog import ManifestError
from connectors.catalog.loader import validate_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.engine.urls import resolve_base_url
from connectors.models import Connector
from connectors.selectors import connector_credentials
from connectors.validation import validate_replication_config
from core.errors import InvalidInput
from tests.engine.conftest import RAW, point_at

from .conftest import Recorder, reference_operations
from .test_manifest_format import manifest_data

EMAIL, TOKEN = "ada@example.com", "atl_depth_4242"
LIMITS = Limits(max_attempts=1)
ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}]}
JQL = "project = ENG ORDER BY created DESC"

# What Jira answers, by kind: pages of records, one object, or no body at all.
VALUES, COMMENTS, WORKLOGS = "values", "comments", "worklogs"  # offset pages: {startAt, maxResults, total, <key>}
USERS = "users"  # a bare JSON array, paged by startAt/maxResults
JQL_PAGE = "jql"  # {issues, nextPageToken, isLast}
ARRAY, TRANSITIONS = "array", "transitions"  # every record at once
ONE, NO_BODY, CREATED_NO_BODY = "one", "204", "201"

# (entity, action, params, method, path, expected query, exact JSON body (None: no body), answer kind)
JIRA_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], Any, str]] = [
    ("users", "me", {"expand": "groups"}, "GET", "/rest/api/3/myself", {"expand": "groups"}, None, ONE),
    ("users", "list", {"maxResults": 2}, "GET", "/rest/api/3/users", {"maxResults": "2"}, None, USERS),
    ("users", "get", {"accountId": "5b10a284"}, "GET", "/rest/api/3/user", {"accountId": "5b10a284"}, None, ONE),
    ("users", "search", {"query": "john", "maxResults": 2}, "GET", "/rest/api/3/user/search",
     {"query": "john", "maxResults": "2"}, None, USERS),
    ("projects", "search", {"query": "eng", "keys": ["ENG", "OPS"], "maxResults": 2, "orderBy": "-name"},
     "GET", "/rest/api/3/project/search",
     {"query": "eng", "keys": ["ENG", "OPS"], "maxResults": "2", "orderBy": "-name"}, None, VALUES),
    ("projects", "get", {"projectIdOrKey": "ENG", "expand": "lead"}, "GET", "/rest/api/3/project/ENG",
     {"expand": "lead"}, None, ONE),
    ("issues", "search", {"jql": JQL, "maxResults": 2, "fields": ["summary", "status"]}, "GET",
     "/rest/api/3/search/jql", {"jql": JQL, "maxResults": "2", "fields": ["summary", "status"]}, None, JQL_PAGE),
    ("issues", "get", {"issueIdOrKey": "ENG-1", "fields": ["summary"]}, "GET", "/rest/api/3/issue/ENG-1",
     {"fields": "summary"}, None, ONE),
    ("issues", "create",
     {"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "Fix it", "description": ADF}},
     "POST", "/rest/api/3/issue", {},
     {"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "Fix it", "description": ADF}},
     ONE),
    ("issues", "update",
     {"issueIdOrKey": "ENG-1", "fields": {"summary": "New"}, "update": {"labels": [{"add": "triaged"}]},
      "notifyUsers": False},
     "PUT", "/rest/api/3/issue/ENG-1", {"notifyUsers": "false"},
     {"fields": {"summary": "New"}, "update": {"labels": [{"add": "triaged"}]}}, NO_BODY),
    ("issues", "delete", {"issueIdOrKey": "ENG-1", "deleteSubtasks": "true"}, "DELETE", "/rest/api/3/issue/ENG-1",
     {"deleteSubtasks": "true"}, None, NO_BODY),
    ("issues_assignee", "update", {"issueIdOrKey": "ENG-1", "accountId": "5b10a284"}, "PUT",
     "/rest/api/3/issue/ENG-1/assignee", {}, {"accountId": "5b10a284"}, NO_BODY),
    ("issue_comments", "list", {"issueIdOrKey": "ENG-1", "maxResults": 2, "orderBy": "-created"}, "GET",
     "/rest/api/3/issue/ENG-1/comment", {"maxResults": "2", "orderBy": "-created"}, None, COMMENTS),
    ("issue_comments", "get", {"issueIdOrKey": "ENG-1", "id": "10010", "expand": "renderedBody"}, "GET",
     "/rest/api/3/issue/ENG-1/comment/10010", {"expand": "renderedBody"}, None, ONE),
    ("issue_comments", "create",
     {"issueIdOrKey": "ENG-1", "body": ADF, "visibility": {"type": "role", "value": "Admins"}},
     "POST", "/rest/api/3/issue/ENG-1/comment", {}, {"body": ADF, "visibility": {"type": "role", "value": "Admins"}},
     ONE),
    ("issue_comments", "update", {"issueIdOrKey": "ENG-1", "id": "10010", "body": ADF, "notifyUsers": False},
     "PUT", "/rest/api/3/issue/ENG-1/comment/10010", {"notifyUsers": "false"}, {"body": ADF}, ONE),
    ("issue_comments", "delete", {"issueIdOrKey": "ENG-1", "id": "10010"}, "DELETE",
     "/rest/api/3/issue/ENG-1/comment/10010", {}, None, NO_BODY),
    ("issue_fields", "list", {}, "GET", "/rest/api/3/field", {}, None, ARRAY),
    ("issue_fields", "search", {"query": "story", "type": ["custom"], "maxResults": 2}, "GET",
     "/rest/api/3/field/search", {"query": "story", "type": "custom", "maxResults": "2"}, None, VALUES),
    ("issue_links", "create", {"type": {"name": "Duplicate"}, "inwardIssue": {"key": "HSP-1"},
                               "outwardIssue": {"key": "MKY-1"}, "comment": {"body": ADF}},
     "POST", "/rest/api/3/issueLink", {},
     {"type": {"name": "Duplicate"}, "inwardIssue": {"key": "HSP-1"}, "outwardIssue": {"key": "MKY-1"},
      "comment": {"body": ADF}}, CREATED_NO_BODY),
    ("issue_transitions", "list", {"issueIdOrKey": "ENG-1", "expand": "transitions.fields"}, "GET",
     "/rest/api/3/issue/ENG-1/transitions", {"expand": "transitions.fields"}, None, TRANSITIONS),
    ("issue_transitions", "create",
     {"issueIdOrKey": "ENG-1", "transition": {"id": "5"}, "fields": {"resolution": {"name": "Done"}}},
     "POST", "/rest/api/3/issue/ENG-1/transitions", {},
     {"transition": {"id": "5"}, "fields": {"resolution": {"name": "Done"}}}, NO_BODY),
    ("issue_worklogs", "list", {"issueIdOrKey": "ENG-1", "startedAfter": 1700000000000, "maxResults": 2}, "GET",
     "/rest/api/3/issue/ENG-1/worklog", {"startedAfter": "1700000000000", "maxResults": "2"}, None, WORKLOGS),
    ("issue_worklogs", "get", {"issueIdOrKey": "ENG-1", "id": "100028"}, "GET",
     "/rest/api/3/issue/ENG-1/worklog/100028", {}, None, ONE),
    ("issue_worklogs", "create",
     {"issueIdOrKey": "ENG-1", "started": "2021-01-17T12:34:00.000+0000", "timeSpentSeconds": 12000,
      "comment": ADF, "adjustEstimate": "leave"},
     "POST", "/rest/api/3/issue/ENG-1/worklog", {"adjustEstimate": "leave"},
     {"started": "2021-01-17T12:34:00.000+0000", "timeSpentSeconds": 12000, "comment": ADF}, ONE),
]  # fmt: skip
EXTRAS = {"users.me"}
NO_CONTENT = object()  # answer with an empty body


class JiraStandIn(Recorder):
    """The conftest recorder, able to answer as Jira does to writes: a 204 or 201 with no body."""

    def __call__(self, request: Request) -> Response:
        if self.answers and self.answers[0][1] is NO_CONTENT:
            status, _, headers = self.answers.pop(0)
            self.requests.append(request)
            self.bodies.append(request.get_data())
            return Response(b"", status=status, headers=headers)
        return super().__call__(request)


@pytest.fixture
def jira(httpserver) -> JiraStandIn:
    import re

    stand_in = JiraStandIn()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(stand_in)
    return stand_in


def _query(request) -> dict[str, Any]:
    """Query params; a repeated one (keys=A&keys=B, how Jira reads arrays) as a list."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(request.query_string.decode(), keep_blank_values=True):
        out[key] = [*out[key], value] if isinstance(out.get(key), list) else [out[key], value] if key in out else value
    return out


def _basic(request) -> str:
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(encoded).decode()


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["jira"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"email": EMAIL, "api_token": TOKEN}),
        config=kwargs.pop("config", {"site": "acme.atlassian.net"}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _records(ids: list[str]) -> list[dict[str, str]]:
    return [{"id": i, "self": f"https://acme.atlassian.net/rest/api/3/x/{i}"} for i in ids]


def _answer(kind: str, ids: list[str], *, start: int = 0, total: int = 5) -> tuple[Any, int]:
    """(body, status) as Jira's reference shows it for this kind of operation."""
    if kind in (VALUES, COMMENTS, WORKLOGS):
        page = {"startAt": start, "maxResults": 2, "total": total, kind: _records(ids)}
        return ({**page, "isLast": start + len(ids) >= total} if kind == VALUES else page), 200
    if kind in (USERS, ARRAY):
        return [{"accountId": i, "displayName": i.title()} for i in ids], 200
    if kind == JQL_PAGE:
        return {"issues": _records(ids), "nextPageToken": "tok_2", "isLast": False}, 200
    if kind == TRANSITIONS:
        return {"expand": "transitions", "transitions": [{"id": i, "name": i} for i in ids]}, 200
    if kind == NO_BODY:
        return NO_CONTENT, 204
    if kind == CREATED_NO_BODY:
        return NO_CONTENT, 201
    return {"id": "obj_1", "self": "https://acme.atlassian.net/rest/api/3/x/obj_1"}, 200


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests["jira"].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in JIRA_CASES}, "a manifest operation without a stand-in case here"
    assert RAW["jira"]["version"] == "2.0.0"
    reference = reference_operations("jira")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    JIRA_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in JIRA_CASES],
)
def test_jira_operation(httpserver, jira, entity, action, params, method, path, query, body, kind) -> None:
    answer, status = _answer(kind, ["a1", "a2"])
    jira.answer(answer, status=status)
    result = _run(httpserver, entity, action, params)
    request = jira.last
    assert (request.method, request.path) == (method, path)
    assert _basic(request) == f"{EMAIL}:{TOKEN}"
    assert _query(request) == query
    if body is None:
        assert not jira.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(jira.bodies[-1]) == body
    raw = request.query_string.decode() + jira.bodies[-1].decode()
    assert TOKEN not in raw and EMAIL not in raw  # the credentials go only in the Authorization header
    page = (result.has_next_page, result.end_cursor)
    if kind in (ONE, NO_BODY, CREATED_NO_BODY):
        assert result.result == (answer if kind == ONE else None)
        assert page == (False, None)
    elif kind in (ARRAY, TRANSITIONS):
        assert [r.get("id", r.get("accountId")) for r in result.result] == ["a1", "a2"]
        assert page == (False, None)
    else:
        assert [r.get("id", r.get("accountId")) for r in result.result] == ["a1", "a2"]
        assert page == ((True, "tok_2") if kind == JQL_PAGE else (True, "2"))


# --- Pagination -------------------------------------------------------------------------------------------------


def test_search_sends_next_page_token_and_stops_on_the_last_page(httpserver, jira) -> None:
    """/search/jql pages by token: the next request is the same search plus nextPageToken; no token means done."""
    jira.answer({"issues": _records(["ENG-1", "ENG-2"]), "nextPageToken": "tok_2", "isLast": False})
    jira.answer({"issues": _records(["ENG-3"]), "isLast": True})
    params = {"jql": JQL, "maxResults": 2}
    first = _run(httpserver, "issues", "search", params)
    last = _run(httpserver, "issues", "search", {**params, "cursor": first.end_cursor})
    before, after = _query(jira.requests[0]), _query(jira.requests[1])
    assert "nextPageToken" not in before and "startAt" not in after
    assert after == {**before, "nextPageToken": "tok_2"}
    assert [r["id"] for r in last.result] == ["ENG-3"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize(
    ("entity", "action", "params", "kind"),
    [
        ("issue_comments", "list", {"issueIdOrKey": "ENG-1", "maxResults": 2}, COMMENTS),
        ("issue_worklogs", "list", {"issueIdOrKey": "ENG-1", "maxResults": 2}, WORKLOGS),
        ("projects", "search", {"maxResults": 2}, VALUES),
        ("issue_fields", "search", {"maxResults": 2}, VALUES),
    ],
)
def test_offset_pages_send_start_at_and_end_at_the_total(httpserver, jira, entity, action, params, kind) -> None:
    jira.answer(_answer(kind, ["a", "b"], total=3)[0])
    jira.answer(_answer(kind, ["c"], start=2, total=3)[0])
    first = _run(httpserver, entity, action, params)
    assert (first.has_next_page, first.end_cursor) == (True, "2")
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert _query(jira.requests[1]) == {**_query(jira.requests[0]), "startAt": "2"}
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize(("entity", "action", "params"), [("users", "list", {}), ("users", "search", {"query": "a"})])
def test_user_lists_page_by_start_at_until_a_short_page(httpserver, jira, entity, action, params) -> None:
    """The user endpoints answer bare arrays without a total: a full page (maxResults, default 50) means more."""
    jira.answer([{"accountId": str(i)} for i in range(50)])
    jira.answer([{"accountId": "50"}])
    first = _run(httpserver, entity, action, params)
    assert (first.has_next_page, first.end_cursor) == (True, "50")
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    assert _query(jira.requests[1]) == {**params, "startAt": "50"}
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_unassign_sends_a_null_account_id(httpserver, jira) -> None:
    jira.answer(NO_CONTENT, status=204)
    _run(httpserver, "issues_assignee", "update", {"issueIdOrKey": "ENG-1", "accountId": None})
    assert json.loads(jira.bodies[-1]) == {"accountId": None}


def test_oauth_goes_through_the_gateway_with_a_bearer_token(httpserver, jira) -> None:
    jira.answer({"accountId": "me"})
    result = _run(
        httpserver,
        "users",
        "me",
        {},
        credentials={"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "oauth_1"},
        config={"site": "acme.atlassian.net", "cloud_id": "11111111-2222-3333-4444-555555555555"},
        auth_scheme="oauth",
    )
    assert jira.last.headers["Authorization"] == "Bearer oauth_1"
    assert result.result == {"accountId": "me"}


# --- Aliases: our earlier names, Airbyte's param names ------------------------------------------------------------


def test_aliases_resolve_to_airbytes_names(manifests) -> None:
    jira = manifests["jira"]
    assert "comments" not in jira.operations()  # listed once, under Airbyte's name
    assert jira.aliases() == {
        "issues.list": "issues.search",
        "projects.list": "projects.search",
        "comments.list": "issue_comments.list",
        "comments.get": "issue_comments.get",
        "comments.create": "issue_comments.create",
        "comments.update": "issue_comments.update",
        "comments.delete": "issue_comments.delete",
    }
    assert jira.action("issues", "list") is jira.action("issues", "search")
    assert jira.action("comments", "create") is jira.action("issue_comments", "create")


@pytest.mark.parametrize(
    ("alias", "canonical", "params"),
    [
        (("issues", "list"), ("issues", "search"), {"jql": JQL, "fields": ["summary"]}),
        (("projects", "list"), ("projects", "search"), {"query": "eng"}),
        (("comments", "list"), ("issue_comments", "list"), {"issueIdOrKey": "ENG-1"}),
        (("comments", "get"), ("issue_comments", "get"), {"issueIdOrKey": "ENG-1", "id": "10010"}),
        (("comments", "create"), ("issue_comments", "create"), {"issueIdOrKey": "ENG-1", "body": ADF}),
    ],
)
def test_an_alias_sends_the_same_request(httpserver, jira, alias, canonical, params) -> None:
    for _ in range(2):
        jira.answer({"issues": [], "values": [], "comments": [], "id": "x"})
    _run(httpserver, *alias, params)
    _run(httpserver, *canonical, params)
    first, second = jira.requests
    assert (first.method, first.path, first.query_string) == (second.method, second.path, second.query_string)
    assert jira.bodies[0] == jira.bodies[1]


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("issue_comments", "get", {"issueIdOrKey": "ENG-1", "commentId": "10010"}, "/issue/ENG-1/comment/10010"),
        ("issue_comments", "update", {"issueIdOrKey": "E-1", "commentId": "7", "body": ADF}, "/issue/E-1/comment/7"),
        ("comments", "delete", {"issueIdOrKey": "ENG-1", "commentId": "7"}, "/issue/ENG-1/comment/7"),
        ("issue_worklogs", "get", {"issueIdOrKey": "ENG-1", "worklogId": "100028"}, "/issue/ENG-1/worklog/100028"),
    ],
)  # fmt: skip
def test_airbytes_path_param_names_are_accepted(httpserver, jira, entity, action, params, path) -> None:
    jira.answer({"id": "x"})
    _run(httpserver, entity, action, params)
    assert jira.last.path == f"/rest/api/3{path}"
    assert not _query(jira.last)  # the alias is a path param, never sent as a query param


def test_both_names_of_a_path_param_are_refused_naming_both(manifests) -> None:
    params = {"issueIdOrKey": "ENG-1", "id": "1", "commentId": "2"}
    errors = validate_params(manifests["jira"], "issue_comments", "get", params)
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.id", "conflicting_fields"),
        ("params.commentId", "conflicting_fields"),
    }
    (missing,) = validate_params(manifests["jira"], "issue_worklogs", "get", {"issueIdOrKey": "ENG-1"})
    assert missing["field"] == "params.id" and missing["message"].endswith("Also accepted as worklogId.")


def test_search_needs_its_query(manifests) -> None:
    errors = validate_params(manifests["jira"], "issues", "search", {"maxResults": 10})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.jql", "required")]
    errors = validate_params(manifests["jira"], "issues", "search", {"jql": "project = ENG", "maxResults": 5001})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.maxResults", "invalid_value")]


# --- Configuration: subdomain beside site -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [{"subdomain": "acme"}, {"site": "acme.atlassian.net"}, {"site": "acme.atlassian.net", "subdomain": "acme"}],
)
def test_subdomain_stands_for_the_site(manifests, config) -> None:
    jira = manifests["jira"]
    stored = validate_replication_config(jira, config)
    assert stored == {"site": "acme.atlassian.net"}
    url = resolve_base_url(jira.base_url, config=stored, credentials={}, allowed_hosts=jira.allowed_hosts)
    assert url == "https://acme.atlassian.net"


def test_a_subdomain_and_a_site_that_disagree_are_refused_naming_both(manifests) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_replication_config(manifests["jira"], {"site": "other.atlassian.net", "subdomain": "acme"})
    errors = caught.value.errors
    assert {(e.field, e.error_code) for e in errors} == {
        ("replication_config.site", "conflicting_fields"),
        ("replication_config.subdomain", "conflicting_fields"),
    }
    assert "'<subdomain>.atlassian.net'" in errors[0].message and "same site" in errors[0].message


@pytest.mark.parametrize(
    ("config", "field", "code", "message"),
    [
        ({}, "replication_config.site", "required", "This field is required. Also accepted as subdomain."),
        ({"subdomain": "acme.atlassian.net"}, "replication_config.subdomain", "invalid_value", "Does not match"),
        ({"subdomain": "acme", "region": "eu"}, "replication_config.region", "unknown_field", "Unknown field."),
    ],
)
def test_config_errors_name_the_field_sent(manifests, config, field, code, message) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_replication_config(manifests["jira"], config)
    (error,) = caught.value.errors
    assert (error.field, error.error_code) == (field, code) and error.message.startswith(message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alias_of": "nope"}, "'nope' is not another config field"),
        ({"alias_of": "host"}, "'host' is not another config field"),
    ],
)
def test_the_loader_refuses_an_alias_of_no_other_field(change, message) -> None:
    data = manifest_data()
    data["config_schema"]["properties"]["host"] = {"type": "string", **change}
    with pytest.raises(ManifestError, match=message):
        validate_manifest(data, path="billing.yaml")


# --- Through the API: Airbyte's credential names and config ------------------------------------------------------

JIRA_ID = "68e63de2-bb83-4c7e-93fa-a8a9051e3993"
BASE = "/api/v1/integrations/connectors"
STORED = {"auth_type": "API Token", "email": EMAIL, "api_token": TOKEN}


def _create(api, credentials: dict[str, Any], config: dict[str, Any] | None = None):
    body = {"definition_id": JIRA_ID, "name": "Jira", "credentials": credentials}
    return api.post(BASE, {**body, "replication_config": config or {"subdomain": "acme"}})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials",
    [
        {"username": EMAIL, "password": TOKEN},
        {"auth_type": "API Token", "username": EMAIL, "password": TOKEN},
        {"email": EMAIL, "api_token": TOKEN},  # the seed document's shape, as before
        {"auth_type": "API Token", "email": EMAIL, "api_token": TOKEN},  # Airbyte's replication shape
    ],
)
def test_airbyte_credential_names_are_stored_under_ours(api, credentials) -> None:
    created = _create(api, credentials)
    assert created.status_code == 201, created.json()
    connector = Connector.objects.get(pk=created.json()["id"])
    assert connector.auth_scheme == "api_token"
    assert connector_credentials(connector) == STORED
    assert connector.replication_config == {"site": "acme.atlassian.net"}


@pytest.mark.django_db
def test_oauth_marker_picks_the_oauth_scheme(api) -> None:
    credentials = {"auth_type": "OAuth2.0", "client_id": "c", "client_secret": "s", "refresh_token": "r"}
    created = _create(api, credentials, {"subdomain": "acme", "cloud_id": "11111111-2222-3333-4444-555555555555"})
    assert created.status_code == 201, created.json()
    assert Connector.objects.get(pk=created.json()["id"]).auth_scheme == "oauth"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("credentials", "fields", "code"),
    [
        ({"username": EMAIL, "email": "eve@example.com", "api_token": TOKEN},
         {"credentials.username", "credentials.email"}, "conflicting_fields"),
        ({"auth_type": "Basic", "username": EMAIL, "password": TOKEN}, {"credentials.auth_type"}, "invalid_choice"),
        ({"username": EMAIL, "password": ""}, {"credentials.password"}, "invalid_value"),
    ],
)  # fmt: skip
def test_bad_credentials_are_refused_naming_the_field_sent(api, credentials, fields, code) -> None:
    answer = _create(api, credentials)
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == fields
    assert {e["error_code"] for e in answer.json()["errors"]} == {code}
    assert TOKEN not in answer.text


@pytest.mark.django_db
def test_a_conflicting_subdomain_is_a_422_with_a_clear_message(api) -> None:
    answer = _create(api, {"username": EMAIL, "password": TOKEN}, {"site": "other.atlassian.net", "subdomain": "acme"})
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert {e["field"] for e in errors} == {"replication_config.site", "replication_config.subdomain"}
    assert "subdomain and site disagree" in errors[0]["message"]
    assert not Connector.objects.exists()


@pytest.mark.django_db
def test_execute_through_the_api_under_our_earlier_name(api, httpserver, settings) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {"jira": {"base_url": httpserver.url_for("").rstrip("/")}}
    created = _create(api, {"username": EMAIL, "password": TOKEN})
    assert created.status_code == 201, created.json()
    page = {"startAt": 0, "maxResults": 1, "total": 2, "comments": [{"id": "10010", "body": ADF}]}
    httpserver.expect_request("/rest/api/3/issue/ENG-1/comment", method="GET").respond_with_json(page)
    body = {"entity": "comments", "action": "list", "params": {"issueIdOrKey": "ENG-1", "maxResults": 1}}
    answer = api.post(f"{BASE}/{created.json()['id']}/execute", body)
    assert answer.status_code == 200, answer.json()
    assert [r["id"] for r in answer.json()["result"]] == ["10010"]
    assert answer.json()["connector_metadata"]["end_cursor"] == "1"
    ((request, _response),) = httpserver.log
    assert _basic(request) == f"{EMAIL}:{TOKEN}"

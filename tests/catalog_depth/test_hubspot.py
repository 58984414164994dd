"""Every HubSpot operation against a loopback stand-in that answers as HubSpot's API reference documents (CRM objects
and search v3, associations v4, object schemas v3, owners v3).

Each case is written from HubSpot's reference, not from the manifest: the request the operation must send (method,
path, query, JSON body, the bearer credential) and the shape of what comes back (a page of `results` with
`paging.next.after`, one object, or nothing for a 204).
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qs

import pytest
from werkzeug import Request, Response

from connectors.catalog import ManifestError, build_manifest
from connectors.catalog.loader import validate_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.models import Connector
from connectors.selectors import connector_credentials
from core.errors import OperationInputError
from tests.engine.conftest import RAW, point_at

from .conftest import Recorder, reference_operations
from .test_manifest_format import manifest_data

TOKEN = "pat-na1-depth-4242"
LIMITS = Limits(max_attempts=1)
LIST, SEARCH, PAGE, ONE, NONE = "list", "search", "page", "one", "none"
EMPTY: dict[str, list[str]] = {}

TO_COMPANY = [{"to": {"id": "501"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]
FILTERS = [{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}]
NEWEST = [{"propertyName": "createdate", "direction": "DESCENDING"}]
WHEN = "2026-01-05T10:00:00Z"
READ = {"properties": ["hs_timestamp", "hs_body_preview"], "associations": ["contacts"]}
READ_QUERY = {"properties": ["hs_timestamp", "hs_body_preview"], "associations": ["contacts"]}
LABEL = [{"associationCategory": "USER_DEFINED", "associationTypeId": 36}]


def _engagement_cases(entity: str, id_param: str, properties: dict[str, str]) -> list[tuple]:
    base = f"/crm/v3/objects/{entity}"
    return [
        (entity, "create", {"properties": properties, "associations": TO_COMPANY},
         "POST", base, EMPTY, {"properties": properties, "associations": TO_COMPANY}, ONE),
        (entity, "delete", {id_param: "9001"}, "DELETE", f"{base}/9001", EMPTY, None, NONE),
        (entity, "get", {id_param: "9001", **READ}, "GET", f"{base}/9001", READ_QUERY, None, ONE),
        (entity, "list", {"limit": 20, "archived": True}, "GET", base, {"limit": ["20"], "archived": ["true"]}, None,
         LIST),
        (entity, "update", {id_param: "9001", "properties": {"hs_timestamp": WHEN}},
         "PATCH", f"{base}/9001", EMPTY, {"properties": {"hs_timestamp": WHEN}}, ONE),
    ]  # fmt: skip


def _search_case(entity: str) -> tuple:
    params = {"query": "acme", "filterGroups": FILTERS, "sorts": NEWEST, "properties": ["createdate"], "limit": 50}
    return (entity, "search", params, "POST", f"/crm/v3/objects/{entity}/search", EMPTY, params, SEARCH)


# (entity, action, params, method, path, expected query (parse_qs), expected JSON body (exact) or None, answer kind)
HUBSPOT_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, list[str]], Any, str]] = [
    ("associations", "create",
     {"objectType": "contacts", "objectId": "101", "toObjectType": "companies", "toObjectId": "501", "types": LABEL},
     "PUT", "/crm/v4/objects/contacts/101/associations/companies/501", EMPTY, LABEL, ONE),
    ("associations", "delete", {"objectType": "contacts", "objectId": "101", "toObjectType": "companies",
                                "toObjectId": "501"},
     "DELETE", "/crm/v4/objects/contacts/101/associations/companies/501", EMPTY, None, NONE),
    ("associations", "list", {"objectType": "deals", "objectId": "77", "toObjectType": "contacts", "limit": 100},
     "GET", "/crm/v4/objects/deals/77/associations/contacts", {"limit": ["100"]}, None, LIST),
    *_engagement_cases("calls", "callId", {"hs_timestamp": WHEN, "hs_call_title": "Intro",
                                           "hs_call_duration": "60000"}),
    ("companies", "create", {"properties": {"name": "Acme", "domain": "acme.com"}},
     "POST", "/crm/v3/objects/companies", EMPTY, {"properties": {"name": "Acme", "domain": "acme.com"}}, ONE),
    ("companies", "get", {"companyId": "501", "properties": ["name", "domain"], "archived": False},
     "GET", "/crm/v3/objects/companies/501", {"properties": ["name", "domain"], "archived": ["false"]}, None, ONE),
    ("companies", "list", {"limit": 100, "associations": ["contacts", "deals"]},
     "GET", "/crm/v3/objects/companies", {"limit": ["100"], "associations": ["contacts", "deals"]}, None, LIST),
    _search_case("companies"),
    ("companies", "update", {"companyId": "acme.com", "idProperty": "domain", "properties": {"city": "Paris"}},
     "PATCH", "/crm/v3/objects/companies/acme.com", {"idProperty": ["domain"]}, {"properties": {"city": "Paris"}},
     ONE),
    ("contacts", "create", {"properties": {"email": "ada@example.com", "firstname": "Ada"}, "associations": TO_COMPANY},
     "POST", "/crm/v3/objects/contacts", EMPTY,
     {"properties": {"email": "ada@example.com", "firstname": "Ada"}, "associations": TO_COMPANY}, ONE),
    ("contacts", "get",
     {"contactId": "ada@example.com", "idProperty": "email", "propertiesWithHistory": ["lifecyclestage"]},
     "GET", "/crm/v3/objects/contacts/ada@example.com",
     {"idProperty": ["email"], "propertiesWithHistory": ["lifecyclestage"]}, None, ONE),
    ("contacts", "list", {"limit": 5, "properties": ["email", "firstname"]},
     "GET", "/crm/v3/objects/contacts", {"limit": ["5"], "properties": ["email", "firstname"]}, None, LIST),
    _search_case("contacts"),
    ("contacts", "update", {"contactId": "101", "properties": {"lastname": "Lovelace", "phone": ""}},
     "PATCH", "/crm/v3/objects/contacts/101", EMPTY, {"properties": {"lastname": "Lovelace", "phone": ""}}, ONE),
    ("deals", "create", {"properties": {"dealname": "Renewal", "pipeline": "default", "dealstage": "qualifiedtobuy"}},
     "POST", "/crm/v3/objects/deals", EMPTY,
     {"properties": {"dealname": "Renewal", "pipeline": "default", "dealstage": "qualifiedtobuy"}}, ONE),
    ("deals", "get", {"dealId": "77", "associations": ["companies"]},
     "GET", "/crm/v3/objects/deals/77", {"associations": ["companies"]}, None, ONE),
    ("deals", "list", {}, "GET", "/crm/v3/objects/deals", EMPTY, None, LIST),
    _search_case("deals"),
    ("deals", "update", {"dealId": "77", "properties": {"amount": "2500"}},
     "PATCH", "/crm/v3/objects/deals/77", EMPTY, {"properties": {"amount": "2500"}}, ONE),
    *_engagement_cases("emails", "emailId", {"hs_timestamp": WHEN, "hs_email_direction": "EMAIL",
                                             "hs_email_subject": "Hello"}),
    *_engagement_cases("meetings", "meetingId", {"hs_timestamp": WHEN, "hs_meeting_title": "Kickoff"}),
    *_engagement_cases("notes", "noteId", {"hs_timestamp": WHEN, "hs_note_body": "Spoke with Ada"}),
    ("objects", "get", {"objectType": "2-123456", "objectId": "42", "properties": ["car_model"]},
     "GET", "/crm/v3/objects/2-123456/42", {"properties": ["car_model"]}, None, ONE),
    ("objects", "list", {"objectType": "p123_cars", "limit": 50},
     "GET", "/crm/v3/objects/p123_cars", {"limit": ["50"]}, None, LIST),
    ("owners", "get", {"ownerId": 3001, "idProperty": "userId"},
     "GET", "/crm/v3/owners/3001", {"idProperty": ["userId"]}, None, ONE),
    ("owners", "list", {"email": "rep@example.com", "limit": 500},
     "GET", "/crm/v3/owners", {"email": ["rep@example.com"], "limit": ["500"]}, None, LIST),
    ("schemas", "get", {"objectType": "p123_cars"}, "GET", "/crm-object-schemas/v3/schemas/p123_cars", EMPTY, None,
     ONE),
    ("schemas", "list", {"archived": False}, "GET", "/crm-object-schemas/v3/schemas", {"archived": ["false"]}, None,
     PAGE),
    *_engagement_cases("tasks", "taskId", {"hs_timestamp": WHEN, "hs_task_subject": "Follow up",
                                           "hs_task_status": "NOT_STARTED"}),
    ("tickets", "create", {"properties": {"subject": "Cannot log in", "hs_pipeline": "0", "hs_pipeline_stage": "1"}},
     "POST", "/crm/v3/objects/tickets", EMPTY,
     {"properties": {"subject": "Cannot log in", "hs_pipeline": "0", "hs_pipeline_stage": "1"}}, ONE),
    ("tickets", "get", {"ticketId": "88"}, "GET", "/crm/v3/objects/tickets/88", EMPTY, None, ONE),
    ("tickets", "list", {"properties": ["subject"]}, "GET", "/crm/v3/objects/tickets", {"properties": ["subject"]},
     None, LIST),
    _search_case("tickets"),
    ("tickets", "update", {"ticketId": "88", "properties": {"hs_pipeline_stage": "4"}},
     "PATCH", "/crm/v3/objects/tickets/88", EMPTY, {"properties": {"hs_pipeline_stage": "4"}}, ONE),
]  # fmt: skip
EXTRAS = {"owners.get", "owners.list"}
# What Patchbay offered before issue 11: still there, under the same names.
EARLIER = {
    "contacts.list", "contacts.get", "contacts.create", "contacts.search", "companies.list", "companies.get",
    "companies.create", "deals.list", "deals.get", "deals.create", "owners.list", "owners.get",
}  # fmt: skip


class HubSpotStandIn(Recorder):
    """The shared Recorder, plus HubSpot's `204 No Content` (deletes) with an empty body."""

    def __call__(self, request: Request) -> Response:
        if self.answers and self.answers[0][0] == 204:
            self.answers.pop(0)
            self.requests.append(request)
            self.bodies.append(request.get_data())
            return Response(status=204)
        return super().__call__(request)


@pytest.fixture
def hubspot(httpserver) -> HubSpotStandIn:
    import re

    recorder = HubSpotStandIn()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder)
    return recorder


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["hubspot"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"access_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def _page(ids: list[str], after: str | None, *, total: int | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"results": [{"id": i, "properties": {}, "archived": False} for i in ids]}
    if after is not None:
        page["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    if total is not None:
        page["total"] = total
    return page


def _query(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["hubspot"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in HUBSPOT_CASES}, "a manifest operation without a stand-in case here"
    assert len(HUBSPOT_CASES) == len(ours) == 54
    assert ours >= EARLIER  # nothing Patchbay offered before went away or changed its name
    assert RAW["hubspot"]["version"] == "2.0.0"
    reference = reference_operations("hubspot")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    HUBSPOT_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in HUBSPOT_CASES],
)
def test_hubspot_operation(httpserver, hubspot, entity, action, params, method, path, query, body, kind) -> None:
    one = {"id": "obj_1", "properties": {"hs_object_id": "obj_1"}, "archived": False}
    if kind == NONE:
        hubspot.answer(None, status=204)
    elif kind == ONE:
        hubspot.answer(one)
    else:
        hubspot.answer(
            _page(["obj_1", "obj_2"], None if kind == PAGE else "cursor_2", total=9 if kind == SEARCH else None)
        )
    result = _run(httpserver, entity, action, params)
    request = hubspot.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert _query(request) == query
    if body is None:
        assert not hubspot.bodies[-1]
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(hubspot.bodies[-1]) == body
    raw = request.query_string.decode() + hubspot.bodies[-1].decode()
    assert TOKEN not in raw  # the credential goes only in the Authorization header
    if kind == NONE:
        assert (result.result, result.has_next_page, result.end_cursor) == (None, False, None)
    elif kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        expected_next = (False, None) if kind == PAGE else (True, "cursor_2")
        assert (result.has_next_page, result.end_cursor) == expected_next


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params"),
    [
        ("contacts", "list", {"limit": 2, "properties": ["email"]}),
        ("calls", "list", {}),
        ("objects", "list", {"objectType": "2-123456"}),
        ("associations", "list", {"objectType": "contacts", "objectId": "1", "toObjectType": "deals"}),
        ("owners", "list", {"limit": 2}),
    ],
)
def test_next_page_of_a_list_sends_after_in_the_query(httpserver, hubspot, entity, action, params) -> None:
    hubspot.answer(_page(["a", "b"], "NTI1Cg%3D%3D"))
    hubspot.answer(_page(["c"], None))
    first = _run(httpserver, entity, action, params)
    assert first.end_cursor == "NTI1Cg%3D%3D"
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = _query(hubspot.requests[0]), _query(hubspot.requests[1])
    assert "after" not in before
    assert after == {**before, "after": ["NTI1Cg%3D%3D"]}  # the same request, one page on
    assert hubspot.requests[0].path == hubspot.requests[1].path
    assert [r["id"] for r in last.result] == ["c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


@pytest.mark.parametrize("entity", ["companies", "contacts", "deals", "tickets"])
def test_next_page_of_a_search_sends_after_in_the_json_body(httpserver, hubspot, entity) -> None:
    """HubSpot's search reads `after` from the JSON body, beside the same filters, and answers paging.next.after."""
    hubspot.answer(_page(["a", "b"], "2", total=3))
    hubspot.answer(_page(["c"], None, total=3))
    params = {"filterGroups": FILTERS, "sorts": NEWEST, "limit": 2}
    first = _run(httpserver, entity, "search", params)
    last = _run(httpserver, entity, "search", {**params, "cursor": first.end_cursor})
    before, after = json.loads(hubspot.bodies[0]), json.loads(hubspot.bodies[1])
    assert "after" not in before
    assert after == {**before, "after": "2"}
    assert not _query(hubspot.requests[1])
    assert [r["id"] for r in first.result + last.result] == ["a", "b", "c"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


# --- Search ---------------------------------------------------------------------------------------------------------


def test_search_with_only_a_query_sends_only_the_query(httpserver, hubspot) -> None:
    hubspot.answer(_page(["101"], None, total=1))
    result = _run(httpserver, "contacts", "search", {"query": "ada@example.com"})
    assert hubspot.last.path == "/crm/v3/objects/contacts/search"
    assert json.loads(hubspot.bodies[-1]) == {"query": "ada@example.com"}
    assert [r["id"] for r in result.result] == ["101"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 201}, "params.limit"),
        ({"query": "x" * 3001}, "params.query"),
        ({"filterGroups": FILTERS * 6}, "params.filterGroups"),
        ({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "a"}]}]},
         "params.filterGroups[0].filters[0].operator"),
        ({"sorts": [{"propertyName": "createdate", "direction": "DOWN"}]}, "params.sorts[0]"),
        ({"after": "2"}, "params.after"),  # the next page is asked for with `cursor`
    ],
)  # fmt: skip
def test_search_params_outside_hubspots_bounds_are_refused_before_any_call(httpserver, hubspot, params, field) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "deals", "search", params)
    assert field in {e["field"] for e in caught.value.errors}
    assert hubspot.requests == []


# --- Associations (v4): the JSON array body and Airbyte's from* param names -----------------------------------------


def test_associating_sends_the_association_types_as_a_json_array(httpserver, hubspot) -> None:
    answer = {"fromObjectTypeId": "0-1", "fromObjectId": "101", "toObjectTypeId": "0-2", "toObjectId": "501",
              "labels": ["Billing contact"]}  # fmt: skip
    hubspot.answer(answer)
    params = {"objectType": "contacts", "objectId": "101", "toObjectType": "companies", "toObjectId": "501"}
    types = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}, *LABEL]
    result = _run(httpserver, "associations", "create", {**params, "types": types})
    assert json.loads(hubspot.bodies[-1]) == types  # the array itself, not {"types": [...]}
    assert result.result == answer


@pytest.mark.parametrize("action", ["create", "delete", "list"])
def test_airbytes_from_names_build_the_same_request(httpserver, hubspot, action) -> None:
    ours = {"objectType": "contacts", "objectId": "101", "toObjectType": "companies"}
    airbyte = {"fromObjectType": "contacts", "fromObjectId": "101", "toObjectType": "companies"}
    if action != "list":
        ours["toObjectId"] = airbyte["toObjectId"] = "501"
    if action == "create":
        ours["types"] = airbyte["types"] = LABEL
    for _ in range(2):
        hubspot.answer(None, status=204) if action == "delete" else hubspot.answer(_page(["1"], None))
    _run(httpserver, "associations", action, ours)
    _run(httpserver, "associations", action, airbyte)
    first, second = hubspot.requests
    assert (first.method, first.path, first.query_string) == (second.method, second.path, second.query_string)
    assert hubspot.bodies[0] == hubspot.bodies[1]
    assert "fromObjectType" not in second.query_string.decode() + hubspot.bodies[1].decode()


def test_a_param_under_both_names_is_refused_naming_both(manifests) -> None:
    params = {"objectType": "contacts", "fromObjectType": "deals", "objectId": "1", "toObjectType": "companies"}
    errors = validate_params(manifests["hubspot"], "associations", "list", params)
    assert {e["field"] for e in errors} == {"params.objectType", "params.fromObjectType"}
    assert {e["error_code"] for e in errors} == {"conflicting_fields"}


def test_associating_needs_at_least_one_type(manifests) -> None:
    params = {"fromObjectType": "contacts", "fromObjectId": "1", "toObjectType": "companies", "toObjectId": "2"}
    errors = validate_params(manifests["hubspot"], "associations", "create", {**params, "types": []})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.types", "invalid_value")]
    (missing,) = validate_params(manifests["hubspot"], "associations", "create", params)
    assert (missing["field"], missing["error_code"]) == ("params.types", "required")


# --- Results and errors ---------------------------------------------------------------------------------------------


def test_an_unknown_record_is_not_found_with_hubspots_message(httpserver, hubspot) -> None:
    from connectors.engine import UpstreamError

    hubspot.answer({"status": "error", "message": "Object not found. objectId are usually numeric.",
                    "category": "OBJECT_NOT_FOUND", "correlationId": "aeb5f871"}, status=404)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "tickets", "get", {"ticketId": "nope"})
    assert caught.value.code == "not_found"
    assert "Object not found" in str(caught.value)


def test_oauth_access_token_is_sent_as_bearer(httpserver, hubspot) -> None:
    hubspot.answer(_page(["1"], None))
    credentials = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "oauth_tok_1"}
    _run(httpserver, "contacts", "list", {}, credentials=credentials, auth_scheme="oauth")
    assert hubspot.last.headers["Authorization"] == "Bearer oauth_tok_1"


# --- Manifest format: a whole JSON body (added for HubSpot's association labels) ------------------------------------


def _with_body_params(**properties: Any) -> dict[str, Any]:
    data = manifest_data()
    data["entities"]["labels"] = {
        "actions": {
            "set": {
                "method": "PUT",
                "path": "/invoices/{invoice}/labels",
                "params": {"type": "object", "properties": {"invoice": {"type": "string"}, **properties}},
            }
        }
    }
    return data


def test_a_whole_body_param_is_the_entire_json_body() -> None:
    data = _with_body_params(labels={"type": "array", "in": "body", "whole_body": True}, dry_run={"in": "query"})
    validate_manifest(data, path="billing.yaml")
    action = build_manifest(data).action("labels", "set")
    assert action.whole_body_param == "labels"
    assert build_manifest(manifest_data()).action("invoices", "get").whole_body_param is None


@pytest.mark.parametrize(
    ("properties", "method", "message"),
    [
        (
            {"labels": {"in": "body", "whole_body": True}, "note": {"type": "string"}},
            "PUT",
            "note would go in the body",
        ),
        ({"a": {"in": "body", "whole_body": True}, "b": {"in": "body", "whole_body": True}}, "PUT", "only one param"),
        ({"labels": {"in": "body", "whole_body": True}}, "GET", "JSON body"),
    ],
)
def test_the_loader_refuses_a_whole_body_beside_other_body_params(properties, method, message) -> None:
    data = _with_body_params(**copy.deepcopy(properties))
    data["entities"]["labels"]["actions"]["set"]["method"] = method
    with pytest.raises(ManifestError, match=message):
        validate_manifest(data, path="billing.yaml")


# --- Credentials: Airbyte's names and markers, through the API --------------------------------------------------------

HUBSPOT_ID = "36c891d9-4bd9-43ac-bad2-10e12756272c"
BASE = "/api/v1/integrations/connectors"
OAUTH = {"client_id": "hs-client", "client_secret": "hs-secret", "refresh_token": "hs-refresh"}
STORED_OAUTH = {"credentials_title": "OAuth Credentials", **OAUTH}
PRIVATE_APP = {"credentials_title": "Private App Credentials", "access_token": TOKEN}


def _create(api, credentials):
    return api.post(BASE, {"definition_id": HUBSPOT_ID, "name": "HubSpot", "credentials": credentials})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("credentials", "scheme", "stored"),
    [
        ({"private_app_token": TOKEN}, "private_app", PRIVATE_APP),
        (
            {"credentials_title": "Private App Credentials", "access_token": TOKEN},
            "private_app",
            {"credentials_title": "Private App Credentials", "access_token": TOKEN},
        ),
        (
            {"credentials_title": "Private App Credentials", "private_app_token": TOKEN},
            "private_app",
            {"credentials_title": "Private App Credentials", "access_token": TOKEN},
        ),
        ({"credentials_title": "OAuth Credentials", **OAUTH}, "oauth", STORED_OAUTH),
        # The seed document's shapes, exactly as before (the marker is added to what is stored).
        (OAUTH, "oauth", STORED_OAUTH),
        ({"access_token": TOKEN}, "private_app", PRIVATE_APP),
    ],
)  # fmt: skip
def test_airbyte_credential_names_are_stored_under_ours(api, credentials, scheme, stored) -> None:
    created = _create(api, credentials)
    assert created.status_code == 201, created.json()
    connector = Connector.objects.get(pk=created.json()["id"])
    assert connector.auth_scheme == scheme
    assert connector_credentials(connector) == stored


@pytest.mark.django_db
def test_a_token_under_both_names_is_refused_naming_both(api) -> None:
    answer = _create(api, {"private_app_token": "pat-a", "access_token": "pat-b"})
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {
        "credentials.private_app_token",
        "credentials.access_token",
    }
    assert {e["error_code"] for e in answer.json()["errors"]} == {"conflicting_fields"}
    assert "pat-a" not in answer.text and "pat-b" not in answer.text


@pytest.mark.django_db
def test_a_marker_that_names_no_scheme_is_refused(api) -> None:
    answer = _create(api, {"credentials_title": "API Key Credentials", "private_app_token": TOKEN})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["credentials.credentials_title"]


@pytest.mark.django_db
def test_errors_name_the_token_as_sent(api) -> None:
    answer = _create(api, {"private_app_token": ""})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["credentials.private_app_token"]


@pytest.mark.django_db
def test_a_connector_made_with_private_app_token_calls_hubspot_with_it(api, httpserver, settings) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {"hubspot": {"base_url": httpserver.url_for("").rstrip("/")}}
    created = _create(api, {"credentials_title": "Private App Credentials", "private_app_token": TOKEN})
    assert created.status_code == 201, created.json()
    httpserver.expect_request(
        "/crm/v3/objects/tickets/search", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json(_page(["88"], "10", total=11))
    body = {"entity": "tickets", "action": "search", "params": {"query": "login"}}
    answer = api.post(f"{BASE}/{created.json()['id']}/execute", body)
    assert answer.status_code == 200, answer.json()
    assert [r["id"] for r in answer.json()["result"]] == ["88"]
    assert answer.json()["connector_metadata"]["end_cursor"] == "10"

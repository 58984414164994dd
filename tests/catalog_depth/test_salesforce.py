"""Every Salesforce operation against a loopback stand-in that answers as Salesforce's REST API Developer Guide
(API version 68.0, Winter '27) documents.

Each case is written from Salesforce's reference, not from the manifest: the request the operation must send
(method, the full `/services/data/v68.0/...` path, query or exact JSON body, the bearer access token) and the shape of
what comes back: a Query result (`records`, paged by `nextRecordsUrl` until `done`), a Search result
(`searchRecords`, one answer), one record, a create result (`{id, success, errors}`) or a 204 with no body.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from werkzeug import Request, Response

from connectors.catalog import Manifest, build_manifest
from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from core.errors import OperationInputError, UpstreamError
from tests.engine.conftest import RAW

from .conftest import Recorder, query_of, reference_operations

ACCESS_TOKEN = "00Dxx0000001gPL!depth_4242"
API_VERSION = "v68.0"
DATA = f"/services/data/{API_VERSION}"
LIMITS = Limits(max_attempts=1)
ACC = "001Dn00000A1b2cIAB"
REPORT = "00OD0000001ZbP7MAK"
QUERY, SEARCH, DESCRIBE, REPORTS, ONE, CREATED = "query", "search", "describe", "reports", "one", "created"
NO_CONTENT, FILE = "204", "file"
EMPTY = object()  # the stand-in answers 204 with no body
PDF = b"%PDF-1.7\n\x00\xff\xfe binary \x80 content"
NEXT = f"{DATA}/query/01gD0000002HU6KIAW-2000"


def soql(object_name: str, order: str = "CreatedDate") -> re.Pattern[str]:
    """The default SOQL of a list: some fields, starting with Id, from the object, in a stable order."""
    return re.compile(rf"SELECT Id, [A-Za-z, ]+ FROM {object_name} ORDER BY {order}")  # noqa: S608 - a pattern


SOSL = "FIND {Acme*} IN NAME FIELDS RETURNING Account(Id, Name) LIMIT 20"

# (entity, action, params, method, path, expected query (GET/DELETE) or JSON body (exact), answer kind)
SALESFORCE_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str]] = [
    ("accounts", "create", {"Name": "Acme", "Industry": "Energy", "Custom__c": "x"}, "POST", f"{DATA}/sobjects/Account",
     {"Name": "Acme", "Industry": "Energy", "Custom__c": "x"}, CREATED),
    ("accounts", "delete", {"id": ACC}, "DELETE", f"{DATA}/sobjects/Account/{ACC}", {}, NO_CONTENT),
    ("accounts", "get", {"id": ACC, "fields": "Id,Name"}, "GET", f"{DATA}/sobjects/Account/{ACC}",
     {"fields": "Id,Name"}, ONE),
    ("accounts", "list", {}, "GET", f"{DATA}/query", {"q": soql("Account")}, QUERY),
    ("accounts", "search", {"q": SOSL}, "GET", f"{DATA}/search", {"q": SOSL}, SEARCH),
    ("accounts", "update", {"id": ACC, "Phone": "+1 555 0100", "Rating__c": "Hot"}, "PATCH",
     f"{DATA}/sobjects/Account/{ACC}", {"Phone": "+1 555 0100", "Rating__c": "Hot"}, NO_CONTENT),
    ("attachments", "download", {"id": "00PDn000001AbCdMAK"}, "GET",
     f"{DATA}/sobjects/Attachment/00PDn000001AbCdMAK/Body", {}, FILE),
    ("attachments", "get", {"id": "00PDn000001AbCdMAK"}, "GET", f"{DATA}/sobjects/Attachment/00PDn000001AbCdMAK", {},
     ONE),
    ("attachments", "list", {}, "GET", f"{DATA}/query", {"q": soql("Attachment")}, QUERY),
    ("campaigns", "create", {"Name": "Spring webinar", "StartDate": "2027-03-01", "IsActive": True}, "POST",
     f"{DATA}/sobjects/Campaign", {"Name": "Spring webinar", "StartDate": "2027-03-01", "IsActive": True}, CREATED),
    ("campaigns", "delete", {"id": "701Dn000000AbCdIAK"}, "DELETE", f"{DATA}/sobjects/Campaign/701Dn000000AbCdIAK",
     {}, NO_CONTENT),
    ("campaigns", "get", {"id": "701Dn000000AbCdIAK"}, "GET", f"{DATA}/sobjects/Campaign/701Dn000000AbCdIAK", {}, ONE),
    ("campaigns", "list", {}, "GET", f"{DATA}/query", {"q": soql("Campaign")}, QUERY),
    ("campaigns", "search", {"q": "FIND {webinar} RETURNING Campaign(Id)"}, "GET", f"{DATA}/search",
     {"q": "FIND {webinar} RETURNING Campaign(Id)"}, SEARCH),
    ("campaigns", "update", {"id": "701Dn000000AbCdIAK", "Status": "Completed"}, "PATCH",
     f"{DATA}/sobjects/Campaign/701Dn000000AbCdIAK", {"Status": "Completed"}, NO_CONTENT),
    ("cases", "create", {"Subject": "Outage", "Priority": "High", "AccountId": ACC}, "POST", f"{DATA}/sobjects/Case",
     {"Subject": "Outage", "Priority": "High", "AccountId": ACC}, CREATED),
    ("cases", "delete", {"id": "500Dn000000AbCdIAK"}, "DELETE", 
     f"{DATA}/sobjects/Case/500Dn000000AbCdIAK", {}, NO_CONTENT),
    ("cases", "get", {"id": "500Dn000000AbCdIAK"}, "GET", f"{DATA}/sobjects/Case/500Dn000000AbCdIAK", {}, ONE),
    ("cases", "list", {}, "GET", f"{DATA}/query", {"q": soql("Case")}, QUERY),
    ("cases", "search", {"q": "FIND {outage} RETURNING Case(Id, Subject)"}, "GET", f"{DATA}/search",
     {"q": "FIND {outage} RETURNING Case(Id, Subject)"}, SEARCH),
    ("cases", "update", {"id": "500Dn000000AbCdIAK", "Status": "Closed"}, "PATCH",
     f"{DATA}/sobjects/Case/500Dn000000AbCdIAK", {"Status": "Closed"}, NO_CONTENT),
    ("contacts", "create", {"LastName": "Doe", "FirstName": "Jane", "AccountId": ACC}, "POST",
     f"{DATA}/sobjects/Contact", {"LastName": "Doe", "FirstName": "Jane", "AccountId": ACC}, CREATED),
    ("contacts", "delete", {"id": "003Dn000000AbCdIAK"}, "DELETE", f"{DATA}/sobjects/Contact/003Dn000000AbCdIAK", {},
     NO_CONTENT),
    ("contacts", "get", {"id": "003Dn000000AbCdIAK"}, "GET", f"{DATA}/sobjects/Contact/003Dn000000AbCdIAK", {}, ONE),
    ("contacts", "list", {}, "GET", f"{DATA}/query", {"q": soql("Contact")}, QUERY),
    ("contacts", "search", {"q": "FIND {jane@example.com} IN EMAIL FIELDS RETURNING Contact(Id)"}, "GET",
     f"{DATA}/search", {"q": "FIND {jane@example.com} IN EMAIL FIELDS RETURNING Contact(Id)"}, SEARCH),
    ("contacts", "update", {"id": "003Dn000000AbCdIAK", "Title": "CTO"}, "PATCH",
     f"{DATA}/sobjects/Contact/003Dn000000AbCdIAK", {"Title": "CTO"}, NO_CONTENT),
    ("content_versions", "download", {"id": "068Dn000000AbCdIAK"}, "GET",
     f"{DATA}/sobjects/ContentVersion/068Dn000000AbCdIAK/VersionData", {}, FILE),
    ("content_versions", "get", {"id": "068Dn000000AbCdIAK", "fields": "Title,ContentSize"}, "GET",
     f"{DATA}/sobjects/ContentVersion/068Dn000000AbCdIAK", {"fields": "Title,ContentSize"}, ONE),
    ("content_versions", "list", {}, "GET", f"{DATA}/query", {"q": soql("ContentVersion")}, QUERY),
    ("events", "create",
     {"Subject": "Kickoff", "StartDateTime": "2027-01-05T15:00:00Z", "DurationInMinutes": 30, "WhatId": ACC},
     "POST", f"{DATA}/sobjects/Event",
     {"Subject": "Kickoff", "StartDateTime": "2027-01-05T15:00:00Z", "DurationInMinutes": 30, "WhatId": ACC}, CREATED),
    ("events", "delete", {"id": "00UDn000000AbCdMAK"}, "DELETE", f"{DATA}/sobjects/Event/00UDn000000AbCdMAK", {},
     NO_CONTENT),
    ("events", "get", {"id": "00UDn000000AbCdMAK"}, "GET", f"{DATA}/sobjects/Event/00UDn000000AbCdMAK", {}, ONE),
    ("events", "list", {}, "GET", f"{DATA}/query", {"q": soql("Event")}, QUERY),
    ("events", "search", {"q": "FIND {kickoff} RETURNING Event(Id)"}, "GET", f"{DATA}/search",
     {"q": "FIND {kickoff} RETURNING Event(Id)"}, SEARCH),
    ("events", "update", {"id": "00UDn000000AbCdMAK", "Location": "Room 4"}, "PATCH",
     f"{DATA}/sobjects/Event/00UDn000000AbCdMAK", {"Location": "Room 4"}, NO_CONTENT),
    ("leads", "create", {"LastName": "Roe", "Company": "Globex"}, "POST", f"{DATA}/sobjects/Lead",
     {"LastName": "Roe", "Company": "Globex"}, CREATED),
    ("leads", "delete", {"id": "00QDn000000AbCdMAK"}, "DELETE", 
     f"{DATA}/sobjects/Lead/00QDn000000AbCdMAK", {}, NO_CONTENT),
    ("leads", "get", {"id": "00QDn000000AbCdMAK"}, "GET", f"{DATA}/sobjects/Lead/00QDn000000AbCdMAK", {}, ONE),
    ("leads", "list", {}, "GET", f"{DATA}/query", {"q": soql("Lead")}, QUERY),
    ("leads", "search", {"q": "FIND {Globex} RETURNING Lead(Id, Company)"}, "GET", f"{DATA}/search",
     {"q": "FIND {Globex} RETURNING Lead(Id, Company)"}, SEARCH),
    ("leads", "update", {"id": "00QDn000000AbCdMAK", "Status": "Working - Contacted"}, "PATCH",
     f"{DATA}/sobjects/Lead/00QDn000000AbCdMAK", {"Status": "Working - Contacted"}, NO_CONTENT),
    ("notes", "create", {"ParentId": ACC, "Title": "Call notes", "Body": "Budget approved."}, "POST",
     f"{DATA}/sobjects/Note", {"ParentId": ACC, "Title": "Call notes", "Body": "Budget approved."}, CREATED),
    ("notes", "delete", {"id": "002Dn000000AbCdIAK"}, "DELETE", 
     f"{DATA}/sobjects/Note/002Dn000000AbCdIAK", {}, NO_CONTENT),
    ("notes", "get", {"id": "002Dn000000AbCdIAK"}, "GET", f"{DATA}/sobjects/Note/002Dn000000AbCdIAK", {}, ONE),
    ("notes", "list", {}, "GET", f"{DATA}/query", {"q": soql("Note")}, QUERY),
    ("notes", "search", {"q": "FIND {pricing} RETURNING Note(Id, Title)"}, "GET", f"{DATA}/search",
     {"q": "FIND {pricing} RETURNING Note(Id, Title)"}, SEARCH),
    ("notes", "update", {"id": "002Dn000000AbCdIAK", "IsPrivate": True}, "PATCH",
     f"{DATA}/sobjects/Note/002Dn000000AbCdIAK", {"IsPrivate": True}, NO_CONTENT),
    ("opportunities", "create", {"Name": "Renewal", "StageName": "Prospecting", "CloseDate": "2027-06-30"}, "POST",
     f"{DATA}/sobjects/Opportunity", {"Name": "Renewal", "StageName": "Prospecting", "CloseDate": "2027-06-30"},
     CREATED),
    ("opportunities", "delete", {"id": "006Dn000000AbCdIAK"}, "DELETE",
     f"{DATA}/sobjects/Opportunity/006Dn000000AbCdIAK", {}, NO_CONTENT),
    ("opportunities", "get", {"id": "006Dn000000AbCdIAK"}, "GET", f"{DATA}/sobjects/Opportunity/006Dn000000AbCdIAK",
     {}, ONE),
    ("opportunities", "list", {}, "GET", f"{DATA}/query", {"q": soql("Opportunity")}, QUERY),
    ("opportunities", "search", {"q": "FIND {Renewal} RETURNING Opportunity(Id, Amount)"}, "GET", f"{DATA}/search",
     {"q": "FIND {Renewal} RETURNING Opportunity(Id, Amount)"}, SEARCH),
    ("opportunities", "update", {"id": "006Dn000000AbCdIAK", "Amount": 125000, "StageName": "Closed Won"}, "PATCH",
     f"{DATA}/sobjects/Opportunity/006Dn000000AbCdIAK", {"Amount": 125000, "StageName": "Closed Won"}, NO_CONTENT),
    ("opportunity_stages", "get", {"id": "01JDn000000AbCdMAK"}, "GET",
     f"{DATA}/sobjects/OpportunityStage/01JDn000000AbCdMAK", {}, ONE),
    ("opportunity_stages", "list", {}, "GET", f"{DATA}/query", {"q": soql("OpportunityStage", "SortOrder")}, QUERY),
    ("org", "limits", {}, "GET", f"{DATA}/limits", {}, ONE),
    ("query", "list", {"q": "SELECT Id FROM Account WHERE Industry = 'Energy'"}, "GET", f"{DATA}/query",
     {"q": "SELECT Id FROM Account WHERE Industry = 'Energy'"}, QUERY),
    ("reports", "get", {"id": REPORT, "includeDetails": True}, "GET", f"{DATA}/analytics/reports/{REPORT}",
     {"includeDetails": "true"}, ONE),
    ("reports", "list", {}, "GET", f"{DATA}/analytics/reports", {}, REPORTS),
    ("sobjects", "create", {"sObject": "Invoice__c", "Amount__c": 10}, "POST", f"{DATA}/sobjects/Invoice__c",
     {"Amount__c": 10}, CREATED),
    ("sobjects", "delete", {"sObject": "Invoice__c", "id": "a01Dn000000AbCdIAK"}, "DELETE",
     f"{DATA}/sobjects/Invoice__c/a01Dn000000AbCdIAK", {}, NO_CONTENT),
    ("sobjects", "get", {"sObject": "Invoice__c", "id": "a01Dn000000AbCdIAK", "fields": "Name"}, "GET",
     f"{DATA}/sobjects/Invoice__c/a01Dn000000AbCdIAK", {"fields": "Name"}, ONE),
    ("sobjects", "list", {}, "GET", f"{DATA}/sobjects", {}, DESCRIBE),
    ("sobjects", "update", {"sObject": "Invoice__c", "id": "a01Dn000000AbCdIAK", "Status__c": "Paid"}, "PATCH",
     f"{DATA}/sobjects/Invoice__c/a01Dn000000AbCdIAK", {"Status__c": "Paid"}, NO_CONTENT),
    ("tasks", "create", {"Subject": "Call back", "ActivityDate": "2027-01-07", "WhoId": "003Dn000000AbCdIAK"}, "POST",
     f"{DATA}/sobjects/Task", {"Subject": "Call back", "ActivityDate": "2027-01-07", "WhoId": "003Dn000000AbCdIAK"},
     CREATED),
    ("tasks", "delete", {"id": "00TDn000000AbCdMAK"}, "DELETE", 
     f"{DATA}/sobjects/Task/00TDn000000AbCdMAK", {}, NO_CONTENT),
    ("tasks", "get", {"id": "00TDn000000AbCdMAK"}, "GET", f"{DATA}/sobjects/Task/00TDn000000AbCdMAK", {}, ONE),
    ("tasks", "list", {}, "GET", f"{DATA}/query", {"q": soql("Task")}, QUERY),
    ("tasks", "search", {"q": "FIND {follow up} RETURNING Task(Id, Subject)"}, "GET", f"{DATA}/search",
     {"q": "FIND {follow up} RETURNING Task(Id, Subject)"}, SEARCH),
    ("tasks", "update", {"id": "00TDn000000AbCdMAK", "Status": "Completed"}, "PATCH",
     f"{DATA}/sobjects/Task/00TDn000000AbCdMAK", {"Status": "Completed"}, NO_CONTENT),
    ("users", "create",
     {"Username": "jane@acme.example", "LastName": "Doe", "Email": "jane@acme.example", "Alias": "jdoe",
      "ProfileId": "00eDn000000AbCdIAK", "TimeZoneSidKey": "Europe/Paris", "LocaleSidKey": "fr_FR",
      "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"},
     "POST", f"{DATA}/sobjects/User",
     {"Username": "jane@acme.example", "LastName": "Doe", "Email": "jane@acme.example", "Alias": "jdoe",
      "ProfileId": "00eDn000000AbCdIAK", "TimeZoneSidKey": "Europe/Paris", "LocaleSidKey": "fr_FR",
      "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"}, CREATED),
    ("users", "get", {"id": "005Dn000000AbCdIAK"}, "GET", f"{DATA}/sobjects/User/005Dn000000AbCdIAK", {}, ONE),
    ("users", "list", {}, "GET", f"{DATA}/query", {"q": soql("User")}, QUERY),
    ("users", "update", {"id": "005Dn000000AbCdIAK", "IsActive": False}, "PATCH",
     f"{DATA}/sobjects/User/005Dn000000AbCdIAK", {"IsActive": False}, NO_CONTENT),
]  # fmt: skip
EXTRAS = {"org.limits"}


class SalesforceStandIn(Recorder):
    """The loopback Recorder, plus Salesforce's 204 No Content (update and delete) and blob bodies (downloads)."""

    def __call__(self, request: Request) -> Response:
        if self.answers and (self.answers[0][1] is EMPTY or isinstance(self.answers[0][1], bytes)):
            self.requests.append(request)
            self.bodies.append(request.get_data())
            status, body, headers = self.answers.pop(0)
            return Response(b"" if body is EMPTY else body, status=status, headers=headers)
        return super().__call__(request)


@pytest.fixture
def salesforce(httpserver) -> SalesforceStandIn:
    stand_in = SalesforceStandIn()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(stand_in)
    return stand_in


def _credentials(httpserver) -> dict[str, str]:
    return {
        "client_id": "3MVG9_consumer_key",
        "client_secret": "consumer_secret_depth",
        "refresh_token": "5Aep_refresh_depth",
        "access_token": ACCESS_TOKEN,
        # The stand-in is the org: the base URL is the manifest's own `{instance_url}/services/data/{api_version}`.
        "instance_url": httpserver.url_for("").rstrip("/"),
    }


def _manifest() -> Manifest:
    """The manifest as shipped: its own base URL, `{instance_url}/services/data/{api_version}`."""
    return build_manifest(RAW["salesforce"])


def _run(httpserver, entity: str, action: str, params: dict[str, Any], *, config: dict[str, Any] | None = None):
    return execute_operation(
        manifest=_manifest(),
        credentials=_credentials(httpserver),
        config=config or {},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        allow_http_hosts=("localhost", "127.0.0.1"),
    )


def _matches(actual: dict[str, str], expected: dict[str, Any]) -> bool:
    if set(actual) != set(expected):
        return False
    return all(
        want.fullmatch(actual[key]) if isinstance(want, re.Pattern) else actual[key] == want
        for key, want in expected.items()
    )


def _records(*ids: str, type_: str = "Account") -> list[dict[str, Any]]:
    return [{"attributes": {"type": type_, "url": f"{DATA}/sobjects/{type_}/{i}"}, "Id": i} for i in ids]


def _query_page(ids: list[str], next_url: str | None, total: int = 3) -> dict[str, Any]:
    page: dict[str, Any] = {"totalSize": total, "done": next_url is None, "records": _records(*ids)}
    if next_url:
        page["nextRecordsUrl"] = next_url
    return page


ANSWERS: dict[str, Any] = {
    QUERY: _query_page(["001A", "001B"], NEXT),
    SEARCH: {"searchRecords": _records("001A", "001B")},
    DESCRIBE: {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [{"name": "001A"}, {"name": "001B"}]},
    REPORTS: [{"id": "001A", "name": "Pipeline", "url": f"{DATA}/analytics/reports/001A"}, {"id": "001B"}],
    ONE: {"attributes": {"type": "Account"}, "Id": ACC, "Name": "Acme"},
    CREATED: {"id": ACC, "success": True, "errors": []},
}


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["salesforce"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in SALESFORCE_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.version == "2.0.0"
    assert manifest.config_defaults["api_version"] == API_VERSION
    reference = reference_operations("salesforce")
    if reference is not None:
        assert reference <= ours and ours - reference == EXTRAS


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "kind"),
    SALESFORCE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in SALESFORCE_CASES],
)
def test_salesforce_operation(httpserver, salesforce, entity, action, params, method, path, expected, kind) -> None:
    if kind == NO_CONTENT:
        salesforce.answer(EMPTY, status=204)
    elif kind == FILE:
        salesforce.answer(PDF, headers={"Content-Type": "application/pdf"})
    else:
        salesforce.answer(ANSWERS[kind], status=201 if kind == CREATED else 200)
    result = _run(httpserver, entity, action, params)
    request = salesforce.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    if method in ("GET", "DELETE"):
        assert not salesforce.bodies[-1]
        assert _matches(query_of(request), expected), query_of(request)
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(salesforce.bodies[-1]) == expected
    raw = request.query_string.decode() + salesforce.bodies[-1].decode()
    assert ACCESS_TOKEN not in raw and "refresh_depth" not in raw  # only the Authorization header
    if kind == QUERY:
        assert [r["Id"] for r in result.result] == ["001A", "001B"]
        assert (result.has_next_page, result.end_cursor) == (True, NEXT)
    elif kind == SEARCH:
        assert [r["Id"] for r in result.result] == ["001A", "001B"]
        assert (result.has_next_page, result.end_cursor) == (False, None)  # SOSL answers once, up to 2,000 records
    elif kind in (DESCRIBE, REPORTS):
        assert [r.get("name") if kind == DESCRIBE else r["id"] for r in result.result] == ["001A", "001B"]
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == NO_CONTENT:
        assert (result.status_code, result.result) == (204, None)
    elif kind == FILE:
        assert request.headers["Accept"] == "*/*"  # the blob comes in its own type, not JSON
        assert result.result == {
            "content_type": "application/pdf",
            "size": len(PDF),
            "content_base64": base64.b64encode(PDF).decode(),
        }
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert result.result == ANSWERS[kind]
        assert (result.has_next_page, result.end_cursor) == (False, None)


# --- Pagination: nextRecordsUrl --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params"),
    [("accounts", "list", {}), ("leads", "list", {}), ("query", "list", {"q": "SELECT Id FROM Account"})],
)
def test_next_page_requests_next_records_url_without_the_query(httpserver, salesforce, entity, action, params) -> None:
    """Salesforce: "These requests use nextRecordsUrl, and don't include any parameters"."""
    salesforce.answer(_query_page(["001A", "001B"], NEXT))
    salesforce.answer(_query_page(["001C"], None))
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    second = salesforce.requests[1]
    assert (second.method, second.path, second.query_string) == ("GET", NEXT, b"")
    assert second.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert [r["Id"] for r in last.result] == ["001C"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_cursor_from_another_api_version_or_resource_is_refused(httpserver) -> None:
    for cursor in ["/services/data/v62.0/query/01gD-2000", f"{DATA}/sobjects/Account/{ACC}", "/query/01gD-2000"]:
        with pytest.raises(OperationInputError) as caught:
            _run(httpserver, "accounts", "list", {"cursor": cursor})
        assert caught.value.code == "invalid_cursor"


def test_batch_size_goes_in_the_query_options_header(httpserver, salesforce) -> None:
    salesforce.answer(_query_page(["001A"], None))
    _run(httpserver, "contacts", "list", {"Sforce-Query-Options": "batchSize=500"})
    assert salesforce.last.headers["Sforce-Query-Options"] == "batchSize=500"
    errors = validate_params(_manifest(), "contacts", "list", {"Sforce-Query-Options": "batchSize=100"})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.Sforce-Query-Options", "invalid_value")]


def test_a_list_runs_the_callers_own_soql(httpserver, salesforce) -> None:
    salesforce.answer(_query_page(["001A"], None))
    mine = "SELECT Id, Name FROM Account WHERE Industry = 'Energy' ORDER BY Name LIMIT 5"
    result = _run(httpserver, "accounts", "list", {"q": mine})
    assert query_of(salesforce.last) == {"q": mine}
    assert [r["Id"] for r in result.result] == ["001A"]


def test_api_version_from_config_is_the_path_version(httpserver, salesforce) -> None:
    salesforce.answer({"DailyApiRequests": {"Max": 15000, "Remaining": 14998}})
    _run(httpserver, "org", "limits", {}, config={"api_version": "v62.0"})
    assert salesforce.last.path == "/services/data/v62.0/limits"


# --- Search (SOSL) ---------------------------------------------------------------------------------------------------


def test_search_sends_the_sosl_statement_as_is(httpserver, salesforce) -> None:
    statement = "FIND {\"Acme Corp\" OR Globex\\-2} IN ALL FIELDS RETURNING Account(Id, Name WHERE Type = 'Customer')"
    salesforce.answer({"searchRecords": []})
    result = _run(httpserver, "accounts", "search", {"query": statement})  # Airbyte's readers may say `query`
    assert query_of(salesforce.last) == {"q": statement}
    assert result.result == []


@pytest.mark.parametrize("q", ["Acme", "SELECT Id FROM Account", ""])
def test_search_needs_a_sosl_statement(q) -> None:
    errors = validate_params(_manifest(), "accounts", "search", {"q": q})
    assert {(e["field"], e["error_code"]) for e in errors} == {("params.q", "invalid_value")}


# --- Aliases ---------------------------------------------------------------------------------------------------------


def test_our_earlier_soql_query_is_an_alias_of_query_list(manifests) -> None:
    salesforce = manifests["salesforce"]
    assert "soql" not in salesforce.operations()  # listed once, under Airbyte's name
    assert salesforce.aliases() == {"soql.query": "query.list"}
    assert salesforce.action("soql", "query") is salesforce.action("query", "list")


def test_an_alias_sends_the_same_request(httpserver, salesforce) -> None:
    for _ in range(2):
        salesforce.answer(_query_page(["001A"], NEXT))
    by_alias = _run(httpserver, "soql", "query", {"q": "SELECT Id FROM Lead"})
    by_name = _run(httpserver, "query", "list", {"q": "SELECT Id FROM Lead"})
    first, second = salesforce.requests
    assert (first.method, first.path, first.query_string) == (second.method, second.path, second.query_string)
    assert (by_alias.result, by_alias.end_cursor) == (by_name.result, by_name.end_cursor) == (by_name.result, NEXT)


@pytest.mark.parametrize("name", ["sObject", "sobjectType"])
def test_airbytes_sobject_type_names_the_object(httpserver, salesforce, name) -> None:
    salesforce.answer(ANSWERS[ONE])
    _run(httpserver, "sobjects", "get", {name: "Invoice__c", "id": "a01Dn000000AbCdIAK"})
    assert salesforce.last.path == f"{DATA}/sobjects/Invoice__c/a01Dn000000AbCdIAK"
    assert not query_of(salesforce.last)


def test_both_names_of_the_object_is_an_error_naming_both() -> None:
    params = {"sObject": "Account", "sobjectType": "Contact", "id": ACC}
    errors = validate_params(_manifest(), "sobjects", "delete", params)
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.sObject", "conflicting_fields"),
        ("params.sobjectType", "conflicting_fields"),
    }


def test_a_write_takes_custom_fields_but_not_a_bad_id() -> None:
    manifest = _manifest()
    assert validate_params(manifest, "leads", "update", {"id": "00QDn000000AbCd", "Score__c": 7}) == []
    errors = validate_params(manifest, "leads", "update", {"id": "../limits", "Score__c": 7})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.id", "invalid_value")]
    errors = validate_params(manifest, "leads", "create", {"LastName": "Roe"})
    assert [(e["field"], e["error_code"]) for e in errors] == [("params.Company", "required")]


# --- Downloads: `response: binary` (a manifest format addition) -----------------------------------------------------


def test_a_download_error_is_still_salesforces_json_error(httpserver, salesforce) -> None:
    salesforce.answer([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}], status=404)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "attachments", "download", {"id": "00PDn000001AbCdMAK"})
    assert (caught.value.code, caught.value.status_code) == ("not_found", 404)
    assert "does not exist" in caught.value.message


def test_an_empty_file_downloads_as_empty_content(httpserver, salesforce) -> None:
    salesforce.answer(b"", headers={"Content-Type": "text/plain"})
    result = _run(httpserver, "content_versions", "download", {"id": "068Dn000000AbCdIAK"})
    assert result.result == {"content_type": "text/plain", "size": 0, "content_base64": ""}


def test_only_binary_actions_take_bytes(httpserver, salesforce) -> None:
    """Without `response: binary` a body that is not JSON stays an error (every other action is unchanged)."""
    salesforce.answer(PDF, headers={"Content-Type": "application/pdf"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "attachments", "get", {"id": "00PDn000001AbCdMAK"})
    assert caught.value.code == "invalid_response"


def test_the_schema_knows_only_json_and_binary_answers() -> None:
    from copy import deepcopy

    from connectors.catalog.loader import ManifestError, validate_manifest

    data = deepcopy(RAW["salesforce"])
    assert _manifest().action("query", "list").response == "json"  # the default
    data["entities"]["attachments"]["actions"]["download"]["response"] = "xml"
    with pytest.raises(ManifestError, match="response"):
        validate_manifest(data, path="salesforce.yaml")


# --- Credentials: Airbyte's names are ours ---------------------------------------------------------------------------


def test_airbytes_credential_names_are_ours() -> None:
    """Airbyte's agent connector takes refresh_token, client_id and client_secret (replication: the same names), so no
    alias is needed; Patchbay also needs the org's instance_url (returned with the tokens by the OAuth flow)."""
    from connectors.validation import validate_credentials

    manifest = _manifest()
    (scheme,) = manifest.auth_schemes
    assert not scheme.credential_aliases
    airbyte = {"client_id": "3MVG9_x", "client_secret": "s", "refresh_token": "5Aep_x"}
    assert set(airbyte) <= set(scheme.credential_properties)
    chosen, stored = validate_credentials(manifest, {**airbyte, "instance_url": "https://acme.my.salesforce.com"})
    assert chosen.key == "oauth" and stored == {**airbyte, "instance_url": "https://acme.my.salesforce.com"}

"""Every Twilio operation against a loopback stand-in that answers as Twilio's REST API 2010-04-01 reference
(twilio.com/docs/usage/api) documents.

Each case is written from Twilio's reference, not from the manifest: the request (method, path under /2010-04-01,
query or exact form body; HTTP Basic with the Account SID and Auth Token, or an API key SID and secret) and what comes
back: a list page `{"<resource>": [...], "next_page_uri": "/2010-04-01/...&PageToken=PA..."}` or one bare resource.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

SLUG = "twilio"
AC = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio_depth_token_4242"
SK = "SK" + "fedcba9876543210" * 2
BASIC = "Basic " + base64.b64encode(f"{AC}:{TOKEN}".encode()).decode()
LIMITS = Limits(max_attempts=1)
ONE = "one"
V = "/2010-04-01"
A = f"{V}/Accounts/{AC}"


def sid(prefix: str) -> str:
    return prefix + "1" * 32


# (entity, action, params, method, path, expected query, expected form body (None: no body), records key or ONE)
TWILIO_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], dict[str, str] | None, str]] = [
    ("accounts", "get", {"sid": AC}, "GET", f"{A}.json", {}, None, ONE),
    ("accounts", "list", {"Status": "active", "PageSize": 20}, "GET", f"{V}/Accounts.json",
     {"Status": "active", "PageSize": "20"}, None, "accounts"),
    ("addresses", "get", {"AccountSid": AC, "sid": sid("AD")}, "GET", f"{A}/Addresses/{sid('AD')}.json", {}, None, ONE),
    ("addresses", "list", {"AccountSid": AC, "IsoCountry": "US", "CustomerName": "Acme"}, "GET", f"{A}/Addresses.json",
     {"IsoCountry": "US", "CustomerName": "Acme"}, None, "addresses"),
    ("calls", "create",
     {"AccountSid": AC, "To": "+15558675310", "From": "+15017122661", "Url": "https://example.com/twiml.xml",
      "StatusCallbackEvent": "answered", "Timeout": 30, "Record": True},
     "POST", f"{A}/Calls.json", {},
     {"To": "+15558675310", "From": "+15017122661", "Url": "https://example.com/twiml.xml",
      "StatusCallbackEvent": "answered", "Timeout": "30", "Record": "true"}, ONE),
    ("calls", "get", {"AccountSid": AC, "sid": sid("CA")}, "GET", f"{A}/Calls/{sid('CA')}.json", {}, None, ONE),
    ("calls", "list", {"AccountSid": AC, "Status": "completed", "StartTime>": "2024-01-01", "To": "+15558675310"},
     "GET", f"{A}/Calls.json", {"Status": "completed", "StartTime>": "2024-01-01", "To": "+15558675310"}, None,
     "calls"),
    ("conferences", "get", {"AccountSid": AC, "sid": sid("CF")}, "GET", f"{A}/Conferences/{sid('CF')}.json", {}, None,
     ONE),
    ("conferences", "list", {"AccountSid": AC, "Status": "completed", "DateCreated<": "2024-02-01"}, "GET",
     f"{A}/Conferences.json", {"Status": "completed", "DateCreated<": "2024-02-01"}, None, "conferences"),
    ("incoming_phone_numbers", "create", {"AccountSid": AC, "AreaCode": "415", "FriendlyName": "Support"}, "POST",
     f"{A}/IncomingPhoneNumbers.json", {}, {"AreaCode": "415", "FriendlyName": "Support"}, ONE),
    ("incoming_phone_numbers", "get", {"AccountSid": AC, "sid": sid("PN")}, "GET",
     f"{A}/IncomingPhoneNumbers/{sid('PN')}.json", {}, None, ONE),
    ("incoming_phone_numbers", "list", {"AccountSid": AC, "PhoneNumber": "+1415*", "Beta": False}, "GET",
     f"{A}/IncomingPhoneNumbers.json", {"PhoneNumber": "+1415*", "Beta": "false"}, None, "incoming_phone_numbers"),
    ("messages", "create", {"AccountSid": AC, "To": "+15558675310", "From": "+15017122661", "Body": "Hi & bye"},
     "POST", f"{A}/Messages.json", {}, {"To": "+15558675310", "From": "+15017122661", "Body": "Hi & bye"}, ONE),
    ("messages", "get", {"AccountSid": AC, "sid": sid("SM")}, "GET", f"{A}/Messages/{sid('SM')}.json", {}, None, ONE),
    ("messages", "list", {"AccountSid": AC, "From": "+15017122661", "DateSent>": "2024-01-01", "PageSize": 100},
     "GET", f"{A}/Messages.json", {"From": "+15017122661", "DateSent>": "2024-01-01", "PageSize": "100"}, None,
     "messages"),
    ("outgoing_caller_ids", "get", {"AccountSid": AC, "sid": sid("PN")}, "GET",
     f"{A}/OutgoingCallerIds/{sid('PN')}.json", {}, None, ONE),
    ("outgoing_caller_ids", "list", {"AccountSid": AC, "PhoneNumber": "+14158675310"}, "GET",
     f"{A}/OutgoingCallerIds.json", {"PhoneNumber": "+14158675310"}, None, "outgoing_caller_ids"),
    ("queues", "get", {"AccountSid": AC, "sid": sid("QU")}, "GET", f"{A}/Queues/{sid('QU')}.json", {}, None, ONE),
    ("queues", "list", {"AccountSid": AC}, "GET", f"{A}/Queues.json", {}, None, "queues"),
    ("recordings", "get", {"AccountSid": AC, "sid": sid("RE")}, "GET", f"{A}/Recordings/{sid('RE')}.json", {}, None,
     ONE),
    ("recordings", "list", {"AccountSid": AC, "CallSid": sid("CA"), "DateCreated>": "2024-01-01"}, "GET",
     f"{A}/Recordings.json", {"CallSid": sid("CA"), "DateCreated>": "2024-01-01"}, None, "recordings"),
    ("transcriptions", "get", {"AccountSid": AC, "sid": sid("TR")}, "GET", f"{A}/Transcriptions/{sid('TR')}.json", {},
     None, ONE),
    ("transcriptions", "list", {"AccountSid": AC, "PageSize": 10}, "GET", f"{A}/Transcriptions.json",
     {"PageSize": "10"}, None, "transcriptions"),
    ("usage_records", "list",
     {"AccountSid": AC, "Category": "sms", "StartDate": "2024-01-01", "EndDate": "2024-01-31"}, "GET",
     f"{A}/Usage/Records.json", {"Category": "sms", "StartDate": "2024-01-01", "EndDate": "2024-01-31"}, None,
     "usage_records"),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW[SLUG], httpserver.url_for("") + "2010-04-01"),
        credentials=kwargs.pop("credentials", {"account_sid": AC, "auth_token": TOKEN}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def _page(key: str, path: str, records: list[dict[str, Any]], next_query: str | None) -> dict[str, Any]:
    return {
        key: records,
        "page": 0,
        "page_size": 50,
        "first_page_uri": f"{path}?PageSize=50&Page=0",
        "next_page_uri": f"{path}?{next_query}" if next_query else None,
        "previous_page_uri": None,
        "uri": f"{path}?PageSize=50&Page=0",
    }


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    ours = {f"{entity}.{action}" for entity, actions in manifests[SLUG].operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in TWILIO_CASES}, "a manifest operation without a stand-in case here"
    assert RAW[SLUG]["definition_id"] == "b9dc6155-672e-42ea-b10d-9f1f1fb95ab1"
    reference = reference_operations(SLUG)
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "kind"),
    TWILIO_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in TWILIO_CASES],
)
def test_twilio_operation(httpserver, vendor, entity, action, params, method, path, query, body, kind) -> None:
    one = {"sid": "XX1", "account_sid": AC, "status": "queued"}
    if kind != ONE:
        vendor.answer(_page(kind, path, [{"sid": "a"}, {"sid": "b"}], "PageSize=50&Page=1&PageToken=PAabc"))
    else:
        vendor.answer(one, status=201 if method == "POST" else 200)
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == BASIC
    assert query_of(request) == query
    if body is None:
        assert not vendor.bodies[-1]
    else:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert dict(parse_qsl(vendor.bodies[-1].decode(), keep_blank_values=True)) == body
    assert TOKEN not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind != ONE:
        assert [r["sid"] for r in result.result] == ["a", "b"]
        assert result.has_next_page
        assert result.end_cursor == f"{path}?PageSize=50&Page=1&PageToken=PAabc"
    else:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)


def test_next_page_requests_next_page_uri_on_our_host(httpserver, vendor) -> None:
    path = f"{A}/Messages.json"
    vendor.answer(_page("messages", path, [{"sid": "a"}], "To=%2B15558675310&PageSize=1&Page=1&PageToken=PAxyz"))
    vendor.answer(_page("messages", path, [{"sid": "b"}], None))
    first = _run(httpserver, "messages", "list", {"AccountSid": AC, "To": "+15558675310", "PageSize": 1})
    last = _run(httpserver, "messages", "list", {"AccountSid": AC, "cursor": first.end_cursor})
    second = vendor.requests[1]
    assert second.path == path
    assert query_of(second) == {"To": "+15558675310", "PageSize": "1", "Page": "1", "PageToken": "PAxyz"}
    assert second.headers["Authorization"] == BASIC
    assert [r["sid"] for r in last.result] == ["b"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_a_next_page_uri_elsewhere_is_no_cursor(httpserver, vendor) -> None:
    vendor.answer({"messages": [{"sid": "a"}], "next_page_uri": "https://evil.example.com/2010-04-01/Accounts/x.json"})
    result = _run(httpserver, "messages", "list", {"AccountSid": AC})
    assert (result.has_next_page, result.end_cursor) == (False, None)
    with pytest.raises(OperationInputError):
        _run(httpserver, "messages", "list", {"AccountSid": AC, "cursor": "/elsewhere/Messages.json?Page=1"})


def test_the_api_key_scheme_signs_with_the_key_sid_and_secret(httpserver, vendor, manifests) -> None:
    credentials = {"account_sid": AC, "api_key_sid": SK, "api_key_secret": "sk_secret_99"}
    scheme, stored = validate_credentials(manifests[SLUG], credentials)
    assert (scheme.key, stored) == ("api_key", credentials)
    scheme, _ = validate_credentials(manifests[SLUG], {"account_sid": AC, "auth_token": TOKEN})
    assert scheme.key == "auth_token"
    vendor.answer(_page("accounts", f"{V}/Accounts.json", [{"sid": AC}], None))
    _run(httpserver, "accounts", "list", {"PageSize": 1}, credentials=credentials)
    assert vendor.last.headers["Authorization"] == "Basic " + base64.b64encode(f"{SK}:sk_secret_99".encode()).decode()


def test_the_check_lists_accounts_cheaply() -> None:
    assert RAW[SLUG]["check"] == {"entity": "accounts", "action": "list", "params": {"PageSize": 1}}


def test_params_are_twilios(manifests) -> None:
    twilio = manifests[SLUG]
    assert validate_params(twilio, "messages", "list", {"AccountSid": AC, "PageSize": 1001})
    assert validate_params(twilio, "messages", "list", {"AccountSid": "not-a-sid"})
    assert validate_params(twilio, "calls", "list", {"AccountSid": AC, "Status": "done"})
    assert not validate_params(
        twilio, "messages", "create", {"AccountSid": AC, "To": "+1555", "MessagingServiceSid": "MG" + "a" * 32}
    )
    assert validate_params(twilio, "messages", "create", {"AccountSid": AC, "To": "+1555", "MessagingServiceSid": "x"})
    assert validate_params(twilio, "incoming_phone_numbers", "create", {"AccountSid": AC, "AreaCode": "4150"})
    assert not validate_params(twilio, "messages", "get", {"AccountSid": AC, "Sid": sid("SM")})


def test_sid_takes_twilios_capitalised_name(httpserver, vendor) -> None:
    vendor.answer({"sid": sid("SM")})
    _run(httpserver, "messages", "get", {"AccountSid": AC, "Sid": sid("SM")})
    assert vendor.last.path == f"{A}/Messages/{sid('SM')}.json"


def test_a_message_is_not_sent_twice_after_a_server_error(httpserver, vendor) -> None:
    vendor.answer({"code": 20500, "message": "Internal Server Error", "status": 500}, status=500)
    with pytest.raises(UpstreamError):
        _run(
            httpserver,
            "messages",
            "create",
            {"AccountSid": AC, "To": "+15558675310", "From": "+15017122661", "Body": "Once"},
            limits=Limits(max_attempts=3, max_retry_seconds=30),
            sleep=lambda _: None,
        )
    assert len(vendor.requests) == 1


def test_errors_carry_twilios_message(httpserver, vendor) -> None:
    vendor.answer(
        {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        },
        status=401,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "accounts", "list", {})
    assert caught.value.code == "credentials_rejected"
    vendor.answer(
        {"code": 20404, "message": "The requested resource /2010-04-01/Accounts/x/Messages/y.json was not found"},
        status=404,
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "messages", "get", {"AccountSid": AC, "sid": sid("SM")})
    assert caught.value.code == "not_found"
    assert "was not found" in str(caught.value)
    vendor.answer(
        {"code": 20429, "message": "Too Many Requests", "status": 429}, status=429, headers={"Retry-After": "2"}
    )
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "queues", "list", {"AccountSid": AC})
    assert (caught.value.code, caught.value.retry_after) == ("rate_limited", 2)

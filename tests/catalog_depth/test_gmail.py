"""Every Gmail operation against a loopback stand-in that answers as Google's Gmail API v1 reference
(developers.google.com/workspace/gmail/api/reference/rest) documents.

Each case is written from Gmail's reference, not from the manifest: the request (method, path under
`/gmail/v1/users/me`, the mailbox of the account that granted the token; query with repeated array params; the
exact JSON body; the bearer access token) and the answer: `{"messages": [...], "nextPageToken": ...,
"resultSizeEstimate": ...}` for lists, `{"labels": [...]}` (one page) for labels, the resource itself for one
object, an empty body for deletes.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import reference_operations

ACCESS = "ya29.gmail_depth_4242"
CREDENTIALS = {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-s", "refresh_token": "1//r"}
LIMITS = Limits(max_attempts=1)
NEXT = "09876543210987654321"
LIST, UNPAGED, ONE, EMPTY = "list", "unpaged", "one", "empty"
RAW_MAIL = base64.urlsafe_b64encode(b"To: ada@example.com\r\nSubject: Hi\r\n\r\nHello").decode().rstrip("=")
U = "/gmail/v1/users/me"

# (entity, action, params, method, path, expected query (lists of values), JSON body (exact) or None, records, kind)
GMAIL_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, list[str]], Any, str | None, str]] = [
    ("drafts", "create", {"message": {"raw": RAW_MAIL}}, "POST", f"{U}/drafts", {}, {"message": {"raw": RAW_MAIL}},
     None, ONE),
    ("drafts", "delete", {"id": "r-1"}, "DELETE", f"{U}/drafts/r-1", {}, None, None, EMPTY),
    ("drafts", "get", {"id": "r-1", "format": "raw"}, "GET", f"{U}/drafts/r-1", {"format": ["raw"]}, None, None, ONE),
    ("drafts", "list", {"maxResults": 20, "q": "to:ada@example.com"}, "GET", f"{U}/drafts",
     {"maxResults": ["20"], "q": ["to:ada@example.com"]}, None, "drafts", LIST),
    ("drafts", "update", {"id": "r-1", "message": {"raw": RAW_MAIL, "threadId": "t1"}}, "PUT", f"{U}/drafts/r-1",
     {}, {"message": {"raw": RAW_MAIL, "threadId": "t1"}}, None, ONE),
    ("drafts_send", "create", {"id": "r-1"}, "POST", f"{U}/drafts/send", {}, {"id": "r-1"}, None, ONE),
    ("labels", "create", {"name": "Clients/Acme", "labelListVisibility": "labelShow", "messageListVisibility": "show",
                          "color": {"textColor": "#ffffff", "backgroundColor": "#16a766"}},
     "POST", f"{U}/labels", {},
     {"name": "Clients/Acme", "labelListVisibility": "labelShow", "messageListVisibility": "show",
      "color": {"textColor": "#ffffff", "backgroundColor": "#16a766"}}, None, ONE),
    ("labels", "delete", {"id": "Label_7"}, "DELETE", f"{U}/labels/Label_7", {}, None, None, EMPTY),
    ("labels", "get", {"id": "INBOX"}, "GET", f"{U}/labels/INBOX", {}, None, None, ONE),
    ("labels", "list", {}, "GET", f"{U}/labels", {}, None, "labels", UNPAGED),
    ("labels", "update", {"id": "Label_7", "name": "Clients/Acme Corp"}, "PUT", f"{U}/labels/Label_7", {},
     {"name": "Clients/Acme Corp"}, None, ONE),
    ("messages", "create", {"raw": RAW_MAIL, "threadId": "t1"}, "POST", f"{U}/messages/send", {},
     {"raw": RAW_MAIL, "threadId": "t1"}, None, ONE),
    ("messages", "get", {"id": "m1", "format": "metadata", "metadataHeaders": ["From", "Subject"]}, "GET",
     f"{U}/messages/m1", {"format": ["metadata"], "metadataHeaders": ["From", "Subject"]}, None, None, ONE),
    ("messages", "list", {"q": "is:unread newer_than:7d", "labelIds": ["INBOX", "IMPORTANT"], "maxResults": 50},
     "GET", f"{U}/messages",
     {"q": ["is:unread newer_than:7d"], "labelIds": ["INBOX", "IMPORTANT"], "maxResults": ["50"]}, None,
     "messages", LIST),
    ("messages", "update", {"id": "m1", "addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]}, "POST",
     f"{U}/messages/m1/modify", {}, {"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]}, None, ONE),
    ("messages_trash", "create", {"id": "m1"}, "POST", f"{U}/messages/m1/trash", {}, None, None, ONE),
    ("messages_untrash", "create", {"id": "m1"}, "POST", f"{U}/messages/m1/untrash", {}, None, None, ONE),
    ("profile", "get", {}, "GET", f"{U}/profile", {}, None, None, ONE),
    ("threads", "get", {"id": "t1", "format": "minimal"}, "GET", f"{U}/threads/t1", {"format": ["minimal"]}, None,
     None, ONE),
    ("threads", "list", {"labelIds": ["INBOX"], "includeSpamTrash": True}, "GET", f"{U}/threads",
     {"labelIds": ["INBOX"], "includeSpamTrash": ["true"]}, None, "threads", LIST),
]  # fmt: skip


def _query(request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["gmail"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["gmail"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in GMAIL_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 20
    reference = reference_operations("gmail")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "key", "kind"),
    GMAIL_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in GMAIL_CASES],
)
def test_gmail_operation(httpserver, vendor, entity, action, params, method, path, query, body, key, kind) -> None:
    one = {"id": "obj_1", "threadId": "t1", "labelIds": ["INBOX"]}
    answers = {
        LIST: {key: [{"id": "obj_1"}, {"id": "obj_2"}], "nextPageToken": NEXT, "resultSizeEstimate": 201},
        UNPAGED: {key: [{"id": "obj_1"}, {"id": "obj_2"}]},
        ONE: one,
        EMPTY: None,
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert _query(request) == query
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert ACCESS not in raw and CREDENTIALS["client_secret"] not in raw
    if body is not None:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    else:
        assert not vendor.bodies[-1]  # trash and untrash take no body
    if kind in (LIST, UNPAGED):
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == ((True, NEXT) if kind == LIST else (False, None))
    elif kind == ONE:
        assert result.result == one
    else:
        assert result.result is None


@pytest.mark.parametrize(
    ("entity", "action", "params", "key"),
    [(c[0], c[1], c[2], c[7]) for c in GMAIL_CASES if c[8] == LIST],
    ids=[f"{c[0]}.{c[1]}" for c in GMAIL_CASES if c[8] == LIST],
)
def test_next_page_sends_the_page_token_gmail_returned(httpserver, vendor, entity, action, params, key) -> None:
    vendor.answer({key: [{"id": "a"}], "nextPageToken": NEXT, "resultSizeEstimate": 2})
    vendor.answer({key: [{"id": "b"}], "resultSizeEstimate": 2})
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = _query(vendor.requests[0]), _query(vendor.requests[1])
    assert "pageToken" not in before
    assert after == {**before, "pageToken": [NEXT]}
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == ["b"]
    assert (last.has_next_page, last.end_cursor) == (False, None)


def test_an_empty_mailbox_search_has_no_messages_key(httpserver, vendor) -> None:
    """Gmail leaves `messages` out when nothing matches."""
    vendor.answer({"resultSizeEstimate": 0})
    result = _run(httpserver, "messages", "list", {"q": "from:nobody@example.com"})
    assert (result.result, result.has_next_page) == (None, False)


# --- Param names: Airbyte's path params -------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "path"),
    [
        ("drafts", "get", {"draftId": "r-1"}, f"{U}/drafts/r-1"),
        ("labels", "delete", {"labelId": "Label_7"}, f"{U}/labels/Label_7"),
        ("messages", "get", {"messageId": "m1"}, f"{U}/messages/m1"),
        ("messages_trash", "create", {"messageId": "m1"}, f"{U}/messages/m1/trash"),
        ("threads", "get", {"threadId": "t1"}, f"{U}/threads/t1"),
    ],
)
def test_airbytes_path_param_names_build_the_same_request(httpserver, vendor, entity, action, params, path) -> None:
    vendor.answer({"id": "x"})
    _run(httpserver, entity, action, params)
    assert vendor.last.path == path


def test_a_path_param_under_both_names_is_refused(manifests) -> None:
    errors = validate_params(manifests["gmail"], "messages", "get", {"id": "m1", "messageId": "m2"})
    assert {(e["field"], e["error_code"]) for e in errors} == {
        ("params.id", "conflicting_fields"),
        ("params.messageId", "conflicting_fields"),
    }


def test_raw_must_be_base64url(manifests) -> None:
    errors = validate_params(manifests["gmail"], "messages", "create", {"raw": "not/base64url+"})
    assert [e["field"] for e in errors] == ["params.raw"]
    assert validate_params(manifests["gmail"], "messages", "create", {"raw": RAW_MAIL}) == []


def test_sending_is_not_repeated_after_a_server_error(httpserver, vendor) -> None:
    vendor.answer({"error": {"code": 500, "message": "Backend Error"}}, status=500)
    with pytest.raises(UpstreamError):
        _run(httpserver, "messages", "create", {"raw": RAW_MAIL}, limits=Limits(max_attempts=3, max_retry_seconds=30),
             sleep=lambda _: None)  # fmt: skip
    assert len(vendor.requests) == 1


def test_label_changes_are_retried_after_a_server_error(httpserver, vendor) -> None:
    """modify, trash and untrash set a state: sending them again is harmless."""
    vendor.answer({"error": {"code": 500, "message": "Backend Error"}}, status=500)
    vendor.answer({"id": "m1", "labelIds": []})
    result = _run(httpserver, "messages", "update", {"id": "m1", "removeLabelIds": ["UNREAD"]},
                  limits=Limits(max_attempts=3, max_retry_seconds=30), sleep=lambda _: None)  # fmt: skip
    assert len(vendor.requests) == 2
    assert result.result == {"id": "m1", "labelIds": []}


# --- Auth and errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "stored"),
    [
        (CREDENTIALS, {"auth_type": "Client", **CREDENTIALS}),
        # Airbyte's replication shape: client_refresh_token and the auth_type marker.
        (
            {"auth_type": "Client", "client_id": CREDENTIALS["client_id"], "client_secret": "GOCSPX-s",
             "client_refresh_token": "1//r"},
            {"auth_type": "Client", **CREDENTIALS},
        ),
        ({**CREDENTIALS, "access_token": ACCESS}, {"auth_type": "Client", **CREDENTIALS, "access_token": ACCESS}),
    ],
)  # fmt: skip
def test_airbyte_and_our_credential_shapes_are_accepted(manifests, credentials, stored) -> None:
    scheme, normalised = validate_credentials(manifests["gmail"], credentials)
    assert scheme.key == "oauth"
    assert normalised == stored


def test_a_refresh_token_under_two_names_is_refused_naming_both(manifests) -> None:
    credentials = {**CREDENTIALS, "client_refresh_token": "1//other"}
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["gmail"], credentials)
    assert {e.field for e in caught.value.errors} == {"credentials.refresh_token", "credentials.client_refresh_token"}
    assert "1//other" not in str(caught.value.errors)


def test_oauth_block_asks_google_for_an_offline_refresh_token(manifests) -> None:
    oauth = manifests["gmail"].oauth_scheme().oauth
    assert (oauth.authorization_url, oauth.token_url) == (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
    )
    assert dict(oauth.authorize_params)["access_type"] == "offline"
    assert oauth.scopes == ("https://www.googleapis.com/auth/gmail.modify",)


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (429, "rateLimitExceeded", "rate_limited"),
        (403, "userRateLimitExceeded", "rate_limited"),
        (403, "insufficientPermissions", "credentials_rejected"),
        (401, "authError", "credentials_rejected"),
        (404, "notFound", "not_found"),
        (400, "invalidArgument", "bad_request"),
    ],
)
def test_gmail_errors_are_classified_by_reason(httpserver, vendor, status, reason, code) -> None:
    vendor.answer({"error": {"code": status, "message": f"Gmail says {reason}", "errors": [{"reason": reason}]}},
                  status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "messages", "get", {"id": "m1"})
    assert caught.value.code == code


def test_check_reads_the_profile(httpserver, vendor, manifests) -> None:
    check = manifests["gmail"].check
    vendor.answer({"emailAddress": "ada@example.com", "messagesTotal": 12, "threadsTotal": 9, "historyId": "77"})
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert vendor.last.path == f"{U}/profile"
    assert result.result["emailAddress"] == "ada@example.com"

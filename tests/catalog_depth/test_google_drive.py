"""Every Google Drive operation against a loopback stand-in that answers as Google's Drive API v3 reference
(developers.google.com/workspace/drive/api/reference/rest/v3) documents.

Each case is written from Drive's reference, not from the manifest: the request (method, the vendor's own path, query
or exact JSON body, the bearer access token) and the shape of the answer: `{"files": [...], "nextPageToken": ...}`
for lists, the resource itself for one object, raw bytes for `alt=media` downloads and exports. Airbyte's reference
names some operations with made-up path suffixes (`/files/create`, `/files/{fileId}/delete`, `/download`, `/update`);
Drive serves those at `/files`, `/files/{fileId}` (and `alt=media`), which is what we send.
"""

from __future__ import annotations

import base64
import json
from email import message_from_bytes
from email.policy import HTTP
from typing import Any

import pytest
from werkzeug import Response

from connectors.catalog.loader import ManifestError, load_file
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_credentials
from core.errors import OperationInputError, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

ACCESS = "ya29.drive_depth_4242"
CREDENTIALS = {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-s", "refresh_token": "1//r"}
LIMITS = Limits(max_attempts=1)
NEXT = "~!!~AI9FV7Q_next_page_2"
LIST, ONE, EMPTY, BINARY = "list", "one", "empty", "binary"
CSV_B64 = base64.b64encode(b"a,b\n1,2\n").decode()

# (entity, action, params, method, path, expected query, JSON body (exact) or None, records key, answer kind)
DRIVE_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, str], Any, str | None, str]] = [
    ("about", "get", {}, "GET", "/drive/v3/about", {"fields": "*"}, None, None, ONE),
    ("changes", "list", {"pageToken": "1234", "pageSize": 50, "includeItemsFromAllDrives": True,
                         "supportsAllDrives": True},
     "GET", "/drive/v3/changes",
     {"pageToken": "1234", "pageSize": "50", "includeItemsFromAllDrives": "true", "supportsAllDrives": "true"},
     None, "changes", LIST),
    ("changes_start_page_token", "get", {"driveId": "0AB", "supportsAllDrives": True}, "GET",
     "/drive/v3/changes/startPageToken", {"driveId": "0AB", "supportsAllDrives": "true"}, None, None, ONE),
    ("comments", "get", {"fileId": "f1", "commentId": "c1"}, "GET", "/drive/v3/files/f1/comments/c1",
     {"fields": "*"}, None, None, ONE),
    ("comments", "list", {"fileId": "f1", "pageSize": 100, "startModifiedTime": "2026-01-01T00:00:00Z"}, "GET",
     "/drive/v3/files/f1/comments",
     {"fields": "*", "pageSize": "100", "startModifiedTime": "2026-01-01T00:00:00Z"}, None, "comments", LIST),
    ("drives", "get", {"driveId": "0AB", "useDomainAdminAccess": True}, "GET", "/drive/v3/drives/0AB",
     {"useDomainAdminAccess": "true"}, None, None, ONE),
    ("drives", "list", {"q": "name contains 'Sales'", "pageSize": 100}, "GET", "/drive/v3/drives",
     {"q": "name contains 'Sales'", "pageSize": "100"}, None, "drives", LIST),
    ("files", "create", {"name": "Reports", "mimeType": "application/vnd.google-apps.folder", "parents": ["root"],
                         "supportsAllDrives": True},
     "POST", "/drive/v3/files", {"supportsAllDrives": "true"},
     {"name": "Reports", "mimeType": "application/vnd.google-apps.folder", "parents": ["root"]}, None, ONE),
    ("files", "delete", {"fileId": "f1", "supportsAllDrives": True}, "DELETE", "/drive/v3/files/f1",
     {"supportsAllDrives": "true"}, None, None, EMPTY),
    ("files", "download", {"fileId": "f1", "acknowledgeAbuse": True}, "GET", "/drive/v3/files/f1",
     {"alt": "media", "acknowledgeAbuse": "true"}, None, None, BINARY),
    ("files", "get", {"fileId": "f1", "fields": "id,name,mimeType,parents"}, "GET", "/drive/v3/files/f1",
     {"fields": "id,name,mimeType,parents"}, None, None, ONE),
    ("files", "list", {"q": "'root' in parents and trashed = false", "orderBy": "modifiedTime desc",
                       "pageSize": 10, "corpora": "user"},
     "GET", "/drive/v3/files",
     {"q": "'root' in parents and trashed = false", "orderBy": "modifiedTime desc", "pageSize": "10",
      "corpora": "user"}, None, "files", LIST),
    ("files", "update", {"fileId": "f1", "name": "Renamed", "trashed": False, "addParents": "p2",
                         "removeParents": "p1"},
     "PATCH", "/drive/v3/files/f1", {"addParents": "p2", "removeParents": "p1"},
     {"name": "Renamed", "trashed": False}, None, ONE),
    ("files_export", "download", {"fileId": "d1", "mimeType": "application/pdf"}, "GET",
     "/drive/v3/files/d1/export", {"mimeType": "application/pdf"}, None, None, BINARY),
    ("files_upload", "create", {"name": "a.csv", "parents": ["p1"], "content_base64": CSV_B64,
                                "content_type": "text/csv"},
     "POST", "/upload/drive/v3/files", {"uploadType": "multipart"}, None, None, ONE),
    ("permissions", "get", {"fileId": "f1", "permissionId": "anyoneWithLink"}, "GET",
     "/drive/v3/files/f1/permissions/anyoneWithLink", {}, None, None, ONE),
    ("permissions", "list", {"fileId": "f1", "pageSize": 100, "supportsAllDrives": True}, "GET",
     "/drive/v3/files/f1/permissions", {"pageSize": "100", "supportsAllDrives": "true"}, None, "permissions", LIST),
    ("replies", "get", {"fileId": "f1", "commentId": "c1", "replyId": "r1", "includeDeleted": True}, "GET",
     "/drive/v3/files/f1/comments/c1/replies/r1", {"fields": "*", "includeDeleted": "true"}, None, None, ONE),
    ("replies", "list", {"fileId": "f1", "commentId": "c1"}, "GET", "/drive/v3/files/f1/comments/c1/replies",
     {"fields": "*"}, None, "replies", LIST),
    ("revisions", "get", {"fileId": "f1", "revisionId": "head"}, "GET", "/drive/v3/files/f1/revisions/head",
     {}, None, None, ONE),
    ("revisions", "list", {"fileId": "f1", "pageSize": 1000}, "GET", "/drive/v3/files/f1/revisions",
     {"pageSize": "1000"}, None, "revisions", LIST),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["google-drive"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {**CREDENTIALS, "access_token": ACCESS}),
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=kwargs.pop("limits", LIMITS),
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["google-drive"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in DRIVE_CASES}, "a manifest operation without a stand-in case here"
    assert len(ours) == 21
    reference = reference_operations("google-drive")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "query", "body", "key", "kind"),
    DRIVE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in DRIVE_CASES],
)
def test_drive_operation(httpserver, vendor, entity, action, params, method, path, query, body, key, kind) -> None:
    one = {"kind": "drive#file", "id": "obj_1", "name": "One"}
    answers = {
        LIST: {"nextPageToken": NEXT, key: [{"id": "obj_1"}, {"id": "obj_2"}]},
        ONE: one,
        EMPTY: None,  # 204 No Content in Drive; an empty body here
        BINARY: {"not": "parsed"},
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert query_of(request) == query
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    raw = request.query_string.decode() + vendor.bodies[-1].decode()
    assert ACCESS not in raw and CREDENTIALS["client_secret"] not in raw
    if body is not None:
        assert request.headers["Content-Type"].startswith("application/json")
        assert json.loads(vendor.bodies[-1]) == body
    elif method != "POST":
        assert not vendor.bodies[-1]
    if kind == LIST:
        assert [r["id"] for r in result.result] == ["obj_1", "obj_2"]
        assert (result.has_next_page, result.end_cursor) == (True, NEXT)
    elif kind == ONE:
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    elif kind == BINARY:
        assert result.result["content_base64"] == base64.b64encode(b'{"not": "parsed"}').decode()
    else:
        assert result.result is None


@pytest.mark.parametrize(
    ("entity", "action", "params", "key"),
    [(c[0], c[1], c[2], c[7]) for c in DRIVE_CASES if c[8] == LIST],
    ids=[f"{c[0]}.{c[1]}" for c in DRIVE_CASES if c[8] == LIST],
)
def test_next_page_sends_the_page_token_drive_returned(httpserver, vendor, entity, action, params, key) -> None:
    vendor.answer({"nextPageToken": NEXT, key: [{"id": "a"}]})
    vendor.answer({key: [{"id": "b"}], "newStartPageToken": "9999"} if entity == "changes" else {key: [{"id": "b"}]})
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert after == {**before, "pageToken": NEXT}  # the same request, one page on (changes: the start token replaced)
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == ["b"]
    assert (last.has_next_page, last.end_cursor) == (False, None)  # no nextPageToken on the last page


def test_changes_last_page_keeps_the_new_start_page_token_reachable(httpserver, vendor) -> None:
    vendor.answer({"changes": [], "newStartPageToken": "9999"})
    result = _run(httpserver, "changes", "list", {"pageToken": "1234", "fields": "newStartPageToken,changes"})
    assert query_of(vendor.last) == {"pageToken": "1234", "fields": "newStartPageToken,changes"}
    assert (result.result, result.has_next_page) == ([], False)


def test_changes_need_a_start_page_token(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "changes", "list", {})
    assert "params.pageToken" in str(caught.value.errors)
    assert not vendor.requests


# --- Downloads and uploads --------------------------------------------------------------------------------------


def test_download_returns_the_file_bytes(httpserver) -> None:
    pdf = b"%PDF-1.7\n\x00\xff binary"
    seen = []

    def handler(request):
        seen.append(request)
        return Response(pdf, status=200, content_type="application/pdf")

    httpserver.expect_request("/drive/v3/files/f1").respond_with_handler(handler)
    result = _run(httpserver, "files", "download", {"fileId": "f1"})
    assert query_of(seen[0]) == {"alt": "media"}
    assert result.result == {
        "content_type": "application/pdf",
        "size": len(pdf),
        "content_base64": base64.b64encode(pdf).decode(),
    }


def test_a_failed_download_is_classified_from_drives_json_error(httpserver, vendor) -> None:
    vendor.answer({"error": {"code": 404, "message": "File not found: f9.", "errors": [{"reason": "notFound"}]}},
                  status=404)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "files", "download", {"fileId": "f9"})
    assert (caught.value.code, caught.value.message.endswith("File not found: f9.")) == ("not_found", True)


def test_upload_is_one_multipart_related_request(httpserver, vendor) -> None:
    """Drive's multipart upload: a JSON metadata part, then the media part with its own Content-Type."""
    content = b"name,total\nAda,\x00\xff42\n"
    vendor.answer({"kind": "drive#file", "id": "new_1", "name": "totals.csv"})
    params = {
        "name": "totals.csv",
        "parents": ["p1"],
        "mimeType": "application/vnd.google-apps.spreadsheet",
        "content_base64": base64.b64encode(content).decode(),
        "content_type": "text/csv",
    }
    result = _run(httpserver, "files_upload", "create", params)
    request = vendor.last
    assert (request.method, request.path, query_of(request)) == (
        "POST",
        "/upload/drive/v3/files",
        {"uploadType": "multipart"},
    )
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/related; boundary=")
    message = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + vendor.bodies[-1], policy=HTTP)
    metadata, media = message.get_payload()
    assert metadata.get_content_type() == "application/json"
    assert json.loads(metadata.get_payload()) == {
        "name": "totals.csv",
        "parents": ["p1"],
        "mimeType": "application/vnd.google-apps.spreadsheet",
    }
    assert media.get_content_type() == "text/csv"
    assert media.get_payload(decode=True) == content
    assert result.result["id"] == "new_1"


def test_upload_without_a_content_type_sends_octet_stream(httpserver, vendor) -> None:
    vendor.answer({"id": "new_2"})
    _run(httpserver, "files_upload", "create", {"name": "blob.bin", "content_base64": "AAEC"})
    body = vendor.bodies[-1]
    assert b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\x02\r\n--" in body
    assert b"content_base64" not in body


def test_upload_refuses_content_that_is_not_base64(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "files_upload", "create", {"name": "x", "content_base64": "not base64!"})
    assert caught.value.errors[0]["field"] == "params.content_base64"
    assert not vendor.requests


def test_an_upload_is_not_sent_twice_after_a_server_error(httpserver, vendor) -> None:
    vendor.answer({"error": {"code": 500, "message": "Backend Error"}}, status=500)
    with pytest.raises(UpstreamError):
        _run(httpserver, "files_upload", "create", {"content_base64": "AAEC"},
             limits=Limits(max_attempts=3, max_retry_seconds=30), sleep=lambda _: None)  # fmt: skip
    assert len(vendor.requests) == 1  # Drive may have stored the file before failing


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ({"method": "POST", "path": "/x", "body": "multipart_related", "params": {"type": "object"}}, "media: content"),
        (
            {
                "method": "GET",
                "path": "/x",
                "body": "multipart_related",
                "params": {"type": "object", "properties": {"c": {"type": "string", "media": "content"}}},
            },
            "POST, PUT or PATCH",
        ),
        (
            {"method": "POST", "path": "/x", "params": {"type": "object", "properties": {"c": {"media": "content"}}}},
            "need body multipart_related",
        ),
    ],
)
def test_a_misdeclared_multipart_upload_is_refused_at_load(tmp_path, action, problem) -> None:
    data = json.loads(json.dumps(RAW["google-drive"]))
    data["entities"]["files_upload"]["actions"]["create"] = action
    path = tmp_path / "drive.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=problem):
        load_file(path)


# --- Auth and errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        CREDENTIALS,
        {"auth_type": "Client", **CREDENTIALS},  # Airbyte's replication shape marks the scheme
        {**CREDENTIALS, "access_token": ACCESS},
    ],
)
def test_airbyte_and_our_credential_shapes_are_accepted(manifests, credentials) -> None:
    scheme, stored = validate_credentials(manifests["google-drive"], credentials)
    assert scheme.key == "oauth"
    assert stored == {"auth_type": "Client", **credentials}


def test_oauth_block_asks_google_for_an_offline_refresh_token(manifests) -> None:
    oauth = manifests["google-drive"].oauth_scheme().oauth
    assert oauth.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert oauth.token_url == "https://oauth2.googleapis.com/token"
    assert dict(oauth.authorize_params)["access_type"] == "offline"
    assert "https://www.googleapis.com/auth/drive" in oauth.scopes


def test_a_missing_access_token_fails_before_any_call(httpserver, vendor) -> None:
    with pytest.raises(OperationInputError) as caught:
        _run(httpserver, "about", "get", {}, credentials=CREDENTIALS)
    assert caught.value.code == "credentials_missing"
    assert not vendor.requests


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (403, "userRateLimitExceeded", "rate_limited"),
        (403, "rateLimitExceeded", "rate_limited"),
        (403, "insufficientFilePermissions", "credentials_rejected"),
        (401, "authError", "credentials_rejected"),
        (404, "notFound", "not_found"),
        (400, "invalid", "bad_request"),
    ],
)
def test_drive_errors_are_classified_by_reason(httpserver, vendor, status, reason, code) -> None:
    vendor.answer({"error": {"code": status, "message": f"Drive says {reason}", "errors": [{"reason": reason}]}},
                  status=status)  # fmt: skip
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "files", "get", {"fileId": "f1"})
    assert caught.value.code == code
    assert ACCESS not in caught.value.message


def test_check_reads_the_signed_in_user(httpserver, vendor, manifests) -> None:
    check = manifests["google-drive"].check
    vendor.answer({"user": {"emailAddress": "ada@example.com"}})
    result = _run(httpserver, check.entity, check.action, dict(check.params))
    assert (vendor.last.path, query_of(vendor.last)) == ("/drive/v3/about", {"fields": "user"})
    assert result.result["user"]["emailAddress"] == "ada@example.com"

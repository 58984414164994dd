"""Retries (429/5xx/dropped connections), error mapping, body limits, timeouts, and that no credential ever reaches
an exception message or a log record."""

from __future__ import annotations

import email.utils
import json
import logging
import time

import pytest
from werkzeug import Request, Response

from connectors.engine import Limits, UpstreamError, execute_operation
from core.http import status_for
from tests.engine.conftest import http_response

GITHUB_CREDS = {"personal_access_token": "ghp_SENTINEL_pat_5f1c"}
GITHUB_CONFIG = {"repositories": ["a/b"]}


def github_me(manifest, sleep=time.sleep, **limits):  # noqa: ANN001, ANN201
    return execute_operation(
        manifest=manifest,
        auth_scheme="pat",
        credentials=GITHUB_CREDS,
        config=GITHUB_CONFIG,
        entity="users",
        action="me",
        params={},
        sleep=sleep,
        limits=Limits(**limits),
    )


# --- retries -----------------------------------------------------------------------------------------------------


def test_429_with_retry_after_seconds_waits_then_succeeds(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_ordered_request("/user").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_ordered_request("/user").respond_with_json({"login": "octocat"})
    result = github_me(stub(manifests["github"]), sleep=sleeps)
    assert result.result == {"login": "octocat"} and result.attempts == 2
    assert sleeps.delays == [2.0]


def test_429_with_retry_after_http_date(httpserver, manifests, stub, sleeps) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    httpserver.expect_ordered_request("/user").respond_with_json({}, status=429, headers={"Retry-After": when})
    httpserver.expect_ordered_request("/user").respond_with_json({"login": "x"})
    github_me(stub(manifests["github"]), sleep=sleeps)
    assert len(sleeps.delays) == 1 and 1.0 <= sleeps.delays[0] <= 3.0


def test_retry_after_beyond_budget_stops_with_retry_after(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_request("/user").respond_with_json({}, status=429, headers={"Retry-After": "120"})
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), sleep=sleeps, max_retry_seconds=30)
    error = caught.value
    assert (error.code, error.status_code, error.retry_after, error.permanent) == ("rate_limited", 429, 120.0, False)
    assert error.attempts == 1 and sleeps.delays == []


def test_github_403_with_exhausted_quota_waits_for_reset_header(httpserver, manifests, stub, sleeps) -> None:
    reset = str(int(time.time()) + 5)
    httpserver.expect_ordered_request("/user").respond_with_json(
        {"message": "API rate limit exceeded"},
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    httpserver.expect_ordered_request("/user").respond_with_json(
        {"login": "x"}, headers={"x-ratelimit-remaining": "4999"}
    )
    result = github_me(stub(manifests["github"]), sleep=sleeps)
    assert result.rate_limit_remaining == 4999
    assert len(sleeps.delays) == 1 and 3.0 <= sleeps.delays[0] <= 5.0


def test_429_without_hint_backs_off_with_jitter_and_gives_up(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_request("/user").respond_with_json({"message": "nope"}, status=429)
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), sleep=sleeps, max_attempts=4)
    assert caught.value.code == "rate_limited" and caught.value.attempts == 4
    assert len(sleeps.delays) == 3
    for attempt, delay in enumerate(sleeps.delays, start=1):
        assert 0 <= delay <= 0.5 * 2 ** (attempt - 1)


def test_503_then_200(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_ordered_request("/user").respond_with_data("<html>busy</html>", status=503)
    httpserver.expect_ordered_request("/user").respond_with_json({"login": "x"})
    result = github_me(stub(manifests["github"]), sleep=sleeps)
    assert result.attempts == 2 and len(sleeps.delays) == 1


def test_5xx_exhausted_is_upstream_error(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_request("/user").respond_with_data("oops", status=502)
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), sleep=sleeps, max_attempts=3)
    assert (caught.value.code, caught.value.status_code, caught.value.attempts) == ("upstream_error", 502, 3)
    assert status_for(caught.value.code) == 502  # what the API answers for it


def test_retry_budget_bounds_total_sleep(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_request("/user").respond_with_data("oops", status=500)
    with pytest.raises(UpstreamError):
        github_me(stub(manifests["github"]), sleep=sleeps, max_attempts=50, max_retry_seconds=1.0)
    assert sum(sleeps.delays) <= 1.0 + 1e-9


def test_non_idempotent_post_is_not_retried_on_500(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_request("/repos/a/b/issues", method="POST").respond_with_json({"message": "boom"}, status=500)
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=stub(manifests["github"]),
            auth_scheme="pat",
            credentials=GITHUB_CREDS,
            config=GITHUB_CONFIG,
            entity="issues",
            action="create",
            params={"owner": "a", "repo": "b", "title": "t"},
            sleep=sleeps,
        )
    assert caught.value.attempts == 1 and sleeps.delays == []


def test_stripe_post_is_retried_with_the_same_idempotency_key(httpserver, manifests, stub, sleeps) -> None:
    keys: list[str] = []

    def handler(request: Request) -> Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            return Response(json.dumps({"error": {"message": "internal"}}), status=500, content_type="application/json")
        return Response(json.dumps({"id": "cus_1"}), content_type="application/json")

    httpserver.expect_request("/v1/customers", method="POST").respond_with_handler(handler)
    result = execute_operation(
        manifest=stub(manifests["stripe"]),
        auth_scheme="api_key",
        credentials={"api_key": "sk_test_1"},
        config={},
        entity="customers",
        action="create",
        params={"email": "a@example.com"},
        sleep=sleeps,
    )
    assert result.result == {"id": "cus_1"} and len(keys) == 2 and keys[0] == keys[1]


def test_dropped_connection_then_200(manifests, raw_server, sleeps) -> None:
    from tests.engine.conftest import point_at

    server = raw_server(["drop", http_response(200, b'{"login": "octocat"}', {"Content-Type": "application/json"})])
    result = github_me(point_at(manifests["github"], server.url), sleep=sleeps)
    assert result.result == {"login": "octocat"} and result.attempts == 2
    assert len(server.requests) == 2 and len(sleeps.delays) == 1


def test_connection_refused_is_connection_error(manifests, sleeps) -> None:
    import socket

    from tests.engine.conftest import point_at

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UpstreamError) as caught:
        github_me(point_at(manifests["github"], f"http://127.0.0.1:{port}"), sleep=sleeps, max_attempts=2)
    assert caught.value.code == "connection_error" and caught.value.attempts == 2
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_timeout(httpserver, manifests, stub, sleeps) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/user").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), sleep=sleeps, timeout=0.2)
    assert caught.value.code == "timeout" and caught.value.permanent is False
    assert caught.value.attempts == 1 and time.monotonic() - started < 1.0


# --- error mapping ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code", "permanent"),
    [
        (401, {"message": "Bad credentials"}, "credentials_rejected", True),
        (403, {"message": "Resource not accessible by integration"}, "credentials_rejected", True),
        (404, {"message": "Not Found"}, "not_found", True),
        (422, {"message": "Validation Failed"}, "bad_request", True),
        (400, {"message": "Problems parsing JSON"}, "bad_request", True),
    ],
)
def test_status_mapping(httpserver, manifests, stub, sleeps, status, body, code, permanent) -> None:
    httpserver.expect_request("/user").respond_with_json(body, status=status)
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), sleep=sleeps)
    error = caught.value
    assert (error.code, error.status_code, error.permanent, error.attempts) == (code, status, permanent, 1)
    assert body["message"] in error.message and "GET" in error.message


def test_vendor_message_is_extracted_per_manifest(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/v1/customers/cus_x").respond_with_json(
        {"error": {"code": "resource_missing", "message": "No such customer: 'cus_x'", "type": "invalid_request"}},
        status=404,
    )
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=stub(manifests["stripe"]),
            auth_scheme="api_key",
            credentials={"api_key": "sk_test_1"},
            config={},
            entity="customers",
            action="get",
            params={"customer": "cus_x"},
        )
    assert caught.value.code == "not_found" and "No such customer" in caught.value.message


def test_slack_ok_false_is_an_error(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/auth.test", method="POST").respond_with_json({"ok": False, "error": "invalid_auth"})
    httpserver.expect_request("/conversations.info").respond_with_json({"ok": False, "error": "channel_not_found"})
    httpserver.expect_request("/users.list").respond_with_json({"ok": False, "error": "invalid_cursor"})
    manifest = stub(manifests["slack"])
    creds = {"api_token": "xoxb-SENTINEL-1"}
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=manifest,
            auth_scheme="api_token",
            credentials=creds,
            config={},
            entity="users",
            action="me",
            params={},
        )
    assert (caught.value.code, caught.value.status_code, caught.value.permanent) == ("credentials_rejected", 200, True)
    assert "invalid_auth" in caught.value.message
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=manifest,
            auth_scheme="api_token",
            credentials=creds,
            config={},
            entity="conversations",
            action="get",
            params={"channel": "C1"},
        )
    assert caught.value.code == "not_found"
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=manifest,
            auth_scheme="api_token",
            credentials=creds,
            config={},
            entity="users",
            action="list",
            params={},
        )
    assert caught.value.code == "bad_request" and "invalid_cursor" in caught.value.message


def test_graphql_errors_array(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_ordered_request("/graphql").respond_with_json(
        {"errors": [{"message": "Argument Validation Error", "extensions": {"code": "INVALID_INPUT"}}], "data": None}
    )
    httpserver.expect_ordered_request("/graphql").respond_with_json(
        {"errors": [{"message": "Authentication required", "extensions": {"code": "AUTHENTICATION_ERROR"}}]},
        status=400,
    )
    manifest = stub(manifests["linear"])
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=manifest,
            auth_scheme="api_key",
            credentials={"api_key": "k"},
            config={},
            entity="issues",
            action="get",
            params={"id": "x"},
            sleep=sleeps,
        )
    assert caught.value.code == "bad_request" and "Argument Validation Error" in caught.value.message
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=manifest,
            auth_scheme="api_key",
            credentials={"api_key": "k"},
            config={},
            entity="issues",
            action="get",
            params={"id": "x"},
            sleep=sleeps,
        )
    assert caught.value.code == "credentials_rejected"


def test_linear_ratelimited_graphql_error_waits_for_reset(httpserver, manifests, stub, sleeps) -> None:
    reset_ms = str(int((time.time() + 2) * 1000))
    httpserver.expect_ordered_request("/graphql").respond_with_json(
        {"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]},
        status=400,
        headers={"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": reset_ms},
    )
    httpserver.expect_ordered_request("/graphql").respond_with_json({"data": {"viewer": {"id": "u"}}})
    result = execute_operation(
        manifest=stub(manifests["linear"]),
        auth_scheme="api_key",
        credentials={"api_key": "k"},
        config={},
        entity="users",
        action="me",
        params={},
        sleep=sleeps,
    )
    assert result.attempts == 2 and len(sleeps.delays) == 1 and 0 < sleeps.delays[0] <= 2.0


def test_salesforce_request_limit_exceeded_is_rate_limited(httpserver, manifests, stub, sleeps) -> None:
    httpserver.expect_request("/limits").respond_with_json(
        [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], status=403
    )
    creds = {
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
        "access_token": "a",
        "instance_url": "https://acme.my.salesforce.com",
    }
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=stub(manifests["salesforce"]),
            auth_scheme="oauth",
            credentials=creds,
            config={},
            entity="org",
            action="limits",
            params={},
            sleep=sleeps,
        )
    # A daily allowance: no hint, so no pointless retries.
    assert caught.value.code == "rate_limited" and caught.value.attempts == 1
    assert "TotalRequests Limit exceeded." in caught.value.message


def test_non_json_body_is_invalid_response(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/user").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]))
    assert (caught.value.code, caught.value.status_code) == ("invalid_response", 200)


def test_empty_body_is_none(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/user").respond_with_data("", status=204)
    assert github_me(stub(manifests["github"])).result is None


def test_body_over_limit_by_content_length(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/user").respond_with_json({"blob": "x" * 5000})
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), max_body_bytes=1000)
    assert caught.value.code == "response_too_large"


def test_body_over_limit_when_streamed_without_length(httpserver, manifests, stub) -> None:
    def chunks():  # noqa: ANN202
        for _ in range(100):
            yield b"x" * 1024

    httpserver.expect_request("/user").respond_with_response(
        Response(chunks(), content_type="application/json", direct_passthrough=True)
    )
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), max_body_bytes=10_000)
    assert caught.value.code == "response_too_large"


def test_redirect_to_another_host_is_not_followed(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/user").respond_with_data("", status=302, headers={"Location": "https://evil.example/"})
    with pytest.raises(UpstreamError) as caught:
        github_me(stub(manifests["github"]), max_attempts=1)
    assert caught.value.code == "upstream_error" and caught.value.status_code == 302


def test_same_origin_redirect_is_followed(httpserver, manifests, stub) -> None:
    httpserver.expect_request("/repos/old/name").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/repositories/42")}
    )
    httpserver.expect_request("/repositories/42").respond_with_json({"id": 42})
    result = execute_operation(
        manifest=stub(manifests["github"]),
        auth_scheme="pat",
        credentials=GITHUB_CREDS,
        config=GITHUB_CONFIG,
        entity="repositories",
        action="get",
        params={"owner": "old", "repo": "name"},
    )
    assert result.result == {"id": 42}


# --- secrets -----------------------------------------------------------------------------------------------------


def test_secrets_never_in_messages_or_logs(httpserver, stub, caplog, sleeps) -> None:
    from tests.engine.test_request_building import QUERY_MANIFEST

    secret = "qk-SENTINEL-query-secret-77"
    # A vendor that echoes the credential back in its error message.
    httpserver.expect_request("/things").respond_with_json(
        {"message": f"Invalid API key provided: {secret}"}, status=401
    )
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=stub(QUERY_MANIFEST),
            credentials={"key": secret},
            config={},
            entity="things",
            action="list",
            params={},
            sleep=sleeps,
        )
    error = caught.value
    assert error.code == "credentials_rejected"
    for text in (str(error), error.message, repr(error), json.dumps(error.as_dict())):
        assert secret not in text
    assert "[redacted]" in error.message
    ours = [r for r in caplog.records if r.name != "werkzeug"]  # werkzeug is the stub vendor's own access log
    assert any(r.name.startswith("urllib3") for r in ours) and any(r.name == "connectors.engine" for r in ours)
    for record in ours:
        assert secret not in record.getMessage()
        assert secret not in str(record.__dict__)


def test_bearer_and_basic_secrets_never_logged(httpserver, manifests, stub, caplog, sleeps) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    httpserver.expect_request("/api/v2/users/me").respond_with_json({"error": "Couldn't authenticate you"}, status=401)
    creds = {"email": "agent@example.com", "api_token": "zd-SENTINEL-token-31"}
    with pytest.raises(UpstreamError) as caught:
        execute_operation(
            manifest=stub(manifests["zendesk-support"]),
            auth_scheme="api_token",
            credentials=creds,
            config={"subdomain": "acme"},
            entity="users",
            action="me",
            params={},
            sleep=sleeps,
        )
    assert "zd-SENTINEL-token-31" not in str(caught.value)
    httpserver.expect_request("/user").respond_with_json({"message": "Bad credentials"}, status=401)
    with pytest.raises(UpstreamError):
        github_me(stub(manifests["github"]), sleep=sleeps)
    import base64

    basic = base64.b64encode(b"agent@example.com/token:zd-SENTINEL-token-31").decode()
    for record in (r for r in caplog.records if r.name != "werkzeug"):
        text = record.getMessage() + str(record.__dict__)
        for secret in ("zd-SENTINEL-token-31", basic, GITHUB_CREDS["personal_access_token"], "Authorization"):
            assert secret not in text


def test_success_is_logged_with_method_host_path_status_attempts(httpserver, manifests, stub, caplog) -> None:
    caplog.set_level(logging.INFO, logger="connectors.engine")
    httpserver.expect_request("/user").respond_with_json({"login": "x"})
    github_me(stub(manifests["github"]))
    record = next(r for r in caplog.records if r.name == "connectors.engine")
    assert record.upstream_method == "GET" and record.upstream_target.endswith("/user")
    assert record.upstream_status == 200 and record.upstream_attempts == 1 and record.upstream_duration_ms >= 0

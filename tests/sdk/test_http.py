"""Transport behaviour: configuration, timeouts and bounded retries, against a loopback stub posing as Patchbay."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from patchbay import (
    ConfigurationError,
    PatchbayConnectionError,
    RateLimitError,
    ServerError,
    UpstreamError,
    Workspace,
    _http,
)
from werkzeug import Request, Response

from tests.sdk.conftest import json_response

LIST = "/api/v1/integrations/connectors"
EMPTY = {"data": [], "next": None}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(_http, "backoff_seconds", lambda attempt: 0.0)


def workspace(httpserver, **kwargs: Any) -> Workspace:
    return Workspace(api_key="pb_test_key", base_url=httpserver.url_for("/"), **kwargs)


async def list_connectors(ws: Workspace) -> Any:
    async with ws:
        return await ws.list_connectors()


def test_configuration_from_arguments_environment_and_default(monkeypatch):
    monkeypatch.delenv("PATCHBAY_API_KEY", raising=False)
    monkeypatch.delenv("PATCHBAY_URL", raising=False)
    default = _http.resolve_config()
    assert (default.api_key, default.base_url) == (None, "http://127.0.0.1:8000")
    monkeypatch.setenv("PATCHBAY_API_KEY", "pb_env")
    monkeypatch.setenv("PATCHBAY_URL", "https://patchbay.example.com/api/v1/")
    from_env = _http.resolve_config()
    assert (from_env.api_key, from_env.base_url) == ("pb_env", "https://patchbay.example.com")
    explicit = _http.resolve_config("pb_arg", "http://localhost:9000/", timeout=5, max_retries=0)
    assert (explicit.api_key, explicit.base_url, explicit.timeout, explicit.max_retries) == (
        "pb_arg",
        "http://localhost:9000",
        5.0,
        0,
    )
    with pytest.raises(ConfigurationError, match="PATCHBAY_URL"):
        Workspace(base_url="patchbay.example.com")


def test_get_is_retried_on_503_and_honours_retry_after(httpserver):
    httpserver.expect_ordered_request(LIST).respond_with_response(
        json_response({"message": "busy"}, 503, {"Retry-After": "1"})
    )
    httpserver.expect_ordered_request(LIST).respond_with_json(EMPTY)
    started = time.monotonic()
    assert run(list_connectors(workspace(httpserver))) == []
    assert time.monotonic() - started >= 0.9
    httpserver.check_assertions()


@pytest.mark.parametrize("status", [429, 502, 504])
def test_get_is_retried_on_gateway_and_rate_limit_statuses(httpserver, fast_backoff, status):
    httpserver.expect_ordered_request(LIST).respond_with_response(json_response({"message": "x"}, status))
    httpserver.expect_ordered_request(LIST).respond_with_json(EMPTY)
    assert run(list_connectors(workspace(httpserver))) == []
    assert len(httpserver.log) == 2


def test_retries_are_bounded(httpserver, fast_backoff):
    httpserver.expect_request(LIST).respond_with_response(json_response({"message": "down", "errors": []}, 502))
    with pytest.raises(ServerError) as caught:
        run(list_connectors(workspace(httpserver, max_retries=2)))
    assert caught.value.status == 502
    assert len(httpserver.log) == 3


def test_a_long_retry_after_is_not_waited_for(httpserver):
    slow_down = json_response({"message": "later"}, 429, {"Retry-After": "120"})
    httpserver.expect_request(LIST).respond_with_response(slow_down)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        run(list_connectors(workspace(httpserver)))
    assert caught.value.retry_after == 120.0
    assert time.monotonic() - started < 5
    assert len(httpserver.log) == 1


def test_posts_are_never_retried(httpserver, fast_backoff):
    httpserver.expect_request(LIST, method="POST").respond_with_response(json_response({"message": "x"}, 503))

    async def main() -> Any:
        async with workspace(httpserver) as ws:
            return await ws.create_connector(connector_type="stripe", name="s", credentials={"api_key": "k"})

    with pytest.raises(ServerError):
        run(main())
    assert len(httpserver.log) == 1


def test_a_recorded_execution_failure_is_not_retried(httpserver, fast_backoff):
    body = {
        "status": "error",
        "result": None,
        "connector_metadata": {"has_next_page": False, "end_cursor": None},
        "execution_metadata": {"execution_id": "e1", "execution_time_ms": 3, "attempts": 2},
        "message": "Stripe answered 500",
        "errors": [],
        "error_code": "upstream_error",
        "upstream_status": 500,
    }
    httpserver.expect_request("/api/v1/integrations/executions/e1").respond_with_response(json_response(body, 502))

    async def main() -> Any:
        async with workspace(httpserver) as ws:
            return await ws.get_execution("e1")

    with pytest.raises(UpstreamError) as caught:
        run(main())
    assert caught.value.execution_id == "e1" and caught.value.upstream_status == 500
    assert len(httpserver.log) == 1


def test_unreachable_server(fast_backoff):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ws = Workspace(api_key="pb_x", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(PatchbayConnectionError, match="PATCHBAY_URL"):
        run(list_connectors(ws))


def test_timeouts_apply_to_every_call(httpserver):
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return json_response(EMPTY)

    httpserver.expect_request(LIST).respond_with_handler(slow)
    with pytest.raises(PatchbayConnectionError, match="did not answer"):
        run(list_connectors(workspace(httpserver, timeout=0.3, max_retries=0)))


def test_retry_after_parsing():
    assert _http.retry_after_seconds("7") == 7.0
    assert _http.retry_after_seconds(None) is None
    assert _http.retry_after_seconds("soon") is None
    assert _http.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0

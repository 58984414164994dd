"""The engine's HTTP transport (urllib3 underneath) behaves as vendors and deployments expect: an egress proxy from
the environment is used and NO_PROXY is honoured, compressed answers arrive decoded, a bodiless POST says
Content-Length 0, connections are reused, and a header no server could receive is a clear error, never a crash."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.engine import http
from tests.engine.conftest import http_response


def send(session: http.HttpSession, url: str, *, method: str = "GET", headers: dict | None = None) -> http.RawResponse:
    return http.send_once(
        session, method=method, url=url, headers=headers or {}, body=None, timeout=5, max_body_bytes=10**6
    )


def test_an_egress_proxy_from_the_environment_carries_the_call(raw_server, httpserver, monkeypatch) -> None:
    proxy = raw_server([http_response(200, b'{"via": "proxy"}', {"Content-Type": "application/json"})])
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    target = httpserver.url_for("/v1/customers?limit=3")
    answer = send(http.new_session(), target)
    assert json.loads(answer.content) == {"via": "proxy"}
    request_line = proxy.requests[0].split(b"\r\n")[0].decode()
    assert request_line == f"GET {target} HTTP/1.1"  # the absolute form a forward proxy needs
    assert not httpserver.log

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    httpserver.expect_request("/direct").respond_with_json({"via": "direct"})
    assert json.loads(send(http.new_session(), httpserver.url_for("/direct")).content) == {"via": "direct"}


class _KeepAlive(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (pytest-httpserver's server closes every connection), gzip-encoded JSON."""

    protocol_version = "HTTP/1.1"
    body = json.dumps({"data": [{"id": i} for i in range(50)]}).encode()
    seen: list[tuple[int, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append((self.client_address[1], self.headers.get("Accept-Encoding", "")))
        packed = gzip.compress(self.body)
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(packed)))
        self.end_headers()
        self.wfile.write(packed)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_compressed_answers_arrive_decoded_and_connections_are_reused() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = http.new_session()
        url = f"http://127.0.0.1:{server.server_port}/v1/customers"
        answers = [send(session, url) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert all(answer.content == _KeepAlive.body for answer in answers)
    ports = {port for port, _ in _KeepAlive.seen}
    assert len(ports) == 1  # one pooled connection served every call
    assert all("gzip" in accepted for _, accepted in _KeepAlive.seen)


def test_a_bodiless_post_says_content_length_zero_and_hooks_see_every_call(httpserver) -> None:
    httpserver.expect_request("/refund", method="POST").respond_with_json({"ok": True})
    session = http.new_session()
    seen: list = []
    session.hooks["response"].append(seen.append)
    answer = send(session, httpserver.url_for("/refund"), method="POST", headers={"Authorization": "Bearer sk_x"})
    assert answer.status_code == 200
    ((request, _),) = httpserver.log
    assert request.headers.get("Content-Length") == "0"
    (hooked,) = seen
    assert hooked.status_code == 200 and hooked.request.method == "POST"
    assert (
        hooked.request.url == httpserver.url_for("/refund") and hooked.request.headers["Authorization"] == "Bearer sk_x"
    )


@pytest.mark.parametrize("value", ["line\r\nInjected: yes", "line\nbreak"])
def test_a_header_no_server_could_receive_is_a_request_error(httpserver, value) -> None:
    with pytest.raises(requests.RequestException):
        send(http.new_session(), httpserver.url_for("/x"), headers={"X-Account": value})
    assert not httpserver.log

"""Fixtures for the engine tests: loopback vendors, manifests pointed at them, a recording sleep."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.catalog import Manifest, build_manifest
from connectors.catalog.loader import BUILTIN_DIR, load_catalog

RAW = {m.data["slug"]: m.data for m in load_catalog([BUILTIN_DIR])}
# The hosts the engine may call over plain http in these tests (PATCHBAY_ALLOW_HTTP_HOSTS in the test settings).
LOOPBACK = frozenset({"127.0.0.1", "localhost"})


@pytest.fixture(scope="session")
def manifests() -> dict[str, Manifest]:
    return {slug: build_manifest(data) for slug, data in RAW.items()}


def point_at(manifest: Manifest | dict[str, Any], url: str) -> Manifest:
    """The manifest with every base_url (manifest, scheme, action) aimed at a loopback stub: a `base_url` override."""
    data = RAW[manifest.slug] if isinstance(manifest, Manifest) else manifest
    return build_manifest(data, overrides={"base_url": url.rstrip("/")})


@pytest.fixture
def stub(httpserver) -> Callable[[Manifest | dict[str, Any]], Manifest]:  # noqa: ANN001
    return lambda manifest: point_at(manifest, httpserver.url_for(""))


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


class RawServer:
    """A plain socket server: each accepted connection is handled by the next behaviour in the script.

    "drop" reads the request and closes the socket without answering; bytes are sent as the whole response.
    """

    def __init__(self, script: list[str | bytes]) -> None:
        self.script = list(script)
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while self.script:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            behaviour = self.script.pop(0)
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data)
                if behaviour == "drop":
                    continue
                conn.sendall(behaviour if isinstance(behaviour, bytes) else behaviour.encode())

    def close(self) -> None:
        self.sock.close()


def http_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def raw_server() -> Iterator[Callable[[list[str | bytes]], RawServer]]:
    servers: list[RawServer] = []

    def make(script: list[str | bytes]) -> RawServer:
        server = RawServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()

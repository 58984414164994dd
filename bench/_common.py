"""Shared plumbing for the benchmarks: a loopback upstream stub, a Patchbay deployment, latency statistics."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle + delayed ACK add ~40 ms per response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    body = json.dumps(
        {"object": "list", "data": [{"id": f"cus_{i}", "object": "customer"} for i in range(3)], "has_more": False}
    ).encode()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def start_stub() -> tuple[str, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _StubHandler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def wait_http(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def database_url(name: str) -> str:
    """PostgreSQL when the machine has it (SQLite serialises writers), else a SQLite file."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    try:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"DROP DATABASE IF EXISTS {name}"],
            check=True,
            capture_output=True,
            timeout=20,
        )
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
            timeout=20,
        )
        return f"postgres://postgres@127.0.0.1:5432/{name}"
    except (OSError, subprocess.SubprocessError):
        path = Path(tempfile.gettempdir()) / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def run_sequential(fn: Callable[[], object], n: int) -> tuple[list[float], float]:
    start = time.perf_counter()
    samples = [timed(fn) for _ in range(n)]
    return samples, time.perf_counter() - start


def run_concurrent(fn: Callable[[], object], n: int, concurrency: int) -> tuple[list[float], float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(lambda _: timed(fn), range(n)))
    return samples, time.perf_counter() - start


def summary(samples: list[float], wall: float) -> dict[str, float]:
    return {
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "rps": len(samples) / wall,
    }

"""Token refresh at scale: N OAuth connectors whose access tokens expire within minutes, refreshed by a real
`celery beat` + two `celery worker` processes against a loopback token endpoint that rotates refresh tokens
(an old refresh token is refused, as strict providers do).

    .venv/bin/python bench/token_refresh.py [--connectors 10000] [--concurrency 2]

Needs PostgreSQL and Redis on 127.0.0.1 (REDIS_URL / DATABASE_URL override). Prints progress, refreshes per
second, and the proof: every connector's refresh token was presented exactly once and its new one was stored.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, database_url, free_port, manage  # noqa: E402

CATALOG = ROOT / "tests" / "oauth" / "catalog"  # the `oauthtest` connector type

SETUP = """
import sys
from datetime import timedelta
from django.utils import timezone
from connectors import crypto
from connectors.models import Connector, ConnectorDefinition
from workspaces.services import workspace_create
n = int(sys.argv[-1]) if sys.argv[-1].isdigit() else {n}
ws = workspace_create(name="Refresh bench")
definition = ConnectorDefinition.objects.get(slug="oauthtest")
now = timezone.now()
rows = []
for i in range(n):
    creds = {{"client_id": "bench-client", "client_secret": "bench-secret",
             "refresh_token": f"rt-{{i}}-0", "access_token": f"at-{{i}}-0"}}
    rows.append(Connector(workspace=ws, definition=definition, name=f"c{{i}}", auth_scheme="oauth",
                          status="healthy",  # as the OAuth callback leaves them
                          credentials_encrypted=crypto.encrypt_json(creds),
                          token_expires_at=now + timedelta(seconds=60 + (i % 240))))
Connector.objects.bulk_create(rows, batch_size=1000)
print(n)
"""

PROGRESS_SQL = "SELECT count(*) FROM connectors_connector WHERE token_refreshed_at IS NOT NULL"


def progress_counter(url: str):  # noqa: ANN201
    """Counts refreshed connectors over one connection kept open: starting a Django shell every poll (as this
    script did) cost a core-second per poll on a 2-core machine, taken from the workers being measured."""
    if url.startswith("postgres"):
        import psycopg

        conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))

    def count() -> int:
        cur = conn.cursor()
        cur.execute(PROGRESS_SQL)
        return int(cur.fetchone()[0])

    return count


VERIFY = """
import json
from connectors.models import Connector
from connectors.selectors import connector_credentials
bad = 0
for c in Connector.objects.filter(name__startswith="c").iterator():
    creds = connector_credentials(c)
    i = c.name[1:]
    if creds["refresh_token"] != f"rt-{i}-1" or creds["access_token"] != f"at-{i}-1":
        bad += 1
print(json.dumps({"stored_wrong": bad}))
"""


class TokenEndpoint(BaseHTTPRequestHandler):
    """Rotating refresh tokens: rt-<i>-<g> is valid only while it is the newest generation for connector i."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    current: dict[str, int] = {}
    presented: Counter = Counter()
    refused = 0
    first = last = 0.0

    def setup(self) -> None:
        super().setup()
        import socket

        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        token = form.get("refresh_token", [""])[0]
        _, index, gen = token.split("-") if token.count("-") == 2 else ("", "", "-1")
        cls = type(self)
        with cls.lock:
            cls.presented[index] += 1
            now = time.monotonic()
            cls.first = cls.first or now
            cls.last = now
            if cls.current.get(index, 0) != int(gen):
                cls.refused += 1
                self._reply(400, {"error": "invalid_grant"})
                return
            cls.current[index] = int(gen) + 1
        new = int(gen) + 1
        self._reply(
            200,
            {
                "access_token": f"at-{index}-{new}",
                "refresh_token": f"rt-{index}-{new}",
                "expires_in": 86400,
                "token_type": "bearer",
            },
        )

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def process_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU a process has used so far (Linux /proc; 0 elsewhere), with that of its children that have
    exited when asked. Steadier than refreshes per second on a machine shared with other work."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped_children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU used so far by every PostgreSQL server process on this machine (the bench's database is local), backends
    whose connection has closed included (the postmaster counts its reaped children); an estimate that also counts
    anything else the server does meanwhile (autovacuum, checkpoints)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith("postgres"):
                    total += process_cpu_seconds(int(entry.name), reaped_children=True)
            except OSError:
                continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connectors", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=2, help="threads per worker process (2 processes)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), TokenEndpoint)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token_url = f"http://127.0.0.1:{server.server_port}/token"
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url("patchbay_bench_refresh"),
        "REDIS_URL": redis,
        "DJANGO_LOG_LEVEL": "WARNING",
        "PATCHBAY_CATALOG_DIRS": str(CATALOG),
        "PATCHBAY_REFRESH_SWEEP_SECONDS": "2",
        "PATCHBAY_CATALOG_OVERRIDES": json.dumps({"oauthtest": {"token_url": token_url}}),
    }
    subprocess.run(["redis-cli", "-u", redis, "FLUSHDB"], capture_output=True, check=False)
    print(f"==> database {env['DATABASE_URL'].split('@')[-1]}, broker {redis}, token endpoint {token_url}", flush=True)
    manage(env, "migrate", "-v", "0")
    started = time.perf_counter()
    manage(env, "shell", "-c", SETUP.format(n=args.connectors))
    print(
        f"==> created {args.connectors} connectors expiring in 60-300 s ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    procs = [
        subprocess.Popen(
            [
                PY,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                "-c",
                str(args.concurrency),
                "-l",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench{i}@%h",
            ],
            cwd=ROOT,
            env=env,
        )
        for i in range(2)
    ]
    procs.append(
        subprocess.Popen(
            [PY, "-m", "celery", "-A", "config", "beat", "-l", "warning", "-s", str(schedule)], cwd=ROOT, env=env
        )
    )
    begin = time.perf_counter()
    done = 0
    count_refreshed = progress_counter(env["DATABASE_URL"])
    # CPU and count at the first progress line that shows refreshes: the steady state excludes process start-up
    # (imports and Django setup, about 2-3 CPU seconds per process).
    steady: tuple[float, int, float] | None = None
    try:
        while done < args.connectors and time.perf_counter() - begin < args.timeout:
            time.sleep(2)
            done = count_refreshed()
            if steady is None and done:
                steady = (sum(process_cpu_seconds(proc.pid) for proc in procs), done, postgres_cpu_seconds())
            print(f"  refreshed {done}/{args.connectors}  ({time.perf_counter() - begin:5.1f} s)", flush=True)
    finally:
        cpu_seconds = sum(process_cpu_seconds(proc.pid) for proc in procs)
        pg_seconds = postgres_cpu_seconds()
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    verify = json.loads(manage(env, "shell", "-c", VERIFY).strip().splitlines()[-1])
    presented = TokenEndpoint.presented
    span = max(TokenEndpoint.last - TokenEndpoint.first, 1e-9)
    counts = Counter(presented.values())
    print("\n==> results")
    print(f"  connectors refreshed      {done}/{args.connectors}")
    print(f"  token requests            {sum(presented.values())}  (refused as reuse: {TokenEndpoint.refused})")
    print(
        f"  refreshes per second      {sum(presented.values()) / span:.1f}  (first to last token request, {span:.1f} s)"
    )
    print(f"  requests per connector    {dict(sorted(counts.items()))}  (want {{1: {args.connectors}}})")
    print(f"  wrong tokens stored       {verify['stored_wrong']}")
    if cpu_seconds:
        per = cpu_seconds * 1000 / max(sum(presented.values()), 1)
        print(f"  worker + beat CPU         {per:.2f} ms per refresh  ({cpu_seconds:.1f} s in all, start-up included)")
        if steady is not None and done > steady[1]:
            per_steady = (cpu_seconds - steady[0]) * 1000 / (done - steady[1])
            print(f"  ... in the steady state   {per_steady:.2f} ms per refresh  (after the first {steady[1]})")
            if env["DATABASE_URL"].startswith("postgres") and pg_seconds > steady[2]:
                per_pg = (pg_seconds - steady[2]) * 1000 / (done - steady[1])
                print(f"  PostgreSQL CPU, steady    {per_pg:.2f} ms per refresh  (all its processes on this machine)")
    ok = done == args.connectors and counts == Counter({1: args.connectors}) and verify["stored_wrong"] == 0
    print("  exactly once              " + ("yes" if ok else "NO"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

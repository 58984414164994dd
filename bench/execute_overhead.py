"""What Patchbay adds to a third-party call: direct `requests` vs. POST /execute served by gunicorn,
(a) with tasks in-process and (b) through a real Celery worker and Redis.

    .venv/bin/python bench/execute_overhead.py [--n 500] [--concurrency 16]

Prints p50/p99 latency per path, the added latency and ratio over the direct call, and throughput.
Everything runs on loopback; the upstream stub is a threaded HTTP server answering a Stripe-shaped list.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PY,
    ROOT,
    database_url,
    free_port,
    manage,
    percentile,
    run_concurrent,
    run_sequential,
    start_stub,
    summary,
    wait_http,
)

SETUP = """
from workspaces.services import workspace_create, api_key_create, Actor
from connectors.models import ConnectorDefinition
from connectors.services import connector_create
ws = workspace_create(name="Bench")
key = api_key_create(workspace=ws, name="bench")[1]
c = connector_create(workspace=ws, definition=ConnectorDefinition.objects.get(slug="stripe"), name="Stripe",
                     credentials={"api_key": "sk_test_bench"}, actor=Actor.system())
print(key, c.pk)
"""


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    cmd = [
        str(Path(PY).parent / "gunicorn"),
        "config.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "-c",
            "16",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )
    time.sleep(4)
    return proc


def measure(label: str, fn, n: int, concurrency: int, results: dict) -> None:
    for _ in range(min(50, n)):
        fn()  # warm up pools, caches and connections
    seq = summary(*run_sequential(fn, n))
    conc = summary(*run_concurrent(fn, n, concurrency))
    results[label] = {"sequential": seq, "concurrent": conc}
    print(
        f"  {label:<28} seq p50 {seq['p50']:7.2f} ms  p99 {seq['p99']:7.2f} ms  | "
        f"conc({concurrency}) p50 {conc['p50']:7.2f} ms  p99 {conc['p99']:7.2f} ms  {conc['rps']:7.1f} req/s",
        flush=True,
    )


def prepare(database: str, n: int, concurrency: int) -> tuple[dict[str, str], str, str, dict]:
    """A loopback Stripe stub, a migrated database with a key and a Stripe connector pointed at the stub, and the
    direct call measured: (server env, API key, connector id, results so far)."""
    stub_url, _ = start_stub()  # serves from its own thread for the whole run
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url(database),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PATCHBAY_CATALOG_OVERRIDES": json.dumps({"stripe": {"base_url": stub_url}}),
    }
    # Redis is there for what a deployment uses it for besides the broker (the API-key cache's change broadcast);
    # the in-process path still runs tasks in the request: no broker.
    env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    env["CELERY_BROKER_URL"] = env["CELERY_RESULT_BACKEND"] = ""
    print(f"==> database {env['DATABASE_URL'].split('@')[-1]}, upstream stub {stub_url}", flush=True)
    manage(env, "migrate", "-v", "0")
    key, connector_id = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1].split()
    results: dict = {}
    session = requests.Session()
    measure(
        "direct requests",
        lambda: session.get(f"{stub_url}/v1/customers?limit=3", timeout=10).json(),
        n,
        concurrency,
        results,
    )
    return env, key, connector_id, results


BENCH_VENV = ROOT / ".venv-bench"  # `make bench-venv`: airbyte-agent-stripe, kept out of Patchbay's own venv


def measure_airbyte(stub_url: str, n: int, concurrency: int, results: dict) -> None:
    """Airbyte's in-process Stripe connector against the same stub, in the bench venv (bench/airbyte_stripe_driver.py).
    Its added latency is over direct calls interleaved in that same process."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        print("  airbyte in-process          skipped: no .venv-bench (run `make bench-venv`)", flush=True)
        return
    driver = Path(__file__).resolve().parent / "airbyte_stripe_driver.py"
    out = subprocess.run(
        [str(python), str(driver), stub_url, str(n), str(concurrency)], capture_output=True, text=True, check=False
    )
    if out.returncode:
        print(f"  airbyte in-process          failed:\n{out.stderr[-2000:]}", flush=True)
        return
    data = json.loads(out.stdout.strip().splitlines()[-1])
    seq = {"p50": statistics.median(data["airbyte"]), "p99": percentile(data["airbyte"], 99)}
    own_direct = {"p50": statistics.median(data["direct"]), "p99": percentile(data["direct"], 99)}
    results["airbyte in-process (stripe)"] = {
        "sequential": seq,
        "concurrent": {"rps": data["airbyte_rps"]},
        "direct": own_direct,
    }
    print(
        f"  {'airbyte in-process (stripe)':<28} seq p50 {seq['p50']:7.2f} ms  p99 {seq['p99']:7.2f} ms  | "
        f"{concurrency} asyncio tasks {data['airbyte_rps']:7.1f} req/s   (direct in its process: p50 "
        f"{own_direct['p50']:.2f} ms)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--skip-celery", action="store_true")
    parser.add_argument("--skip-airbyte", action="store_true")
    args = parser.parse_args()

    env, key, connector_id, results = prepare("patchbay_bench", args.n, args.concurrency)
    if not args.skip_airbyte:
        stub_url = json.loads(env["PATCHBAY_CATALOG_OVERRIDES"])["stripe"]["base_url"]
        measure_airbyte(stub_url, args.n, args.concurrency, results)

    def through(port: int):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {key}"
        url = f"http://127.0.0.1:{port}/api/v1/integrations/connectors/{connector_id}/execute"
        body = {"entity": "customers", "action": "list", "params": {"limit": 3}}

        def call():
            response = s.post(url, json=body, timeout=30)
            assert response.status_code == 200, response.text
            return response

        return call

    port = free_port()
    gunicorn = start_gunicorn(env, port, args.workers, args.threads)
    try:
        # The floor of any answer through gunicorn and Django's middleware: a view that touches nothing.
        floor = requests.Session()
        measure(
            "gunicorn, GET /healthz",
            lambda: floor.get(f"http://127.0.0.1:{port}/healthz"),
            args.n,
            args.concurrency,
            results,
        )
        measure("patchbay, in-process tasks", through(port), args.n, args.concurrency, results)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(10)

    if not args.skip_celery:
        redis = env["REDIS_URL"]
        celery_env = {**env, "CELERY_BROKER_URL": redis, "CELERY_RESULT_BACKEND": redis}
        worker = start_worker(celery_env)
        port = free_port()
        gunicorn = start_gunicorn(celery_env, port, args.workers, args.threads)
        try:
            measure("patchbay, celery + redis", through(port), args.n, args.concurrency, results)
        finally:
            gunicorn.send_signal(signal.SIGTERM)
            worker.send_signal(signal.SIGTERM)
            gunicorn.wait(10)
            worker.wait(20)

    direct = results["direct requests"]
    print("\n==> added latency over the direct call (p50, sequential) and throughput (concurrent)")
    added: dict[str, float] = {}
    for label, row in results.items():
        if label == "direct requests":
            continue
        base = row.get("direct", direct["sequential"])
        added[label] = row["sequential"]["p50"] - base["p50"]
        ratio = row["sequential"]["p50"] / base["p50"]
        print(
            f"  {label:<28} +{added[label]:6.2f} ms p50  (x{ratio:4.1f})   "
            f"+{row['sequential']['p99'] - base['p99']:6.2f} ms p99   "
            f"{row['concurrent']['rps']:7.1f} executes/s  ({row['concurrent']['rps'] / direct['concurrent']['rps']:.2f}"
            " of direct)"
        )
    print("\n==> issue 18 targets")
    in_process, celery = added.get("patchbay, in-process tasks"), added.get("patchbay, celery + redis")
    airbyte = added.get("airbyte in-process (stripe)")
    if in_process is not None and airbyte is not None:
        print(f"  in-process added / airbyte added   {in_process:.2f} / {airbyte:.2f} ms  (target: at most 2x)")
    if in_process is not None and "gunicorn, GET /healthz" in added:
        print(f"  ... of which the HTTP hop alone    +{added['gunicorn, GET /healthz']:.2f} ms  (GET /healthz)")
    if in_process is not None:
        share = results["patchbay, in-process tasks"]["concurrent"]["rps"] / direct["concurrent"]["rps"]
        print(f"  gunicorn throughput / direct       {share:.2f}  (target: at least 0.25)")
    if in_process is not None and celery is not None:
        print(f"  celery path over in-process        +{celery - in_process:.2f} ms p50  (target: at most 8 ms)")


if __name__ == "__main__":
    main()

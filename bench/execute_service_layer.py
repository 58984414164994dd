"""What Patchbay's execute adds at the service layer, in CPU time and SQL statements, beside Airbyte's in-process
connector: figures that stay put on a busy machine, where wall-clock latencies between processes do not.

    .venv/bin/python bench/execute_service_layer.py [--n 2000]

One process: the loopback stub (bench/_common.py) on a thread, Django with the API served through its test client
(no HTTP server), tasks in-process. Each round is one direct `requests` call and one POST .../execute, interleaved.
CPU is this process's `time.process_time()` (the stub's share is the same in both and cancels in the difference).
Airbyte's connector runs the same way in the bench venv (bench/airbyte_stripe_driver.py) against the same stub.
Needs PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL / REDIS_URL override)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, database_url, start_stub  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    stub_url, _ = start_stub()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": database_url("patchbay_bench_service"),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
            "CELERY_BROKER_URL": "",
            "CELERY_RESULT_BACKEND": "",
            "PATCHBAY_CATALOG_OVERRIDES": json.dumps({"stripe": {"base_url": stub_url}}),
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from execute_overhead import SETUP

    call_command("migrate", verbosity=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(SETUP, {})  # noqa: S102 - the benchmark's own setup snippet
    key, connector_id = out.getvalue().split()

    client, session = Client(), requests.Session()
    url = f"/api/v1/integrations/connectors/{connector_id}/execute"
    body = json.dumps({"entity": "customers", "action": "list", "params": {"limit": 3}})
    headers = {"Authorization": f"Bearer {key}"}

    def execute() -> None:
        response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.content

    def direct() -> None:
        session.get(f"{stub_url}/v1/customers?limit=3", timeout=10).json()

    for _ in range(100):
        execute()
        direct()
    time.sleep(1)  # the API-key cache subscribes to Redis in the background
    execute()
    statements: list[str] = []

    def record(run, sql, params, many, context):  # noqa: ANN001, ANN202
        statements.append(sql.split()[0])
        return run(sql, params, many, context)

    with connection.execute_wrapper(record):
        execute()
    wall = {"execute": [], "direct": []}
    cpu = {"execute": 0.0, "direct": 0.0}
    for _ in range(args.n):
        for name, fn in (("execute", execute), ("direct", direct)):
            start, busy = time.perf_counter(), time.process_time()
            fn()
            wall[name].append((time.perf_counter() - start) * 1000)
            cpu[name] += time.process_time() - busy
    added_cpu = (cpu["execute"] - cpu["direct"]) * 1000 / args.n
    added_p50 = statistics.median(wall["execute"]) - statistics.median(wall["direct"])
    print(f"==> {args.n} interleaved rounds, load {os.getloadavg()[0]:.1f}")
    print(f"  patchbay execute (service layer)  +{added_cpu:5.2f} ms CPU per call   +{added_p50:5.2f} ms p50 wall")
    print(f"  SQL statements per execute        {len(statements)}: " + "; ".join(statements))

    python = ROOT / ".venv-bench" / "bin" / "python"
    if not python.exists():
        print("  airbyte in-process                skipped: no .venv-bench (run `make bench-venv`)")
        return
    driver = Path(__file__).resolve().parent / "airbyte_stripe_driver.py"
    run = subprocess.run([str(python), str(driver), stub_url, str(args.n), "16"], capture_output=True, text=True)
    if run.returncode:
        print(f"  airbyte in-process                failed:\n{run.stderr[-2000:]}")
        return
    data = json.loads(run.stdout.strip().splitlines()[-1])
    airbyte_cpu = data["airbyte_cpu_ms"] - data["direct_cpu_ms"]
    airbyte_p50 = statistics.median(data["airbyte"]) - statistics.median(data["direct"])
    print(f"  airbyte in-process (stripe)       +{airbyte_cpu:5.2f} ms CPU per call   +{airbyte_p50:5.2f} ms p50 wall")
    print(f"  patchbay / airbyte, CPU added     x{added_cpu / airbyte_cpu:.1f}  (issue 18 target: at most 2x)")


if __name__ == "__main__":
    main()

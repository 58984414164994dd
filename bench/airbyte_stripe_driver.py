"""Airbyte's own in-process Stripe connector (`airbyte-agent-stripe`) against bench/execute_overhead.py's loopback
stub, for its third column. Runs in the bench-only venv (.venv-bench, `make bench-venv`), never in Patchbay's.

    .venv-bench/bin/python bench/airbyte_stripe_driver.py STUB_URL N CONCURRENCY

Prints one JSON line: per-call milliseconds for the connector and, interleaved in the same process, for a direct
`requests` call to the same stub, the CPU time each took in this process, and the connector's calls per second from
CONCURRENCY asyncio tasks.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

os.environ["AIRBYTE_TELEMETRY_MODE"] = "disabled"  # before the package reads it

import requests  # noqa: E402
from airbyte_agent_stripe import connector as stripe_connector  # noqa: E402
from airbyte_agent_stripe.connector import StripeConnector  # noqa: E402
from airbyte_agent_stripe.models import StripeAuthConfig  # noqa: E402


def make_connector(stub_url: str) -> StripeConnector:
    # The package reads its base URL from its connector model when the executor is built: point that at the stub.
    stripe_connector.StripeConnectorModel.base_url = stub_url
    return StripeConnector(auth_config=StripeAuthConfig(api_key="sk_test_bench"))


async def main(stub_url: str, n: int, concurrency: int) -> dict:
    connector = make_connector(stub_url)
    session = requests.Session()

    async def call() -> None:
        result = await connector.execute("customers", "list", {"limit": 3})
        assert result is not None

    def direct() -> None:
        session.get(f"{stub_url}/v1/customers?limit=3", timeout=10).json()

    for _ in range(min(50, n)):
        await call()
        direct()
    airbyte, plain = [], []
    cpu = {"airbyte": 0.0, "direct": 0.0}
    for _ in range(n):
        start, busy = time.perf_counter(), time.process_time()
        await call()
        airbyte.append((time.perf_counter() - start) * 1000)
        cpu["airbyte"] += time.process_time() - busy
        start, busy = time.perf_counter(), time.process_time()
        direct()
        plain.append((time.perf_counter() - start) * 1000)
        cpu["direct"] += time.process_time() - busy

    gate = asyncio.Semaphore(concurrency)

    async def gated() -> None:
        async with gate:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(gated() for _ in range(n)))
    rps = n / (time.perf_counter() - start)
    return {
        "airbyte": airbyte,
        "direct": plain,
        "airbyte_rps": rps,
        "airbyte_cpu_ms": cpu["airbyte"] * 1000 / n,
        "direct_cpu_ms": cpu["direct"] * 1000 / n,
    }


if __name__ == "__main__":
    url, count, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(asyncio.run(main(url, count, threads))))

"""What the MCP surface adds over the REST execute: the same Stripe-shaped list through
(a) direct `requests`, (b) POST /api/v1/integrations/connectors/{id}/execute, (c) a JSON-RPC `tools/call` of the
`execute` tool on /mcp (one HTTP POST per call, as a Streamable HTTP client sends it), and (d) the official MCP
Python client (one session, sequential calls). gunicorn, in-process tasks, loopback upstream stub.

    .venv/bin/python bench/mcp_overhead.py [--n 500] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import free_port, percentile  # noqa: E402
from execute_overhead import measure, prepare, start_gunicorn  # noqa: E402

MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def official_client(url: str, key: str, connector_id: str, n: int) -> dict[str, float]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def run() -> list[float]:
        samples: list[float] = []
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            args = {"connector": connector_id, "entity": "customers", "action": "list", "params": {"limit": 3}}
            for _ in range(min(50, n)):
                await client.call_tool("execute", args)
            for _ in range(n):
                start = time.perf_counter()
                result = await client.call_tool("execute", args)
                samples.append((time.perf_counter() - start) * 1000)
                assert not result.is_error, result.content
        return samples

    samples = asyncio.run(run())
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    env, key, connector_id, results = prepare("patchbay_bench_mcp", args.n, args.concurrency)
    port = free_port()
    gunicorn = start_gunicorn(env, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    try:
        rest = requests.Session()
        rest.headers["Authorization"] = f"Bearer {key}"
        body = {"entity": "customers", "action": "list", "params": {"limit": 3}}

        def rest_call():
            response = rest.post(f"{base}/api/v1/integrations/connectors/{connector_id}/execute", json=body, timeout=30)
            assert response.status_code == 200, response.text

        measure("REST execute", rest_call, args.n, args.concurrency, results)

        mcp = requests.Session()
        mcp.headers.update({**MCP_HEADERS, "Authorization": f"Bearer {key}"})
        rpc = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "execute", "arguments": {"connector": connector_id, **body}},
        }

        def mcp_call():
            response = mcp.post(f"{base}/mcp", json=rpc, timeout=30)
            assert response.status_code == 200, response.text
            assert not response.json()["result"].get("isError"), response.text

        measure("MCP tools/call (HTTP)", mcp_call, args.n, args.concurrency, results)
        client = official_client(f"{base}/mcp", key, connector_id, args.n)
        print(f"  {'MCP official client':<28} seq p50 {client['p50']:7.2f} ms  p99 {client['p99']:7.2f} ms", flush=True)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(10)

    rest_seq = results["REST execute"]["sequential"]
    print("\n==> added latency over the REST execute (sequential)")
    for label, row in (("MCP tools/call (HTTP)", results["MCP tools/call (HTTP)"]["sequential"]),
                       ("MCP official client", client)):  # fmt: skip
        p50, p99 = row["p50"] - rest_seq["p50"], row["p99"] - rest_seq["p99"]
        print(f"  {label:<28} {p50:+7.2f} ms p50   {p99:+7.2f} ms p99")


if __name__ == "__main__":
    main()

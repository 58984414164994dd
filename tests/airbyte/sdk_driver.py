"""Runs Airbyte's SDK (airbyte-agent-sdk, in .venv-airbyte) against a live Patchbay, as a user's program would.

Run by tests/airbyte/test_airbyte_sdk.py with `.venv-airbyte/bin/python sdk_driver.py STEPS_JSON`: the environment
carries SDK_DEV_ADP_API_HOST, AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET. Each step is one SDK call; the driver
prints one JSON line per step: {"ok": value} or {"error": exception class name, "message": str(exception)}.
This file imports nothing from Patchbay (the SDK cannot live in Patchbay's venv: it pins cryptography<49).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from airbyte_agent_sdk import Workspace, connect

_connectors: dict[str, Any] = {}


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


async def run_step(step: dict[str, Any]) -> Any:
    kind = step["do"]
    kwargs = step.get("kwargs", {})
    if kind == "list_connectors":
        async with Workspace(**kwargs) as ws:
            return await ws.list_connectors()
    if kind == "delete_connector":
        async with Workspace(**kwargs) as ws:
            await ws.delete_connector(step["connector_id"])
            return None
    if kind == "workspace_execute":
        # Workspace.get_connector(name=...) resolves the slug and returns a HostedExecutor.
        async with Workspace(**kwargs) as ws:
            executor = await ws.get_connector(name=step["slug"])
        async with executor:
            result = await executor.execute(step["entity"], step["action"], params=step.get("params"))
            return {"data": result.data, "meta": result.meta}
    if kind == "connect":
        # connect() runs its own event loop for the slug lookup: called from a worker thread, as a script would.
        connector = await asyncio.to_thread(connect, step["slug"], **kwargs)
        _connectors[step.get("as", step["slug"])] = connector
        return type(connector).__name__
    connector = _connectors[step.get("on", "stripe")]
    if kind == "execute":
        options = {k: step[k] for k in ("select_fields", "exclude_fields", "skip_truncation") if k in step}
        result = await connector.execute(step["entity"], step["action"], step.get("params"), **options)
        return {"data": getattr(result, "data", result), "meta": getattr(result, "meta", None)}
    if kind == "hosted_execute":
        # The executor under a typed connector: the only path that sends `intent`.
        result = await connector._executor.execute(
            step["entity"], step["action"], params=step.get("params"), intent=step.get("intent")
        )
        return {"data": result.data, "meta": result.meta}
    if kind == "typed_list":
        # The typed shortcut, e.g. stripe.customers.list(limit=10).
        result = await getattr(connector, step["entity"]).list(**step.get("params", {}))
        return {"data": result.data, "meta": result.meta}
    if kind == "check":
        return await connector.check()
    if kind == "close":
        await connector.close()
        return None
    raise ValueError(f"unknown step {kind!r}")


async def main(steps: list[dict[str, Any]]) -> None:
    for step in steps:
        try:
            out: dict[str, Any] = {"ok": _plain(await run_step(step))}
        except Exception as exc:  # noqa: BLE001 - the test asserts on the class and message
            out = {"error": type(exc).__name__, "message": str(exc), "status_code": getattr(exc, "status_code", None)}
        print(json.dumps(out, default=str), flush=True)
    for connector in _connectors.values():
        await connector.close()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))

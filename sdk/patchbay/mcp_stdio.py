"""`patchbay mcp`: Patchbay's MCP server over stdio, for desktop clients that launch a command.

It serves exactly what /mcp serves (same tools, modes and limits): each request is passed to the Patchbay server's
/mcp endpoint with the API key, through the official MCP SDK (a client to Patchbay, a stdio server to the desktop
app). Needs the `mcp` extra: `pip install 'patchbay[mcp]'`.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlencode

from ._http import resolve_config


def mcp_url(base_url: str, connectors: list[str] | None, mode: str | None) -> str:
    query = {k: v for k, v in {"connectors": ",".join(connectors or []), "mode": mode}.items() if v}
    return base_url.rstrip("/") + "/mcp" + (f"?{urlencode(query)}" if query else "")


async def serve_stdio(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    connectors: list[str] | None = None,
    mode: str | None = None,
) -> None:
    try:
        import httpx2
        import mcp_types as types
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.server.lowlevel.server import Server
        from mcp.server.stdio import stdio_server
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SystemExit("patchbay mcp needs the MCP SDK: pip install 'patchbay[mcp]'") from exc

    config = resolve_config(api_key, base_url)
    if not config.api_key:
        raise SystemExit("patchbay mcp needs an API key: --api-key or PATCHBAY_API_KEY.")
    url = mcp_url(config.base_url, connectors, mode)
    headers = {"Authorization": f"Bearer {config.api_key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=config.timeout + 30) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as remote,
    ):

        async def list_tools(_ctx: Any, params: Any) -> types.ListToolsResult:
            return await remote.list_tools(cursor=getattr(params, "cursor", None))

        async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
            return await remote.call_tool(params.name, params.arguments)

        server = Server("patchbay", version="1.0.0", on_list_tools=list_tools, on_call_tool=call_tool)
        sys.stderr.write(f"patchbay mcp: serving {url} over stdio\n")
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

"""/mcp: the MCP server over Streamable HTTP, inside the Django app.

The SDK's transport is an ASGI app; this WSGI view hands it one request at a time (stateless mode with JSON
responses: every POST carries a whole exchange, so no session outlives the request and any worker process can
answer). Authentication comes first, as for the REST API: a missing or wrong key is HTTP 401, a key limited away
from MCP is 403.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from core.errors import AuthenticationFailed, PermissionDenied
from workspaces.auth import actor_for, bearer_principal

from ..limits import Surface, check_surface
from .server import MODES, McpContext, build_server


@csrf_exempt
def mcp_endpoint(request: HttpRequest) -> HttpResponse:
    try:
        principal = bearer_principal(request)
        check_surface(principal, Surface.MCP)
    except AuthenticationFailed as exc:
        response = JsonResponse({"error": "unauthorized", "message": exc.message}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="patchbay"'
        return response
    except PermissionDenied as exc:
        return JsonResponse({"error": "forbidden", "message": exc.message}, status=403)
    mode = request.GET.get("mode", "tools")
    if mode not in MODES:
        return JsonResponse({"error": "invalid_request", "message": f"mode must be one of {', '.join(MODES)}."}, 400)
    request.auth = principal  # type: ignore[attr-defined]
    ctx = McpContext(
        workspace=principal.workspace,
        principal=principal,
        actor=actor_for(request),
        mode=mode,
        refs=[r.strip() for r in request.GET.get("connectors", "").split(",") if r.strip()],
    )
    status, headers, body = async_to_sync(_serve)(ctx, _scope(request), request.body)
    response = HttpResponse(body, status=status)
    for name, value in headers:
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            response[name] = value
    return response


def _scope(request: HttpRequest) -> dict[str, Any]:
    host = request.get_host()
    server_name, _, port = host.partition(":")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()],
        "client": (request.META.get("REMOTE_ADDR") or "127.0.0.1", 0),
        "server": (server_name, int(port) if port.isdigit() else 80),
    }


async def _serve(ctx: McpContext, scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run the SDK's transport for one request; collect the response it sends."""
    manager = StreamableHTTPSessionManager(app=build_server(ctx), json_response=True, stateless=True)
    done = asyncio.Event()
    sent_body = False
    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.extend((k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    async with manager.run():
        await manager.handle_request(scope, receive, send)
    done.set()
    return status, headers, b"".join(chunks)

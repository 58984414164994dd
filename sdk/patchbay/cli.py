"""The `patchbay` command line: definitions, connectors and execute, as aligned text tables or JSON (--json).

Configuration comes from --api-key/--url or PATCHBAY_API_KEY/PATCHBAY_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from ._version import __version__
from .errors import ConnectorAmbiguityError, PatchbayError
from .executor import connect
from .models import ExecutionResult
from .workspace import Workspace

MAX_CELL = 60


# --- rendering -------------------------------------------------------------------------------------------------


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, separators=(",", ":"), default=str) if isinstance(value, dict | list) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain columns separated by two spaces, headers upper-cased, no trailing spaces."""
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text_rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in text_rows]
    return "\n".join(lines)


def records_table(records: list[Any]) -> str:
    """A list of dicts as a table with the keys in first-seen order; other values one per line."""
    if not all(isinstance(r, dict) for r in records):
        return format_table(["value"], [[r] for r in records])
    headers: list[str] = []
    for record in records:
        for key in record:
            if key not in headers:
                headers.append(key)
    return format_table(headers, [[r.get(h) for h in headers] for r in records])


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items() if k != "raw"}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def dump_json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(to_jsonable(value), indent=2, default=str) + "\n")


def parse_param(text: str) -> tuple[str, Any]:
    """`k=v`: v is read as JSON when it parses (10, true, ["a"], "quoted"), else taken as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param takes key=value, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


# --- commands --------------------------------------------------------------------------------------------------


def workspace_from(args: argparse.Namespace) -> Workspace:
    return Workspace(api_key=args.api_key, base_url=args.url)


async def cmd_definitions_list(args: argparse.Namespace, out: TextIO) -> int:
    async with workspace_from(args) as ws:
        definitions = await ws.list_definitions(args.name)
    if args.json:
        dump_json(definitions, out)
    elif not definitions:
        out.write("No connector types match.\n")
    else:
        rows = [[d.slug, d.name, d.id, ", ".join(s.key for s in d.auth_schemes)] for d in definitions]
        out.write(format_table(["slug", "name", "definition_id", "auth_schemes"], rows) + "\n")
    return 0


async def cmd_connectors_list(args: argparse.Namespace, out: TextIO) -> int:
    async with workspace_from(args) as ws:
        connectors = await ws.list_connectors(connector_type=args.type)
    if args.json:
        dump_json(connectors, out)
    elif not connectors:
        out.write("No connectors in this workspace.\n")
    else:
        rows = [[c.id, c.name, c.slug, c.connector_type, c.status, c.created_at, c.last_used_at] for c in connectors]
        out.write(format_table(["id", "name", "slug", "type", "status", "created_at", "last_used_at"], rows) + "\n")
    return 0


async def cmd_connectors_get(args: argparse.Namespace, out: TextIO) -> int:
    async with workspace_from(args) as ws:
        detail = await ws.describe_connector(args.connector_id)
    if args.json:
        dump_json(detail, out)
    else:
        rows = [[f.name, getattr(detail, f.name)] for f in dataclasses.fields(detail)]
        out.write(format_table(["field", "value"], rows) + "\n")
    return 0


async def cmd_connectors_delete(args: argparse.Namespace, out: TextIO) -> int:
    async with workspace_from(args) as ws:
        await ws.delete_connector(args.connector_id)
    if args.json:
        dump_json({"id": args.connector_id, "deleted": True}, out)
    else:
        out.write(f"Deleted connector {args.connector_id}.\n")
    return 0


async def cmd_connectors_check(args: argparse.Namespace, out: TextIO) -> int:
    async with workspace_from(args) as ws:
        result = await ws.check_connector(args.connector_id)
    if args.json:
        dump_json(result, out)
    else:
        out.write(("OK: " if result.ok else "FAILED: ") + result.message + "\n")
    return 0 if result.ok else 1


async def cmd_execute(args: argparse.Namespace, out: TextIO) -> int:
    params: dict[str, Any] = {}
    if args.params:
        try:
            params.update(json.loads(args.params))
        except (ValueError, TypeError) as exc:
            raise PatchbayError(f"--params must be a JSON object: {exc}") from None
    params.update(dict(args.param or []))
    executor = connect(args.slug, args.connector_id, api_key=args.api_key, base_url=args.url)
    async with executor:
        pages: list[ExecutionResult] = []
        if args.all_pages:
            pages = [page async for page in executor.pages(args.entity, args.action, params)]
        else:
            pages = [await executor.execute_raw(args.entity, args.action, params)]
    if args.json:
        raw = [p.raw for p in pages]
        dump_json(raw if args.all_pages else raw[0], out)
        return 0
    result: Any
    if args.all_pages:
        result = [r for p in pages for r in (p.result if isinstance(p.result, list) else [p.result])]
    else:
        result = pages[0].result
    if isinstance(result, list):
        out.write((records_table(result) if result else "No records.") + "\n")
    elif isinstance(result, dict):
        out.write(format_table(["field", "value"], list(result.items())) + "\n")
    else:
        out.write(cell(result) + "\n")
    last = pages[-1]
    footer = f"execution {last.execution_id} · {last.execution_time_ms} ms · {last.attempts} attempt(s)"
    if last.has_next_page:
        footer += f" · more pages: --param cursor={last.end_cursor} (or --all-pages)"
    sys.stderr.write(footer + "\n")
    return 0


async def cmd_mcp(args: argparse.Namespace, out: TextIO) -> int:
    from .mcp_stdio import serve_stdio

    connectors = [c.strip() for c in (args.connectors or "").split(",") if c.strip()]
    await serve_stdio(api_key=args.api_key, base_url=args.url, connectors=connectors, mode=args.mode)
    return 0


# --- parser ----------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument("--api-key", default=None, help="API key (default: $PATCHBAY_API_KEY)")
    common.add_argument("--url", default=None, help="Patchbay URL (default: $PATCHBAY_URL or http://127.0.0.1:8000)")

    parser = argparse.ArgumentParser(prog="patchbay", description="Patchbay from the command line.")
    parser.add_argument("--version", action="version", version=f"patchbay {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    definitions = commands.add_parser("definitions", help="connector types").add_subparsers(
        dest="subcommand", required=True, metavar="SUBCOMMAND"
    )
    p = definitions.add_parser("list", parents=[common], help="list connector types")
    p.add_argument("--name", default=None, help="only the type with this name or slug")
    p.set_defaults(handler=cmd_definitions_list)

    connectors = commands.add_parser("connectors", help="the workspace's connectors").add_subparsers(
        dest="subcommand", required=True, metavar="SUBCOMMAND"
    )
    p = connectors.add_parser("list", parents=[common], help="list connectors")
    p.add_argument("--type", default=None, metavar="SLUG", help="only connectors of this type (slug)")
    p.set_defaults(handler=cmd_connectors_list)
    for name, handler, text in (
        ("get", cmd_connectors_get, "show one connector"),
        ("delete", cmd_connectors_delete, "delete a connector and its credentials"),
        ("check", cmd_connectors_check, "check a connector's credentials against the service"),
    ):
        p = connectors.add_parser(name, parents=[common], help=text)
        p.add_argument("connector_id", metavar="CONNECTOR_ID")
        p.set_defaults(handler=handler)

    p = commands.add_parser("execute", parents=[common], help="run an operation on a connector")
    p.add_argument("slug", metavar="SLUG", help="connector type, e.g. stripe")
    p.add_argument("entity", metavar="ENTITY", help="e.g. customers")
    p.add_argument("action", metavar="ACTION", help="e.g. list")
    p.add_argument(
        "--param",
        action="append",
        type=parse_param,
        metavar="KEY=VALUE",
        help="a parameter; VALUE is read as JSON when it parses, else as a string (repeatable)",
    )
    p.add_argument("--params", default=None, metavar="JSON", help="parameters as one JSON object")
    p.add_argument("--connector-id", default=None, help="which connector, when the workspace has several of SLUG")
    p.add_argument("--all-pages", action="store_true", help="follow end_cursor through every page")
    p.set_defaults(handler=cmd_execute)

    p = commands.add_parser("mcp", parents=[common], help="serve Patchbay's MCP tools over stdio (desktop clients)")
    p.add_argument("--connectors", default=None, metavar="LIST", help="comma-separated types or ids (per_action)")
    p.add_argument("--mode", default=None, choices=["tools", "per_action"], help="tools (default) or per_action")
    p.set_defaults(handler=cmd_mcp)
    return parser


def _run(coroutine: Any) -> int:
    """asyncio.run, or the sync facade's loop when this thread already runs one (Jupyter, embedding apps)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from .sync import run

    return run(coroutine)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args.handler(args, sys.stdout))
    except ConnectorAmbiguityError as exc:
        sys.stderr.write(f"error: {exc}\n")
        for candidate in exc.candidates:
            sys.stderr.write(f"  --connector-id {candidate.id}  ({candidate.name})\n")
        return 1
    except PatchbayError as exc:
        sys.stderr.write(f"error: {exc}\n")
        for error in exc.errors:
            sys.stderr.write(f"  {error}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

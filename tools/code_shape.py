"""Prints the shape of the application code: the largest functions (lines, branches), import cycles between
project modules, and how many places read manifest dicts or write connector status. Used for the structure
issue's before/after figures: `python tools/code_shape.py`."""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "connectors", "dashboard", "workspaces"]
BRANCHES = (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.IfExp, ast.ExceptHandler, ast.match_case, ast.BoolOp)


def app_files() -> list[Path]:
    return [
        p
        for app in APPS
        for p in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in p.parts and "management" not in p.parts
    ]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def functions() -> list[tuple[int, int, str]]:
    out = []
    for path in app_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                branches = sum(isinstance(n, BRANCHES) for n in ast.walk(node))
                out.append((lines, branches, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return sorted(out, reverse=True)


def resolve(module: str, level: int, name: str | None, is_pkg: bool) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def import_graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in app_files()}
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in modules.items():
        tree = ast.parse(path.read_text())
        nodes = tree.body if top_level_only else list(ast.walk(tree))
        for node in nodes:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(mod, node.level, node.module, path.name == "__init__.py")
                # `from pkg import sub` depends on pkg.sub, not on pkg's __init__ (unless a name lives there).
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


MANIFEST_READS = re.compile(r"""(manifest|spec|scheme)\s*(\[\s*["']|\.get\(\s*["'])""")
# A connector's status written directly: an UPDATE naming it, or an assignment to the attribute.
STATUS_WRITES = re.compile(r"\.update\([^)]*\bstatus=ConnectorStatus|^\s*connector\.status(,\s*[\w.]+)*\s*=(?!=)")


def grep(pattern: re.Pattern[str], exclude: tuple[str, ...] = ()) -> list[str]:
    hits = []
    for path in app_files():
        rel = str(path.relative_to(ROOT))
        if rel.startswith(exclude):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                hits.append(f"{rel}:{n}")
    return hits


def main() -> None:
    print("Largest ten functions (lines, branches):")
    for lines, branches, where in functions()[:10]:
        print(f"  {lines:4d} lines {branches:3d} branches  {where}")
    over = [f for f in functions() if f[0] > 80]
    print(f"Functions over 80 lines: {len(over)}")
    for label, top in (("module-level", True), ("any (incl. in-function)", False)):
        found = cycles(import_graph(top))
        print(f"Import cycles, {label} imports: {len(found)}")
        for comp in found:
            print("  " + " <-> ".join(comp))
    reads = grep(MANIFEST_READS, exclude=("connectors/catalog/loader.py",))
    files = len({h.split(":")[0] for h in reads})
    print(f"Places reading manifest dicts (outside the loader): {len(reads)} in {files} files")
    writes = grep(STATUS_WRITES, exclude=("connectors/status.py",))
    print(f"Places writing connector status outside connectors/status.py: {len(writes)}")
    for hit in writes:
        print(f"  {hit}")
    inner = sum(
        1
        for path in app_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for sub in ast.walk(node)
        if isinstance(sub, ast.Import | ast.ImportFrom)
    )
    print(f"Imports inside functions: {inner}")


if __name__ == "__main__":
    main()

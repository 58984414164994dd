"""Small server-rendered SVG charts: no JavaScript, no chart library, readable without CSS."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Formatter = Callable[[float], str]

INK = "#64748b"
GRID = "#e2e8f0"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated text below goes through escape()
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _empty(width: int, height: int, label: str, message: str) -> SafeString:
    return _svg(
        width,
        height,
        label,
        [
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" fill="#f8fafc" '
            f'stroke="{GRID}" stroke-dasharray="4 4"/>',
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" dominant-baseline="middle" '
            f'font-size="13" fill="{INK}">{escape(message)}</text>',
        ],
    )


def _y_axis(body: list[str], *, left: int, right: int, top: int, bottom: int, vmax: float, fmt: Formatter) -> None:
    for i in range(5):
        value = vmax * i / 4
        y = bottom - (bottom - top) * i / 4
        body.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        body.append(
            f'<text x="{left - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" font-size="11" '
            f'fill="{INK}">{escape(fmt(value))}</text>'
        )


def bar_chart(
    points: Sequence[tuple[str, float]],
    *,
    label: str,
    color: str = "#4f46e5",
    fmt: Formatter = lambda v: _num(v),
    vmax: float | None = None,
    tick_every: int = 3,
    width: int = 640,
    height: int = 200,
    empty_message: str = "No executions in this period",
    integer: bool = False,
) -> SafeString:
    """Vertical bars, one per point (e.g. per hour). Each bar carries a <title> tooltip."""
    if not points or not any(v for _, v in points):
        return _empty(width, height, label, empty_message)
    left, right, top, bottom = 44, width - 8, 10, height - 26
    if vmax is None:
        top_value = max(v for _, v in points)
        # Counts get whole-number gridlines (four steps).
        vmax = _nice_max(top_value) if top_value > 20 or not integer else max(4, math.ceil(top_value / 4) * 4)
    body: list[str] = []
    _y_axis(body, left=left, right=right, top=top, bottom=bottom, vmax=vmax, fmt=fmt)
    slot = (right - left) / len(points)
    bar_w = max(2.0, slot * 0.7)
    for i, (name, value) in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        h = 0 if vmax == 0 else (bottom - top) * min(value, vmax) / vmax
        body.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar_w:.1f}" height="{max(h, 0):.1f}" rx="2" '
            f'fill="{color}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>'
        )
        if i % tick_every == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
                f'fill="{INK}">{escape(name)}</text>'
            )
    body.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#cbd5e1"/>')
    return _svg(width, height, label, body)


def latency_chart(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    label: str = "p50 and p95 latency per connector",
    width: int = 1000,
    empty_message: str = "No finished executions in this period",
) -> SafeString:
    """Horizontal paired bars per connector: p50 (solid) and p95 (light)."""
    rows = [r for r in rows if r[1] is not None or r[2] is not None]
    row_h, top = 34, 26
    height = top + row_h * max(len(rows), 1) + 24
    if not rows:
        return _empty(width, 120, label, empty_message)
    left, right = 150, width - 70
    vmax = _nice_max(max((r[2] or r[1] or 0) for r in rows))
    body: list[str] = [
        f'<rect x="{left}" y="4" width="10" height="10" rx="2" fill="#0ea5e9"/>'
        f'<text x="{left + 16}" y="13" font-size="11" fill="{INK}">p50</text>'
        f'<rect x="{left + 56}" y="4" width="10" height="10" rx="2" fill="#bae6fd"/>'
        f'<text x="{left + 72}" y="13" font-size="11" fill="{INK}">p95</text>'
    ]
    for i in range(5):
        x = left + (right - left) * i / 4
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{height - 22}" stroke="{GRID}"/>')
        body.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" fill="{INK}">'
            f"{escape(_num(vmax * i / 4))} ms</text>"
        )
    for i, (name, p50, p95) in enumerate(rows):
        y = top + i * row_h
        short = name if len(name) <= 20 else name[:19] + "…"
        body.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" font-size="12" fill="#0f172a">'
            f"<title>{escape(name)}</title>{escape(short)}</text>"
        )
        for value, color, offset, bar_h in ((p95, "#bae6fd", 0, 22), (p50, "#0ea5e9", 5, 12)):
            if value is None:
                continue
            w = (right - left) * value / vmax
            body.append(
                f'<rect x="{left}" y="{y + offset:.1f}" width="{max(w, 1.5):.1f}" height="{bar_h}" rx="3" '
                f'fill="{color}"/>'
            )
        body.append(
            f'<text x="{right + 6}" y="{y + 14}" font-size="11" fill="{INK}">'
            f"{escape(_num(p50 or 0))} / {escape(_num(p95 or 0))}</text>"
        )
    return _svg(width, height, label, body)

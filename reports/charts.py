"""Inline SVG charts shared by every Haetae report: self-contained markup, no scripts, every label escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _figure(title: str, body: str) -> str:
    return f"<figure><figcaption><b>{esc(title)}</b></figcaption>{body}</figure>"


def bar_chart(data: dict[str, int | float], title: str, colors: dict[str, str] | None = None, top: int = 15) -> str:
    """A horizontal SVG bar chart of ``data`` (largest first)."""
    items = sorted(data.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    if not items:
        return _figure(title, "<p><i>none</i></p>")
    width, bar_h, label_w = 480, 20, 190
    peak = max(v for _, v in items) or 1
    rows = []
    for i, (label, value) in enumerate(items):
        w = max(1, int((width - label_w - 60) * value / peak))
        y = i * (bar_h + 6)
        color = (colors or {}).get(label, "#546e7a")
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{esc(label)[:32]}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{color}"><title>{esc(label)}: {value}</title></rect>'
            f'<text x="{label_w + w + 4}" y="{y + 14}" font-size="12">{value}</text>'
        )
    height = len(items) * (bar_h + 6)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{"".join(rows)}</svg>'
    return _figure(title, svg)


def _tick(value: float) -> str:
    return f"{value:.3g}"


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], title: str, x_label: str = "step",
               width: int = 480, height: int = 220) -> str:
    """A titled figure with ``line_svg``, or a note that nothing was logged."""
    svg = line_svg(series, title, x_label, width, height)
    return _figure(title, svg or "<p><i>nothing logged</i></p>")


def line_svg(series: Mapping[str, Sequence[tuple[float, float]]], title: str, x_label: str = "step",
             width: int = 480, height: int = 220) -> str:
    """A standalone SVG line chart: one polyline (with point markers) per named series of ``(x, y)`` points.

    Non-finite points are left out (a reward that could not be computed is not drawn as 0); with no finite point
    at all the result is ``""``.
    """
    clean = {name: [(float(x), float(y)) for x, y in points if math.isfinite(x) and math.isfinite(y)]
             for name, points in series.items()}
    clean = {name: points for name, points in clean.items() if points}
    if not clean:
        return ""
    xs = [x for points in clean.values() for x, _ in points]
    ys = [y for points in clean.values() for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    left, right, top, bottom = 52, 12, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11">{_tick(y1)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="11">{_tick(y0)}</text>',
        f'<text x="{left}" y="{height - 18}" font-size="11">{_tick(x0)}</text>',
        f'<text x="{left + plot_w}" y="{height - 18}" text-anchor="end" font-size="11">{_tick(x1)}</text>',
        f'<text x="{left + plot_w / 2}" y="{height - 18}" text-anchor="middle" font-size="11">{esc(x_label)}</text>',
    ]
    legend = []
    for i, (name, points) in enumerate(clean.items()):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        parts.extend(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2" fill="{color}"><title>{esc(name)} '
                     f'{x:g}: {y:.4g}</title></circle>' for x, y in points)
        legend.append(f'<tspan fill="{color}">&#9632; {esc(name)}</tspan>')
    parts.append(f'<text x="{left}" y="{height - 3}" font-size="11">{"  ".join(legend)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{esc(title)}">{"".join(parts)}</svg>')


def interval_chart(rows: Sequence[tuple[str, float | None, float | None, float | None]], title: str,
                   threshold: float | None = None, width: int = 520) -> str:
    """Rates in [0, 1] with confidence intervals: one row per ``(label, rate, low, high)``; a rate of ``None``
    (nothing judged) is drawn as "no data", not as 0. ``threshold`` draws the gate's minimum as a dashed line."""
    if not rows:
        return _figure(title, "<p><i>none</i></p>")
    label_w, bar_h, right = 190, 16, 96
    plot_w = width - label_w - right
    parts = []

    def px(v: float) -> float:
        return label_w + max(0.0, min(1.0, v)) * plot_w

    for i, (label, rate, low, high) in enumerate(rows):
        y = i * (bar_h + 8)
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" font-size="12">{esc(label)[:30]}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#f3f3f3"/>')
        if rate is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 12}" font-size="11" fill="#777">no judged items</text>')
            continue
        color = "#c62828" if threshold is not None and rate < threshold else "#1565c0"
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{px(rate) - label_w:.1f}" height="{bar_h - 6}" '
                     f'fill="{color}"><title>{esc(label)}: {rate:.3f}</title></rect>')
        if low is not None and high is not None:
            parts.append(f'<line x1="{px(low):.1f}" x2="{px(high):.1f}" y1="{y + bar_h / 2}" y2="{y + bar_h / 2}" '
                         'stroke="#222" stroke-width="1.5"/>')
        text = f"{rate * 100:.1f}%" + (f" ±{(high - low) * 50:.1f}" if low is not None and high is not None else "")
        parts.append(f'<text x="{label_w + plot_w + 4}" y="{y + 12}" font-size="11">{esc(text)}</text>')
    height = len(rows) * (bar_h + 8)
    if threshold is not None:
        parts.append(f'<line x1="{px(threshold):.1f}" x2="{px(threshold):.1f}" y1="0" y2="{height}" stroke="#ef6c00" '
                     'stroke-dasharray="4 3"><title>gate minimum</title></line>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{esc(title)}">{"".join(parts)}</svg>')
    return _figure(title, svg)

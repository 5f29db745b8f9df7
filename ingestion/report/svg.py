"""Small inline SVG line charts for the member scorecards (no JavaScript, no other member)."""

from __future__ import annotations

import datetime as dt
from html import escape


def line_chart(
    series: list[tuple[str, str, str, list[tuple[dt.date, float | None]]]],
    *,
    title: str,
    percent: bool = True,
    width: int = 720,
    height: int = 220,
) -> str:
    """series: (label, colour, dash, [(month, value)]); gaps where value is None."""
    points = [(m, v) for _, _, _, pts in series for m, v in pts if v is not None]
    if not points:
        return ""
    months = sorted({m for _, _, _, pts in series for m, _ in pts})
    lo = min(0.0, min(v for _, v in points))
    hi = max(v for _, v in points)
    if percent:
        hi = max(hi, 1.0) if hi > 0.9 else max(hi, 0.1)
    if hi <= lo:
        hi = lo + 1
    left, right, top, bottom = 52, 12, 28, 44
    pw, ph = width - left - right, height - top - bottom
    first, last = months[0], months[-1]
    span = max(1, (last.year - first.year) * 12 + last.month - first.month)

    def x(m: dt.date) -> float:
        return left + pw * ((m.year - first.year) * 12 + m.month - first.month) / span

    def y(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    def label(v: float) -> str:
        return f"{v:.0%}" if percent else f"{v:,.1f}"

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" style="max-width:{width}px">',
        f'<text x="{left}" y="16" font-size="13" fill="#212121">{escape(title)}</text>',
    ]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        yy = y(v)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eeeeee"/>')
        out.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end" fill="#616161">{label(v)}</text>'
        )
    if lo < 0 < hi:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#bdbdbd"/>'
        )
    step = max(1, len(months) // 6)
    for m in months[::step]:
        out.append(
            f'<text x="{x(m):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
            f'fill="#616161">{m:%Y-%m}</text>'
        )
    for i, (name, colour, dash, pts) in enumerate(series):
        segments: list[list[str]] = [[]]
        for m, v in pts:
            if v is None:
                segments.append([])
            else:
                segments[-1].append(f"{x(m):.1f},{y(v):.1f}")
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            elif seg:
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                out.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash_attr} points="{" ".join(seg)}"/>'
                )
        lx = left + i * 200
        out.append(
            f'<line x1="{lx}" x2="{lx + 18}" y1="{height - 10}" y2="{height - 10}" stroke="{colour}" '
            f'stroke-width="2"{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>'
        )
        out.append(
            f'<text x="{lx + 24}" y="{height - 6}" font-size="11" fill="#424242">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)

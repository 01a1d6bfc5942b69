"""Charts drawn on the server as inline SVG: no script, no CDN, readable on a phone (the SVG scales)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 760, 260
LEFT, BOTTOM, TOP, RIGHT = 64, 36, 12, 12


def bar_chart(points: list[tuple[str, float]], unit: str, *, title: str = "",
              line: list[float | None] | None = None, line_unit: str = "") -> Markup:
    """Bars of `points` (label, value); labels thinned out so at most ~12 show under the axis. `line` (one value
    or None per bar) is drawn over the bars on its own scale, labelled on the right (the air temperature)."""
    if not points:
        return Markup("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(value for _, value in points) or 1
    step = plot_w / len(points)
    every = max(1, len(points) // 12)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(peak * fraction)}</text>')
    for index, (label, value) in enumerate(points):
        height = plot_h * value / peak
        x = LEFT + index * step
        parts.append(f'<rect x="{x + step * 0.1:.1f}" y="{TOP + plot_h - height:.1f}" width="{max(step * 0.8, 1):.1f}" '
                     f'height="{height:.1f}"><title>{escape(label)}: {_number(value)} {escape(unit)}</title></rect>')
        if index % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    if line and any(value is not None for value in line):
        parts.append(_line(line, step, plot_h, line_unit))
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 4}" class="unit">{escape(unit)}</text></svg>')
    return Markup("".join(parts))


def _line(values: list[float | None], step: float, plot_h: float, unit: str) -> str:
    known = [v for v in values if v is not None]
    low, high = min(known), max(known)
    span = (high - low) or 1
    coordinates = " ".join(f"{LEFT + (i + 0.5) * step:.1f},{TOP + plot_h * (1 - (v - low) / span):.1f}"
                           for i, v in enumerate(values) if v is not None)
    return (f'<polyline class="line" points="{coordinates}"><title>{escape(unit)}</title></polyline>'
            f'<text x="{WIDTH - RIGHT}" y="{TOP + 10}" text-anchor="end" class="line-label">'
            f'{_number(high)} {escape(unit)}</text><text x="{WIDTH - RIGHT}" y="{TOP + plot_h}" text-anchor="end" '
            f'class="line-label">{_number(low) if low >= 0 else "−" + _number(-low)} {escape(unit)}</text>')


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f") if value >= 100 else f"{value:.2f}".rstrip("0").rstrip(".") or "0"

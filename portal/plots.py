"""Charts as Plotly figures: traces and layout built here as plain data, drawn in the browser by plotly.js.

plotly.js comes from the installed `plotly` package (a maintained library whose wheel ships `plotly.min.js`) and is
served by the portal itself at a URL that names the package version: no CDN, no npm step, nothing copied into the
repository. A page embeds a figure as `<script type="application/json">` and `static/charts.js` draws it, so the
pages need no inline script. Amounts stay integers (Wh, kopecks) until they are turned into kWh and rubles here,
for display only."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gzip
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from portal.i18n import current_language, gettext_ as _
from portal.web import MOSCOW

_PLOTLY = importlib.metadata.distribution("plotly")
PLOTLY_JS_PATH = Path(_PLOTLY.locate_file("plotly/package_data/plotly.min.js"))
"""plotly.min.js inside the installed package."""
PLOTLY_JS_URL = f"/static/vendor/plotly-{_PLOTLY.version}.min.js"
"""Versioned, so browsers may keep it for a year: upgrading the package changes the URL."""
CACHE_FOREVER = "public, max-age=31536000, immutable"
DAY_S = 86400
MIN_BUCKETS = 7
"""A chart spans at least this many buckets (days or half hours)."""
BAR_COLOUR, LINE_COLOUR = "#0b6bcb", "#e8710a"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif'


@dataclass(frozen=True)
class Chart:
    """One chart of a page."""

    figure: dict
    """Plotly figure as JSON-ready data: `{"data": [traces], "layout": {...}}`."""
    summary: str
    """The figures in one sentence, for screen readers and for browsers without script."""


@dataclass(frozen=True)
class _Series:
    """One bar series: integer amounts per bucket and how to show them."""

    title: str
    """What the chart shows, as the summary sentence names it."""
    name: str
    """The legend's name of the bars."""
    unit: str
    scale: int
    """Integer units per display unit (1000 Wh per kWh, 100 kopecks per ruble)."""
    decimals: int


def consumption_chart(series: list[tuple[int, int]], temperature: dict[int, float], *,
                      half_hours: bool) -> Chart | None:
    """Wh imported per day or per half hour as bars, the mean outdoor air temperature of each bucket as a line
    on a second axis (when any is known)."""
    line = [temperature.get(bucket) for bucket, _wh in series]
    return _bar_chart(series, _Series(_("Consumption"), _("consumption, kWh"), _("kWh"), 1000, 3),
                      bucket_s=1800 if half_hours else DAY_S,
                      line=line if any(value is not None for value in line) else None)


def readings_chart(series: list[tuple[int, int]]) -> Chart | None:
    """Wh imported per day by the meters of a readings report."""
    return _bar_chart(series, _Series(_("Readings"), _("consumption, kWh"), _("kWh"), 1000, 3))


def payments_chart(series: list[tuple[int, int]]) -> Chart | None:
    """Kopecks paid per day."""
    return _bar_chart(series, _Series(_("Payments"), _("Payments"), "₽", 100, 2))


def _bar_chart(series: list[tuple[int, int]], bars: _Series, *, bucket_s: int = DAY_S,
               line: list[float | None] | None = None) -> Chart | None:
    """Bars as wide as their bucket (a day without data is a gap), over at least a few buckets' width (a single
    day is not stretched over the whole chart)."""
    if not series:
        return None
    times = [_moment(bucket, with_time=bucket_s < DAY_S) for bucket, _amount in series]
    values = [round(amount / bars.scale, bars.decimals) for _bucket, amount in series]
    bucket_ms = bucket_s * 1000
    placed = {"x": times, "xperiod": bucket_ms, "xperiodalignment": "middle"}
    traces = [{"type": "bar", "name": bars.name, **placed, "y": values, "width": bucket_ms * 0.85,
               "marker": {"color": BAR_COLOUR},
               "hovertemplate": f"%{{y:,.{bars.decimals}~f}} {bars.unit}<extra></extra>"}]
    layout = _layout(bars.unit, _shown(series, bucket_s), bucket_s)
    if line is not None:
        traces.append({"type": "scatter", "mode": "lines", "name": _("outdoor air temperature, °C"), **placed,
                       "y": line, "yaxis": "y2", "line": {"color": LINE_COLOUR, "width": 2},
                       "hovertemplate": "%{y:.1f} °C<extra></extra>"})
        layout.update(showlegend=True, yaxis2={"title": {"text": "°C"}, "overlaying": "y", "side": "right",
                                               "tickmode": "auto", "showgrid": False, "zeroline": False,
                                               "fixedrange": True})
        layout["margin"].update(t=36, r=48)
    return Chart({"data": traces, "layout": layout}, _summary(series, times, bars))


def _moment(seconds: int, *, with_time: bool) -> str:
    """A time as Moscow wall-clock time, the way Plotly's date axis reads it."""
    return dt.datetime.fromtimestamp(seconds, MOSCOW).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _shown(series: list[tuple[int, int]], bucket_s: int) -> list[str]:
    """The time span drawn: the buckets with data, widened to MIN_BUCKETS buckets if narrower."""
    first, last = min(series)[0], max(series)[0] + bucket_s
    pad = max(0, MIN_BUCKETS * bucket_s - (last - first)) // 2
    return [_moment(first - pad, with_time=True), _moment(last + pad, with_time=True)]


def _layout(unit: str, period: list[str], bucket_s: int) -> dict:
    """Day.month dates (no month names: plotly.js ships English ones only), the time of day only when zoomed in
    that far, and the language's number separators."""
    return {
        "separators": ",\u202f" if current_language.get() == "ru" else ".,",
        "font": {"family": FONT, "size": 12, "color": "#1d2733"},
        "margin": {"l": 56, "r": 12, "t": 12, "b": 40},
        "showlegend": False,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hovermode": "x unified",
        "xaxis": {"type": "date", "range": period,
                  "tickformatstops": [{"dtickrange": [None, DAY_S * 1000 - 1], "value": "%d.%m %H:%M"},
                                      {"dtickrange": [DAY_S * 1000, None], "value": "%d.%m"}],
                  "hoverformat": "%d.%m.%Y %H:%M" if bucket_s < DAY_S else "%d.%m.%Y"},
        "yaxis": {"title": {"text": unit}, "rangemode": "tozero", "fixedrange": True, "gridcolor": "#d9dee5"},
    }


def _summary(series: list[tuple[int, int]], times: list[str], bars: _Series) -> str:
    total = sum(amount for _bucket, amount in series)
    peak = max(range(len(series)), key=lambda index: series[index][1])
    return _("%(name)s from %(first)s to %(last)s: total %(total)s %(unit)s, highest %(peak)s %(unit)s on "
             "%(peak_at)s.", name=bars.title, first=times[0], last=times[-1], unit=bars.unit,
             total=_amount(total, bars), peak=_amount(series[peak][1], bars), peak_at=times[peak])


def _amount(value: int, bars: _Series) -> str:
    """An integer amount in display units, with the language's separators (exact: no float on the way)."""
    whole, part = divmod(abs(value), bars.scale)
    fraction = f"{part:0{len(str(bars.scale)) - 1}d}"[:bars.decimals]
    ru = current_language.get() == "ru"
    text = f"{whole:,}".replace(",", "\u202f" if ru else ",") + ("," if ru else ".") + fraction
    return ("−" if value < 0 else "") + text


# --- plotly.js, served from the installed package ------------------------------------------------------
@functools.cache
def _plotly_js(encoding: str) -> bytes:
    """The library as sent: read once per process, gzip-compressed once (4.8 MB -> 1.5 MB)."""
    body = PLOTLY_JS_PATH.read_bytes()
    return gzip.compress(body, compresslevel=6, mtime=0) if encoding == "gzip" else body


async def plotly_js(request: web.Request) -> web.Response:
    """plotly.min.js with year-long caching; gzip when the browser takes it, 304 when it already has it."""
    encoding = "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "identity"
    etag = f'"plotly-{_PLOTLY.version}-{encoding}"'
    headers = {"Cache-Control": CACHE_FOREVER, "ETag": etag, "Vary": "Accept-Encoding"}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    if encoding == "gzip":
        headers["Content-Encoding"] = "gzip"
    body = await asyncio.to_thread(_plotly_js, encoding)  # the first call reads and compresses: off the loop
    return web.Response(body=body, content_type="text/javascript", charset="utf-8", headers=headers)

"""Charts: the Plotly figures built from integer series, and plotly.js served by the portal from the installed package."""

import gzip
import json
import re
import urllib.request

import pytest

from portal import plots
from portal.i18n import current_language
from portal_fixtures import portal_server  # noqa: F401  (fixture)
from test_portal_http import Client

DAY = 86400
START = 1767214800  # 2026-01-01 00:00 Moscow time


@pytest.fixture
def english():
    token = current_language.set("en")
    yield
    current_language.reset(token)


def test_consumption_bars_are_exact_kwh_with_the_temperature_on_a_second_axis():
    series = [(START, 1234), (START + DAY, 1_000_001), (START + 3 * DAY, 0)]
    chart = plots.consumption_chart(series, {START: -3.5, START + 3 * DAY: 1.0}, half_hours=False)
    bars, line = chart.figure["data"]
    assert bars["x"] == ["2026-01-01", "2026-01-02", "2026-01-04"] and bars["y"] == [1.234, 1000.001, 0.0]
    assert bars["xperiod"] == DAY * 1000 and bars["width"] < DAY * 1000  # a gap between the days
    assert line["yaxis"] == "y2" and line["y"] == [-3.5, None, 1.0]  # an unknown temperature is a gap
    layout = chart.figure["layout"]
    assert layout["yaxis"]["title"]["text"] == "кВт·ч" and layout["yaxis2"]["title"]["text"] == "°C"
    assert layout["xaxis"]["range"] == ["2025-12-30 12:00", "2026-01-06 12:00"]  # four days widened to seven
    assert layout["separators"] == ",\u202f"
    assert chart.summary == ("Потребление с 2026-01-01 по 2026-01-04: всего 1\u202f001,235 кВт·ч, наибольшее "
                             "значение 1\u202f000,001 кВт·ч — 2026-01-02.")


def test_half_hours_are_moscow_wall_clock_and_no_temperature_means_no_line(english):
    chart = plots.consumption_chart([(START + 1800, 250)], {}, half_hours=True)
    (bars,) = chart.figure["data"]
    assert bars["x"] == ["2026-01-01 00:30"] and bars["xperiod"] == 1800 * 1000
    assert chart.figure["layout"]["yaxis"]["title"]["text"] == "kWh" and chart.figure["layout"]["separators"] == ".,"
    assert "total 0.250 kWh" in chart.summary


def test_payments_are_rubles_and_an_empty_period_draws_no_chart():
    chart = plots.payments_chart([(START, 234_984), (START + DAY, 5)])
    assert chart.figure["data"][0]["y"] == [2349.84, 0.05]
    assert "всего 2\u202f349,89 ₽" in chart.summary
    assert plots.readings_chart([]) is None


def _get(url: str, headers: dict) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_plotly_js_is_served_from_the_installed_package_with_long_caching(portal_server):
    url = portal_server.url + plots.PLOTLY_JS_URL
    status, headers, body = _get(url, {"Accept-Encoding": "gzip"})  # no login: it is a static file
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert headers["Content-Encoding"] == "gzip" and "immutable" in headers["Cache-Control"]
    assert "max-age=31536000" in headers["Cache-Control"]
    assert gzip.decompress(body) == plots.PLOTLY_JS_PATH.read_bytes()
    assert len(body) < 2_000_000  # 4.8 MB of script travels as about 1.5 MB
    status, plain_headers, plain = _get(url, {})
    assert status == 200 and plain == plots.PLOTLY_JS_PATH.read_bytes() and "Content-Encoding" not in plain_headers
    status, _, body = _get(url, {"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    assert _get(portal_server.url + "/static/vendor/plotly-0.0.0.min.js", {})[0] == 404


def test_chart_pages_embed_their_figures_and_load_scripts_only_from_the_portal(portal_server):
    uncharted = {"/c/accounts", "/r/payments"}  # no chart there; nothing is paid yet in this module's market
    pages = {"ivanov": ["/c/consumption?account=1001&from=2026-01-01", "/c/accounts"],
             "retailer": ["/r/readings?from=2026-01-01", "/r/payments", "/r/consumption"],
             "grid": ["/g/readings?from=2026-01-01", "/g/consumption?from=2026-01-01"]}
    for username, paths in pages.items():
        client = Client(portal_server.url)
        client.login(username)
        for path in paths:
            status, page = client.get(path)
            assert status == 200, path
            sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page)
            links = re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", page)
            assert all(src.startswith("/") and not src.startswith("//") for src in sources + links), (path, sources)
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), path  # no inline event handlers
            if path in uncharted:
                assert "data-figure" not in page and sources == []  # no chart, no 1.5 MB of script
                continue
            assert sources == [plots.PLOTLY_JS_URL, "/static/charts.js"], path
            figure = json.loads(re.search(r'<script type="application/json" id="[\w-]+-figure">(.*?)</script>',
                                          page, re.S).group(1))
            assert figure["data"][0]["type"] == "bar" and figure["data"][0]["x"], path
            assert re.search(r"<noscript><p class=\"muted\">[^<]+ \d[^<]*</p></noscript>", page), path

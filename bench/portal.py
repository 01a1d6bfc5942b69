"""Portal page latency with 1,000,000 readings in the read model: the account list and the readings report.

    .venv/bin/python bench/portal.py [--meters 1000] [--intervals 1000] [--requests 100]

The read model is filled with SQL in the indexer's own schema (`indexer/schema.sql`: accounts, meters, readings
and their daily sums), as the indexer would leave it; indexing that many readings through the chain is measured by
the indexer's own bench. The portal runs against a real node (fresh genesis) on a real port; a grid-company user
pages through the accounts and the readings report (list with hashes and the daily chart). Goal: p95 <= 200 ms."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from genesis.generate import new_network  # noqa: E402
from indexer.store import schema_sql  # noqa: E402
from node.service import Node, init_datadir  # noqa: E402
from portal import create_portal_app  # noqa: E402
from portal.users import UserStore, load_secret  # noqa: E402

START = 1_788_000_000 // 1800 * 1800
"""The first half-hour of the synthetic readings (2026-08-29)."""


def fill_read_model(path: Path, meters: int, intervals: int) -> None:
    db = sqlite3.connect(path)
    db.executescript(schema_sql())
    retailers = ["0x" + "5e" * 20, "0x" + "5f" * 20]
    db.executemany("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   [(n, retailers[n % 2], n % 10, 1, 0, f"0x{n:040x}", f"Казань, ул. {n % 50}, кв. {n}", 1, 5000, 0, 1)
                    for n in range(1, meters + 1)])
    db.executemany("INSERT INTO meters VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [(n, n, n, "Меркурий 230", f"SN{n}", f"Казань, ул. {n % 50}, кв. {n}", 1, 1, 1, 0, 1, 0, 20000,
                     10800, None, 1) for n in range(1, meters + 1)])
    tx_hash = "0x" + secrets.token_hex(32)
    db.executemany("INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?)",
                   ((m, START + i * 1800, 1_000_000 + 100 * (i + 1), 0, 100, 0, 0, tx_hash, 1)
                    for m in range(1, meters + 1) for i in range(intervals)))
    db.execute("INSERT INTO readings_daily SELECT meter_id, "
               "CAST(strftime('%Y%m%d', interval_start + 10800, 'unixepoch') AS INTEGER), sum(delta_import_wh), "
               "sum(delta_export_wh), count(*) FROM readings GROUP BY 1, 2")
    db.commit()
    db.close()


async def measure(url: str, paths: list[str], requests: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {path: [] for path in paths}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # cookies for 127.0.0.1
        login_page = await (await session.get(url + "/login")).text()
        token = login_page.split('name="csrf_token" value="')[1].split('"')[0]
        await session.post(url + "/login", data={"username": "grid", "password": "bench-password",
                                                 "csrf_token": token})
        for index in range(requests):
            for path in paths:
                started = time.perf_counter()
                response = await session.get(url + path.format(page=index % 20 + 1))
                await response.read()
                if response.status != 200 or response.url.path == "/login":
                    raise RuntimeError(f"{path}: HTTP {response.status} at {response.url}")
                timings[path].append((time.perf_counter() - started) * 1000)
    return timings


async def main(meters: int, intervals: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        fill_read_model(base / "index.sqlite", meters, intervals)
        print(f"read model: {meters * intervals:,} readings written in {time.perf_counter() - started:.1f} s")
        _, keys = new_network(1, base / "net")
        init_datadir(base / "node", base / "net" / "genesis.json")
        node = Node.open(base / "node")
        users = UserStore(base / "users.sqlite", load_secret(base / "portal.secret"))
        users.add("grid", "bench-password", "grid", secrets.token_bytes(32))
        users.close()
        app = create_portal_app(node, base / "index.sqlite", base / "users.sqlite",
                                secret_path=base / "portal.secret")
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        days = (intervals * 1800) // 86400 + 1
        first = time.strftime("%Y-%m-%d", time.gmtime(START))
        last = time.strftime("%Y-%m-%d", time.gmtime(START + min(days, 31) * 86400))
        paths = ["/g/accounts?page={page}", "/g/accounts?section=3&address=%D1%83%D0%BB.%207&page=1",
                 f"/g/readings?from={first}&to={last}&page={{page}}",
                 f"/g/readings?from={first}&to={last}&serial=SN17&page=1"]
        try:
            timings = await measure(f"http://127.0.0.1:{port}", paths, requests)
        finally:
            await runner.cleanup()
            node.close()
        for path, values in timings.items():
            values.sort()
            p95 = values[max(0, int(len(values) * 0.95) - 1)]
            print(f"{path:70} p50 {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms  "
                  f"{'ok' if p95 <= 200 else 'OVER 200 ms'}")
        worst = max(sorted(v)[max(0, int(len(v) * 0.95) - 1)] for v in timings.values())
        print(f"portal: {worst:.0f} ms worst page p95 with {meters * intervals:,} readings")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--intervals", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    options = parser.parse_args()
    asyncio.run(main(options.meters, options.intervals, options.requests))

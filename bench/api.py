"""Read-model benchmark: the indexer's catch-up rate on a real chain, then REST report latency over 1,000,000
indexed readings.

Part 1 builds a chain in this process (solo validator): METERS meters, each posting INTERVALS half-hourly
readings in transactions of 500, and times `Indexer.catch_up` (blocks/s, readings/s).
Part 2 grows the read model to TOTAL readings through the indexer's own event handlers (`apply_event` with
ReadingRecorded events, no chain: building a million-reading chain would take longer than the question needs)
and times REST requests through the node's real HTTP application: p50/p95 per query.

    .venv/bin/python bench/api.py [--meters 40] [--intervals 1500] [--total 1000000] [--requests 200]"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts_py import participants, readings, registry  # noqa: E402
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start  # noqa: E402
from genesis.generate import new_network  # noqa: E402
from indexer.apply import LogContext, MeterCache, apply_event  # noqa: E402
from indexer.decode import DecodedEvent, encode_call  # noqa: E402
from indexer.follower import Indexer  # noqa: E402
from node.crypto import private_key_to_address  # noqa: E402
from node.keystore import load_keystore  # noqa: E402
from node.service import Node, init_datadir  # noqa: E402
from node.solo import SoloEngine  # noqa: E402
from node.transactions import sign_fee_market_transaction  # noqa: E402
from rpc.jsonrpc import Dispatcher  # noqa: E402
from rpc.node_app import create_node_app  # noqa: E402

GATEWAY_KEY = bytes.fromhex("6a" * 32)
START = period_start(202601, MOSCOW_UTC_OFFSET)
PER_TX = 500


class Chain:
    def __init__(self, directory: Path) -> None:
        _, keys = new_network(1, directory / "net", block_period_ms=200, empty_block_period_s=3600)
        password = (directory / "net" / "password").read_bytes().strip()
        self.keys = {k.name: load_keystore(k.keystore, password) for k in keys}
        self.datadir = directory / "node"
        init_datadir(self.datadir, directory / "net" / "genesis.json")
        self.node = Node.open(self.datadir)
        self.engine = SoloEngine(self.node, self.keys["validator-1"])
        self.nonces: dict[bytes, int] = {}

    def send(self, key: bytes, to: bytes, function: str, *args) -> None:
        sender = private_key_to_address(key)
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        self.node.submit_transaction(sign_fee_market_transaction(
            key, chain_id=7700, nonce=nonce, to=to, data=encode_call(to, function, *args), gas=900_000_000))

    def seal(self) -> None:
        while len(self.node.mempool):
            self.engine.produce_block()


def build_chain(chain: Chain, meters: int, intervals: int) -> None:
    grid, retailer = chain.keys["grid-company"], chain.keys["retailer-1"]
    gateway = private_key_to_address(GATEWAY_KEY)
    chain.send(grid, participants.ADDRESS, "grantRole", gateway, "gateway")
    for m in range(1, meters + 1):
        chain.send(retailer, registry.ADDRESS, "saveAccount", m, m % 5, 0, bytes(19) + b"\x01", f"Kazan, street {m}",
                   1, 0, 0)
        chain.send(grid, registry.ADDRESS, "saveMeteringPoint", m, m, f"Kazan, street {m}", "apartment")
    chain.seal()
    for m in range(1, meters + 1):
        chain.send(grid, registry.ADDRESS, "registerInstalledMeter", m, m, "Mercury 230", f"SN{m}",
                   f"Kazan, street {m}", 1, True, False, 20_000, MOSCOW_UTC_OFFSET, 0, 0, START - 1800)
        chain.send(grid, registry.ADDRESS, "bindGateway", m, gateway)
    chain.seal()
    for first in range(0, intervals, PER_TX):
        count = min(PER_TX, intervals - first)
        for m in range(1, meters + 1):
            starts = [START + 1800 * (first + i) for i in range(count)]
            chain.send(GATEWAY_KEY, readings.ADDRESS, "postReadings", m, starts,
                       [100 * (first + i + 1) for i in range(count)], [0] * count)
        chain.seal()


def grow_read_model(indexer: Indexer, total: int, meters_per_batch: int = 1000) -> float:
    """Synthetic meters 100000+ with ReadingRecorded events through the indexer's handlers, until `total`."""
    db = indexer.db
    (have,) = db.execute("SELECT count(*) FROM readings").fetchone()
    per_meter = 1000
    started = time.monotonic()
    meter = 100_000
    cache = MeterCache()
    db.execute("BEGIN")
    while have < total:
        meter += 1
        account = 100_000 + meter % meters_per_batch
        db.execute("INSERT OR IGNORE INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (account, "0x" + "11" * 20, account % 5, 0, 0, "0x" + "22" * 20, f"Kazan, block {account}", 1, 0,
                    0, 1))
        db.execute("INSERT INTO meters VALUES (?,?,?,?,?,?,1,1,1,0,1,0,20000,?,NULL,1)",
                   (meter, meter, account, "Mercury 230", f"SYN{meter}", f"Kazan, block {account}", MOSCOW_UTC_OFFSET))
        for i in range(min(per_meter, total - have)):
            apply_event(db, LogContext(1, START, "0x" + "00" * 32, i, lambda *a: None, cache), DecodedEvent(
                "Readings", "ReadingRecorded", {"meter_id": meter, "interval_start": START + 1800 * i,
                                                "import_wh": 100 * (i + 1), "export_wh": 0, "delta_import_wh": 100,
                                                "delta_export_wh": 0, "manual": False}))
            have += 1
    db.execute("COMMIT")
    return time.monotonic() - started


async def measure(app: web.Application, queries: dict[str, str], requests: int) -> dict[str, dict]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    results = {}
    async with aiohttp.ClientSession() as session:
        for name, path in queries.items():
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    body = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            results[name] = {"p50_ms": round(statistics.median(timings), 1),
                             "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1), "bytes": len(body)}
    await runner.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=40)
    parser.add_argument("--intervals", type=int, default=1500)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        chain = Chain(Path(tmp))
        started = time.monotonic()
        build_chain(chain, args.meters, args.intervals)
        print(f"chain: {chain.node.head.number} blocks, {args.meters * args.intervals} readings built in "
              f"{time.monotonic() - started:.1f} s")
        indexer = Indexer.for_datadir(chain.node, chain.datadir)
        progress = indexer.catch_up()
        print(f"indexer catch-up: {progress.blocks} blocks, {progress.readings} readings in {progress.seconds:.2f} s "
              f"= {progress.blocks / progress.seconds:.2f} blocks/s, {progress.readings / progress.seconds:.0f} "
              "readings/s")
        grown = grow_read_model(indexer, args.total)
        (count,) = indexer.db.execute("SELECT count(*) FROM readings").fetchone()
        print(f"read model grown to {count} readings in {grown:.1f} s "
              f"({(count - progress.readings) / grown:.0f} readings/s through the event handlers)")
        indexer.close()
        (chain.datadir / "api.json").write_text(json.dumps({"indexer": False}))
        app, _ = create_node_app(chain.node, Dispatcher(), chain.datadir)
        queries = {
            "report, all meters by day, one month": "/api/v1/reports/readings?from=2026-01-01&to=2026-01-31",
            "report, one retailer by month": "/api/v1/reports/readings?grouping=month&retailer=0x" + "11" * 20,
            "readings, one account, 30 min, a week": "/api/v1/readings?account=100007&from=2026-01-03&to=2026-01-09"
                                                     "&limit=1000",
            "readings, one serial, daily": "/api/v1/readings?serial=SYN100500&grouping=day",
            "readings, all meters, one day, page 1": "/api/v1/readings?from=2026-01-10&to=2026-01-10&limit=100",
        }
        for name, figures in asyncio.run(measure(app, queries, args.requests)).items():
            print(f"{name:42} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms")
        chain.node.close()


if __name__ == "__main__":
    main()

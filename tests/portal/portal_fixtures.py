"""Fixtures of the portal tests (imported by them): a real node (LevelDB, solo block production), its indexer and
the portal on a real port, in one background asyncio thread, with the demo market written into it; one per module.

Module scope on purpose: Playwright's sync API keeps an event loop running in the main thread while the browser
is open, so it must close before other modules call asyncio.run()."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from genesis.generate import new_network
from indexer.follower import Indexer
from node.keystore import load_keystore
from node.service import Node, init_datadir
from node.solo import SoloEngine
from portal import create_portal_app
from portal import weather
from portal.demo import DemoKeys, LocalSender, add_demo_users, demo_weather, seed_market
from portal.security import LoginLimiter
from portal.users import UserStore, load_secret

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PortalServer:
    url: str
    node: Node
    indexer: Indexer
    market: dict
    keys: DemoKeys
    limiter: LoginLimiter
    secret_path: Path


def _keys(directory: Path) -> DemoKeys:
    password = (directory / "password").read_bytes().strip()

    def key(name: str) -> bytes:
        return load_keystore(directory / "keys" / f"{name}.json", password)
    return DemoKeys(key("grid-company"), key("retailer-1"), key("retailer-2"), key("bank"), key("faucet"))


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("portal")
    new_network(1, base / "net", block_period_ms=100, empty_block_period_s=3600)
    init_datadir(base / "node", base / "net" / "genesis.json")
    node = Node.open(base / "node")
    password = (base / "net" / "password").read_bytes().strip()
    engine = SoloEngine(node, load_keystore(base / "net" / "keys" / "validator-1.json", password))
    keys = _keys(base / "net")
    market = seed_market(LocalSender(node, engine), keys)
    indexer = Indexer(node, base / "index.sqlite")
    indexer.catch_up()
    users = UserStore(base / "users.sqlite", load_secret(base / "portal.secret"))
    add_demo_users(users, keys)
    weather.save(users.db, weather.parse_csv(demo_weather(market["period"])))
    users.close()

    loop = asyncio.new_event_loop()
    port = free_port()
    ready = threading.Event()
    stop: asyncio.Event | None = None
    limiter = LoginLimiter(max_failures=5, window_s=300)

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        wake = asyncio.Event()
        node.add_block_listener(lambda block, receipts: loop.call_soon_threadsafe(wake.set))
        app = create_portal_app(node, base / "index.sqlite", base / "users.sqlite",
                                secret_path=base / "portal.secret", notify_transaction=engine.notify_transaction,
                                limiter=limiter)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        tasks = [asyncio.create_task(engine.run()), asyncio.create_task(indexer.follow(wake))]
        ready.set()
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        finally:
            ready.set()  # a start-up failure must not leave the fixture waiting

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20) and thread.is_alive(), "portal did not start"
    yield PortalServer(f"http://127.0.0.1:{port}", node, indexer, market, keys, limiter,
                       base / "portal.secret")
    loop.call_soon_threadsafe(stop.set)
    thread.join(20)
    indexer.close()
    node.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/_browser.sh installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()

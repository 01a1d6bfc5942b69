"""Running a node: its block production engine and its HTTP endpoints on one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from node.crypto import private_key_to_address
from node.service import Node
from node.solo import SoloEngine
from rpc.app import create_app
from rpc.eth import EthApi
from rpc.jsonrpc import Dispatcher

log = logging.getLogger("energy.run")


@dataclass(frozen=True)
class RunConfig:
    datadir: Path
    rpc_host: str = "127.0.0.1"
    rpc_port: int = 8545
    private_key: bytes | None = None


def parse_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bad port in {value!r}")
    return host, int(port)


async def run_node(config: RunConfig, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM (or `stop` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    node = Node.open(config.datadir)
    engine = None
    if config.private_key is not None:
        address = private_key_to_address(config.private_key)
        validators = node.validator_snapshot().validators
        if validators == (address,):
            engine = SoloEngine(node, config.private_key)
        elif address in validators:
            raise SystemExit("this genesis has several validators: run them with `energy-node devnet` (QBFT)")
    dispatcher = Dispatcher()
    EthApi(node, engine.notify_transaction if engine else (lambda: None)).register(dispatcher)
    runner = web.AppRunner(create_app(dispatcher), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.rpc_host, config.rpc_port)
    await site.start()
    log.info("JSON-RPC listening on http://%s:%d (head %d)", config.rpc_host, config.rpc_port, node.head.number)
    tasks = [asyncio.create_task(engine.run())] if engine else []
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        node.close()
        log.info("stopped")

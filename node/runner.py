"""Running a node: its block production engine and its HTTP endpoints on one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from node.chain import ChainStore
from node.crypto import private_key_to_address
from node.service import Node
from node.solo import DevClock, SoloEngine
from portal.serve import start_portal
from rpc.node_app import create_node_app
from rpc.eth import EthApi
from rpc.jsonrpc import Dispatcher
from rpc.admin import AdminApi
from rpc.qbft import QbftApi
from rpc.dev import DevTimeApi, refuse_dev_time

log = logging.getLogger("energy.run")

DEV_TIME_REFUSED = ("--dev-time is for a single-validator dev network: run its one validator with --key and "
                    "without --p2p")


@dataclass(frozen=True)
class RunConfig:
    datadir: Path
    rpc_host: str = "127.0.0.1"
    rpc_port: int = 8545
    private_key: bytes | None = None
    p2p_listen: str | None = None
    """`/ip4/<host>/tcp/<port>` to run QBFT over libp2p (validators of a multi-validator network, observers)."""
    bootnodes: tuple[str, ...] = ()
    """Multiaddrs of the other validators and observers; this node's own entry is skipped."""
    round_timeout_ms: int = 4_000
    dev_time: bool = False
    """Dev-only time control (`evm_increaseTime`...) for a single-validator dev network; refused otherwise."""


def parse_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bad port in {value!r}")
    return host, int(port)


async def run_node(config: RunConfig, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM (or `stop` is set), then shut down cleanly."""
    if config.dev_time and (config.p2p_listen is not None or config.private_key is None):
        raise SystemExit(DEV_TIME_REFUSED)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bft = None
    if config.p2p_listen is not None:
        if config.private_key is None:
            raise SystemExit("a networked node needs --key: its key is its network identity")
        from node.bft.service import BftService, BftSettings  # the p2p stack: imported only by networked nodes
        from node.bft.tx_gossip import AnnouncingMempool

        node = Node(ChainStore(Path(config.datadir) / "chain"), mempool=AnnouncingMempool())
        bft = BftService(node, config.private_key,
                         BftSettings(config.p2p_listen, config.bootnodes, config.round_timeout_ms,
                                     datadir=Path(config.datadir)))
    else:
        node = Node.open(config.datadir)
    engine = None
    if config.private_key is not None and bft is None:
        address = private_key_to_address(config.private_key)
        validators = node.validator_snapshot().validators
        if validators == (address,):
            engine = SoloEngine(node, config.private_key, DevClock() if config.dev_time else None)
        elif address in validators:
            raise SystemExit("this genesis has several validators: run each with --p2p and --bootnodes (QBFT)")
    if config.dev_time and engine is None:
        node.close()
        raise SystemExit(DEV_TIME_REFUSED)
    dispatcher = Dispatcher()
    notify = bft.notify_transaction if bft else engine.notify_transaction if engine else (lambda: None)
    eth_api = EthApi(node, notify, bft.sync.progress if bft else lambda: None)
    eth_api.register(dispatcher)
    if bft is not None:  # admission takes the node's lock, which a block's execution holds for up to a second
        dispatcher.register("eth_sendRawTransaction", eth_api.eth_sendRawTransaction, blocking=True)
    QbftApi(node, bft.votes if bft else None).register(dispatcher)
    AdminApi(node).register(dispatcher)
    if bft is not None:
        from rpc.perm import PermApi

        PermApi(bft.allowlist).register(dispatcher)
    if engine is not None and engine.clock is not None:
        DevTimeApi(engine).register(dispatcher)
    else:
        refuse_dev_time(dispatcher, "a networked node follows the wall clock" if bft else
                        "start a single-validator dev node with `energy-node run --dev-time`")
    signer = private_key_to_address(config.private_key) if config.private_key else None
    app, ssl_context = create_node_app(node, dispatcher, config.datadir, notify, signer=signer,
                                       peer_count=(lambda: bft.peer_count) if bft else (lambda: 0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.rpc_host, config.rpc_port, ssl_context=ssl_context)
    await site.start()
    log.info("JSON-RPC listening on http://%s:%d (head %d)", config.rpc_host, config.rpc_port, node.head.number)
    portal = await start_portal(node, config.datadir, notify)
    tasks = [asyncio.create_task(engine.run())] if engine else []
    if bft is not None:
        await bft.start()
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if bft is not None:
            await bft.close()
        if portal is not None:
            await portal.cleanup()
        await runner.cleanup()
        node.close()
        log.info("stopped")

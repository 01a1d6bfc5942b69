"""A networked node: libp2p, QBFT, sync and transaction gossip wired around one `Node`.

Validators and observers run the same service. Validators decide blocks; observers (and validators that were
down) follow by sync and check every seal. A node voted into the validator set starts deciding at the next block,
one voted out stops: the engine takes each height's set from the chain, and the allowlist follows it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from consensus.events import QbftConfig
from node.bft.block_source import NodeBlockSource
from node.bft.driver import QbftDriver
from node.bft.sync import SyncClient, SyncServer, encode_head
from node.bft.tx_gossip import TxGossip
from node.bft.votes import PendingVotes
from node.blocks import Block, Receipt
from node.crypto import private_key_to_address
from node.p2p import NetworkError, P2PNetwork, ValidatorLinks, peer_id_from_private_key
from node.p2p.identity import parse_peer_address
from node.p2p.permissions import ManagedAllowlist
from node.service import Node

log = logging.getLogger("energy.bft")
PEER_COUNT_INTERVAL_S = 2.0

VALIDATOR_SYNC_INTERVAL_S = 2.0
"""Validators get blocks from consensus; sync only fills gaps (after a restart, or when messages show a gap)."""
OBSERVER_SYNC_INTERVAL_S = 0.5


@dataclass(frozen=True)
class BftSettings:
    listen_multiaddr: str
    """`/ip4/<host>/tcp/<port>`."""
    bootnodes: tuple[str, ...] = ()
    """Multiaddrs `/ip4/../tcp/../p2p/<peer id>` of every other validator (and observer) to keep connected."""
    round_timeout_ms: int = 4_000
    """Round 0's timeout (doubling each round): block period, building, re-execution by every validator and three
    message rounds must fit in it."""
    datadir: Path | None = None
    """Where the operator's allowlist changes are kept (`allowlist.json`); None keeps them in memory only."""


class BftService:
    def __init__(self, node: Node, private_key: bytes, settings: BftSettings) -> None:
        self.node = node
        self.address = private_key_to_address(private_key)
        self.votes = PendingVotes()
        own = f"/p2p/{peer_id_from_private_key(private_key)}"
        bootnodes = [b for b in settings.bootnodes if not b.endswith(own)]  # one list serves every node
        self._bootnode_addresses = {parse_peer_address(b).address for b in bootnodes}
        self._validators = node.validator_snapshot().validators
        self.network = P2PNetwork(private_key, settings.listen_multiaddr, bootnodes, [])
        self.allowlist = ManagedAllowlist(settings.datadir, self._base_allowlist, self._protected,
                                          self.network.allow, self.network.disallow, self.network.add_peer)
        """The allowlist with the operator's changes (perm_* methods), applied to the network at once."""
        for address in self.allowlist.applied:
            self.network.allow(address)
        for multiaddr in self.allowlist.dial_targets():
            self.network.add_peer(multiaddr)
        self.links = ValidatorLinks(self.network, lambda: self._validators)
        config = QbftConfig(round_timeout_ms=settings.round_timeout_ms, block_period_ms=node.genesis.block_period_ms)
        self.source = NodeBlockSource(node, self.address, self.votes)
        self.sync = SyncClient(node, self.network, self._on_synced, self._sync_interval(), self._follow_gap(),
                               lambda address: address in self.allowlist.applied)
        self.driver = QbftDriver(node, private_key, self.source, self.links.broadcast, config, self.sync.behind)
        self.gossip = TxGossip(node, self.network, self.driver.notify_transaction)
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.peer_count = 0
        """Connected allowed peers, refreshed every few seconds (for net_peerCount and /metrics)."""
        node.add_block_listener(self._on_block)

    def _base_allowlist(self) -> set[bytes]:
        genesis = self.node.genesis
        return set(genesis.validators) | set(genesis.observers) | set(self._validators) | self._bootnode_addresses

    def _protected(self) -> set[bytes]:
        """Never removed from the allowlist: consensus needs the current validators."""
        return set(self._validators) | {self.address}

    def _sync_interval(self) -> float:
        return VALIDATOR_SYNC_INTERVAL_S if self.address in self._validators else OBSERVER_SYNC_INTERVAL_S

    def _follow_gap(self) -> int:
        """Validators get the next block from consensus; an announcement sends them to sync only past it."""
        return 1 if self.address in self._validators else 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        SyncServer(self.node).register(self.network)
        await self.network.start()
        log.info("p2p listening on %s as 0x%s (%s)", self.network.listen_multiaddr, self.address.hex(),
                 "validator" if self.address in self._validators else "observer")
        self._tasks = [
            asyncio.create_task(self._receive_consensus(), name="consensus-inbox"),
            asyncio.create_task(self.driver.run(), name="qbft"),
            asyncio.create_task(self.sync.run(), name="sync"),
            asyncio.create_task(self._receive_announcements(), name="announcements-in"),
            asyncio.create_task(self.gossip.publish_loop(), name="gossip-out"),
            asyncio.create_task(self.gossip.receive_loop(), name="gossip-in"),
            asyncio.create_task(self._count_peers(), name="peer-count"),
        ]
        for task in self._tasks:
            task.add_done_callback(_log_crash)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.network.close()

    async def _count_peers(self) -> None:
        while True:
            try:
                self.peer_count = len(await self.network.peers())
            except Exception as exc:  # the network thread may be restarting or closing; the count just waits
                log.debug("peer count unavailable: %s", exc)
            await asyncio.sleep(PEER_COUNT_INTERVAL_S)

    def notify_transaction(self) -> None:
        """Transactions were admitted; callable from any thread (RPC admits in worker threads)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.driver.notify_transaction)

    async def _receive_consensus(self) -> None:
        """Direct messages from current validators go to the engine; others are logged and ignored."""
        async for sender, payload in self.network.incoming():
            if sender not in self._validators:
                log.warning("consensus message from 0x%s, not a validator: ignored", sender.hex())
                continue
            self.driver.on_payload(sender, payload)

    async def _receive_announcements(self) -> None:
        async for sender, payload in self.network.notices():
            self.sync.on_announcement(sender, payload)

    def _announce(self, number: int, block_hash: bytes) -> None:
        """Tell the connected peers about a block this node committed, unless it is still catching up (then its
        peers have the block already, and a flood of stale announcements would only crowd the small outboxes)."""
        if number < self.sync.highest_reported():
            return
        try:
            self.network.post_notice(encode_head(number, block_hash))
        except NetworkError as exc:  # closing: followers still have the periodic sync
            log.debug("announcement of block %d not sent: %s", number, exc)

    def _on_synced(self) -> None:
        self.driver.on_imported()

    def _on_block(self, block: Block, receipts: tuple[Receipt, ...]) -> None:
        """After each commit (worker thread): announce it, and follow validator set changes in the allowlist and
        links."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._announce, block.number, block.hash)
        validators = self.node.validator_snapshot(block.header).validators
        if validators == self._validators:
            return
        added = set(validators) - set(self._validators)
        removed = set(self._validators) - set(validators)
        self._validators = validators
        log.info("validator set changed at block %d: +%s -%s", block.number,
                 [f"0x{a.hex()}" for a in sorted(added)], [f"0x{a.hex()}" for a in sorted(removed)])
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._update_allowlist)

    def _update_allowlist(self) -> None:
        self.allowlist.apply()
        self.sync.interval = self._sync_interval()
        self.sync.follow_gap = self._follow_gap()


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s crashed", task.get_name(), exc_info=task.exception())


def read_bootnodes(value: str) -> tuple[str, ...]:
    """Bootnode multiaddrs from a file (one a line, `#` comments) or a comma-separated list; empty for ''."""
    if not value:
        return ()
    path = Path(value)
    lines = path.read_text().splitlines() if path.is_file() else value.split(",")
    return tuple(line.strip() for line in lines if line.strip() and not line.strip().startswith("#"))

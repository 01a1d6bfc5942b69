"""Transactions submitted to any node reach every validator (and observer) in gossip batches.

The node's mempool is an `AnnouncingMempool`: it remembers what it admitted from this node's own clients (RPC),
and `TxGossip` sends those in batches every `FLUSH_INTERVAL_S` to every connected peer. Batches from peers are
admitted quietly: their sender reached every peer itself, so nothing is relayed. A peer whose outbox stays full
misses a batch; the transactions stay in this node's mempool, so they are not lost: this node includes them when
it proposes. A batch that cannot be sent at all (the network closing) waits for the next flush, up to
`MAX_UNSENT`; past that the oldest are dropped from the backlog with a log line.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager

from node.exceptions import InvalidTransaction
from node.mempool import Mempool
from node.p2p import NetworkError, P2PNetwork
from node.service import Node
from node.transactions import Transaction, decode_transaction

log = logging.getLogger("energy.gossip")

FLUSH_INTERVAL_S = 0.05
MAX_UNSENT = 50_000


class AnnouncingMempool(Mempool):
    """A mempool that keeps, for gossip, the transactions it admitted outside `quietly()`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._quiet = threading.local()
        """Per thread: admission runs in many threads at once (RPC workers, the gossip receiver)."""
        self._admitted: list[Transaction] = []
        self._lock = threading.Lock()

    def add(self, tx: Transaction, account_nonce: int) -> Transaction | None:
        replaced = super().add(tx, account_nonce)
        if not getattr(self._quiet, "on", False):
            with self._lock:
                self._admitted.append(tx)
        return replaced

    @contextmanager
    def quietly(self):
        """Admit without announcing, in this thread only."""
        self._quiet.on = True
        try:
            yield
        finally:
            self._quiet.on = False

    def take_admitted(self) -> list[Transaction]:
        with self._lock:
            taken, self._admitted = self._admitted, []
        return taken


class TxGossip:
    """Publishes this node's new transactions and admits the peers' ones."""

    def __init__(self, node: Node, network: P2PNetwork, on_transactions: Callable[[], None]) -> None:
        if not isinstance(node.mempool, AnnouncingMempool):
            raise TypeError("transaction gossip needs the node to run with an AnnouncingMempool")
        self.node = node
        self.mempool: AnnouncingMempool = node.mempool
        self.network = network
        self.on_transactions = on_transactions
        self._unsent: list[bytes] = []

    async def publish_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self._unsent += [tx.raw for tx in self.mempool.take_admitted()]
            if not self._unsent:
                continue
            if len(self._unsent) > MAX_UNSENT:
                log.warning("gossip backlog over %d: the oldest %d transactions are not gossiped", MAX_UNSENT,
                            len(self._unsent) - MAX_UNSENT)
                self._unsent = self._unsent[-MAX_UNSENT:]
            batch, self._unsent = self._unsent, []
            try:
                await self.network.publish_txs(batch)
            except NetworkError as exc:
                log.warning("gossip of %d transactions delayed: %s", len(batch), exc)
                self._unsent = batch + self._unsent

    async def receive_loop(self) -> None:
        async for origin, raws in self.network.tx_batches():
            admitted = await asyncio.to_thread(self._admit, origin, raws)
            if admitted:
                self.on_transactions()

    def _admit(self, origin: bytes, raws: list[bytes]) -> int:
        admitted = rejected = 0
        reason = ""
        for raw in raws:
            try:
                tx = decode_transaction(raw, self.node.rules.chain_id, self.node.rules.block_gas_limit)
                with self.mempool.quietly():
                    self.node.admit(tx)
                admitted += 1
            except InvalidTransaction as exc:  # already known, nonce used by a block meanwhile, or bad
                rejected += 1
                reason = str(exc)
        if rejected:
            log.debug("gossip from 0x%s: %d admitted, %d refused (last: %s)", origin.hex(), admitted, rejected, reason)
        return admitted

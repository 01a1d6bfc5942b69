"""Block production by a single validator (a network whose validator set is just this node).

It speaks the same block format as QBFT: the one validator's commit seal is a quorum of one, so observers and
replay check its blocks exactly like those of a BFT network.

Dev time control. Contracts see only the block timestamp, and some flows need time to pass: readings are posted
for past intervals only, a demand-response event lies in the future when announced and is settled from readings
posted after it. Ethereum's dev nodes (Hardhat, Anvil) let a test move the chain's clock; a single-validator dev
network started with `energy-node run --dev-time` offers the same through `DevClock`: `evm_increaseTime` shifts
the clock by an offset, `evm_setNextBlockTimestamp` fixes the next block's timestamp (later blocks continue from
it), `evm_mine` seals a block at once. Blocks stay strictly increasing in time. A QBFT validator never takes a
`DevClock`: the other validators check proposals against their own clocks."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from consensus.seals import sign_commit_seal
from node.blocks import Block, with_seals
from node.crypto import private_key_to_address
from node.service import Node

log = logging.getLogger("energy.solo")


class DevTimeError(ValueError):
    """A time control request the dev clock refuses (time never goes back)."""


class DevClock:
    """The chain's clock of a dev network: the wall clock plus an offset, or a timestamp fixed for the next block.

    Thread-safe: JSON-RPC sets it on the event loop while blocks are built in a worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset_s = 0
        self._next_timestamp: int | None = None

    @property
    def offset_s(self) -> int:
        with self._lock:
            return self._offset_s

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset_s

    def increase_time(self, seconds: int) -> int:
        """Move the clock forward by `seconds`; returns the total offset from the wall clock."""
        if seconds < 0:
            raise DevTimeError(f"time only moves forward: cannot increase it by {seconds} s")
        with self._lock:
            self._offset_s += seconds
            return self._offset_s

    def set_next_block_timestamp(self, timestamp: int, head_timestamp: int) -> None:
        """Fix the next block's timestamp; it must be later than the head's."""
        if timestamp <= head_timestamp:
            raise DevTimeError(f"the next block's timestamp {timestamp} must be after the head's {head_timestamp}")
        with self._lock:
            self._next_timestamp = timestamp

    def block_timestamp(self, parent_timestamp: int) -> int:
        """The timestamp of the block built on a parent: the fixed one, else the clock's, always after the parent."""
        with self._lock:
            wanted = self._next_timestamp if self._next_timestamp is not None else int(time.time()) + self._offset_s
        return max(parent_timestamp + 1, wanted)

    def sealed(self, timestamp: int) -> None:
        """A block with `timestamp` was sealed: a fixed timestamp is used up and the clock continues from it."""
        with self._lock:
            if self._next_timestamp is not None and timestamp >= self._next_timestamp:
                self._next_timestamp = None
                self._offset_s = timestamp - int(time.time())


class SoloEngine:
    """Seals a block every block period while transactions wait, and an empty one every empty-block period."""

    def __init__(self, node: Node, private_key: bytes, clock: DevClock | None = None) -> None:
        self.node = node
        self._key = private_key
        self.address = private_key_to_address(private_key)
        self.clock = clock
        """The dev clock, or None: the wall clock."""
        self.wakeup = asyncio.Event()
        self._producing = threading.Lock()
        validators = node.validator_snapshot().validators
        if validators != (self.address,):
            raise ValueError("solo block production needs a validator set of exactly this node's key")

    def notify_transaction(self) -> None:
        self.wakeup.set()

    def _now(self) -> float:
        return self.clock.now() if self.clock else time.time()

    async def run(self) -> None:
        period = self.node.genesis.block_period_ms / 1000
        empty_period = self.node.genesis.empty_block_period_s
        while True:
            since_last = self._now() - self.node.head.timestamp
            idle_wait = min(max(0.0, empty_period - since_last), empty_period)
            if len(self.node.mempool) == 0:
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=idle_wait)
                except TimeoutError:
                    pass
            self.wakeup.clear()
            await asyncio.sleep(period)
            await asyncio.to_thread(self.produce_block)

    def produce_block(self, *, force: bool = False) -> Block | None:
        """Seal a block of the waiting transactions; an empty one only when `force`d or the empty period is up."""
        with self._producing:
            parent = self.node.head
            timestamp = self.clock.block_timestamp(parent.timestamp) if self.clock else None
            executed = self.node.build_block(self.address, timestamp=timestamp)
            header = executed.block.header
            if not force and not executed.block.transactions and \
                    self._now() - parent.timestamp < self.node.genesis.empty_block_period_s:
                return None
            sealed = with_seals(header, 0, (sign_commit_seal(self._key, header.hash, 0),))
            block = self.node.commit(sealed)
            if self.clock:
                self.clock.sealed(block.header.timestamp)
        log.info("block %d sealed with %d transactions", block.number, len(block.transactions))
        return block

"""Block production by a single validator (a network whose validator set is just this node).

It speaks the same block format as QBFT: the one validator's commit seal is a quorum of one, so observers and
replay check its blocks exactly like those of a BFT network."""

from __future__ import annotations

import asyncio
import logging
import time

from consensus.seals import sign_commit_seal
from node.blocks import with_seals
from node.crypto import private_key_to_address
from node.service import Node

log = logging.getLogger("energy.solo")


class SoloEngine:
    """Seals a block every block period while transactions wait, and an empty one every empty-block period."""

    def __init__(self, node: Node, private_key: bytes) -> None:
        self.node = node
        self._key = private_key
        self.address = private_key_to_address(private_key)
        self.wakeup = asyncio.Event()
        validators = node.validator_snapshot().validators
        if validators != (self.address,):
            raise ValueError("solo block production needs a validator set of exactly this node's key")

    def notify_transaction(self) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        period = self.node.genesis.block_period_ms / 1000
        empty_period = self.node.genesis.empty_block_period_s
        while True:
            since_last = time.time() - self.node.head.timestamp
            idle_wait = max(0.0, empty_period - since_last)
            if len(self.node.mempool) == 0:
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=idle_wait)
                except TimeoutError:
                    pass
            self.wakeup.clear()
            await asyncio.sleep(period)
            await asyncio.to_thread(self.produce_block)

    def produce_block(self) -> None:
        executed = self.node.build_block(self.address)
        header = executed.block.header
        if not executed.block.transactions and time.time() - self.node.head.timestamp < \
                self.node.genesis.empty_block_period_s:
            return
        sealed = with_seals(header, 0, (sign_commit_seal(self._key, header.hash, 0),))
        block = self.node.commit(sealed)
        log.info("block %d sealed with %d transactions", block.number, len(block.transactions))

"""The indexer: follows final blocks into the read model, from its checkpoint to the node's head.

Each batch of blocks is written in one SQLite transaction together with the checkpoint (last block number and
hash), so a crash leaves the read model at a block boundary. BFT finality means no reorgs: a checkpoint whose hash
differs from the chain's block at that height means the file belongs to another chain (ReadModelError)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from contracts_py.participants import ROLE_BY_NAME
from indexer.apply import Appends, LogContext, MeterCache, apply_event, hexa, view_at
from indexer.decode import args_json, decode_call, decode_log
from indexer.store import (INDEX_FILE, Checkpoint, ReadModelError, open_writer, read_checkpoint,
                           write_checkpoint)
from node.blocks import Block, Receipt
from node.exceptions import MissingBlock
from node.service import Node

log = logging.getLogger("energy.indexer")

BATCH_BLOCKS = 200
"""Blocks per SQLite transaction while catching up."""
RECENT_BLOCKS = 64
"""Just-committed blocks kept in memory for indexing, so following the head reads nothing back from LevelDB."""


@dataclass(frozen=True)
class Progress:
    blocks: int
    readings: int
    seconds: float


class Indexer:
    """Writes the read model of one node; `catch_up` is safe to call from any one thread at a time."""

    def __init__(self, node: Node, path: Path) -> None:
        self.node = node
        self.path = Path(path)
        self.db = open_writer(self.path)
        self._lock = threading.Lock()
        self.checkpoint = read_checkpoint(self.db)
        self.readings_indexed = 0
        self.meters = MeterCache()
        self._recent: dict[int, tuple[Block, tuple[Receipt, ...]]] = {}
        self._recent_lock = threading.Lock()

    @classmethod
    def for_datadir(cls, node: Node, datadir: Path) -> Indexer:
        return cls(node, Path(datadir) / INDEX_FILE)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def remember(self, block: Block, receipts: tuple[Receipt, ...]) -> None:
        """A block the node just committed, with its receipts (a block listener; any thread)."""
        with self._recent_lock:
            self._recent[block.number] = (block, receipts)
            while len(self._recent) > RECENT_BLOCKS:
                del self._recent[next(iter(self._recent))]

    def _block_and_receipts(self, number: int) -> tuple[Block, tuple[Receipt, ...]]:
        with self._recent_lock:
            recent = self._recent.pop(number, None)
        if recent is not None:
            return recent
        block = self.node.store.block_by_number(number)
        return block, self.node.store.receipts(block.hash)

    def lag(self) -> int:
        return self.node.head.number - self.checkpoint.number

    def catch_up(self, max_blocks: int | None = None) -> Progress:
        """Index every block after the checkpoint up to the head (or `max_blocks` of them)."""
        started = time.monotonic()
        with self._lock:
            first, readings_before = self.checkpoint.number, self.readings_indexed
            self._check_chain()
            head = self.node.head.number
            if max_blocks is not None:
                head = min(head, self.checkpoint.number + max_blocks)
            while self.checkpoint.number < head:
                self._index_range(self.checkpoint.number + 1, min(head, self.checkpoint.number + BATCH_BLOCKS))
            return Progress(self.checkpoint.number - first, self.readings_indexed - readings_before,
                            time.monotonic() - started)

    def _index_range(self, first: int, last: int) -> None:
        """Blocks first..last and the checkpoint in one SQLite transaction."""
        self.db.execute("BEGIN")
        try:
            for number in range(first, last + 1):
                block, receipts = self._block_and_receipts(number)
                self._index_block(block, receipts)
            checkpoint = Checkpoint(last, hexa(block.hash))
            write_checkpoint(self.db, checkpoint)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self.meters = MeterCache()
            raise
        self.checkpoint = checkpoint

    def _check_chain(self) -> None:
        if self.checkpoint.number < 0:
            return
        try:
            chain_hash = hexa(self.node.store.hash_by_number(self.checkpoint.number))
        except MissingBlock:
            raise ReadModelError(f"the read model is at block {self.checkpoint.number}, beyond this chain's head; "
                                 "drop it and reindex") from None
        if chain_hash != self.checkpoint.block_hash:
            raise ReadModelError(f"the read model's block {self.checkpoint.number} is not this chain's: reindex")

    def _index_block(self, block: Block, receipts: tuple[Receipt, ...]) -> None:
        header = block.header
        db = self.db
        if header.number == 0:
            self._index_genesis()
        number, timestamp = header.number, header.timestamp
        view = view_at(lambda to, data: _call_result(self.node, header, to, data))
        appends = Appends()
        log_index = 0
        transactions = []
        for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
            call = decode_call(tx.to, tx.data)
            tx_hash = hexa(tx.hash)
            transactions.append((tx_hash, number, tx_index, hexa(tx.sender), hexa(tx.to), tx.nonce,
                                 call.contract if call else None, call.function if call else None,
                                 args_json(call.args) if call else None, int(receipt.succeeded),
                                 receipt.gas_used, receipt.revert_reason or None, timestamp))
            for entry in receipt.logs:
                event = decode_log(entry.address, entry.topics, entry.data)
                if event is not None:
                    apply_event(db, LogContext(number, timestamp, tx_hash, log_index, view, self.meters, appends),
                                event)
                    if event.name == "ReadingRecorded":
                        self.readings_indexed += 1
                log_index += 1
        appends.write(db)
        db.executemany("INSERT OR REPLACE INTO transactions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", transactions)
        db.execute("INSERT OR REPLACE INTO blocks VALUES (?,?,?,?,?,?,?,?)",
                   (number, hexa(header.hash), hexa(header.parent_hash), timestamp,
                    hexa(header.proposer), len(block.transactions), header.gas_used, log_index))

    def _index_genesis(self) -> None:
        """Genesis writes names and roles straight into storage, without events: take them from the genesis file."""
        for participant in self.node.genesis.participants:
            address = hexa(participant.address)
            self.db.execute("INSERT OR REPLACE INTO participants VALUES (?,?)", (address, participant.name))
            for role in participant.roles:
                if role in ROLE_BY_NAME:
                    self.db.execute("INSERT OR REPLACE INTO roles VALUES (?,?,0)", (address, role))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('chain_id', ?)", (str(self.node.genesis.chain_id),))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('utc_offset_s', ?)",
                        (str(self.node.genesis.utc_offset_minutes * 60),))

    async def follow(self, wake: asyncio.Event, on_indexed=None) -> None:
        """Catch up, then again every time `wake` is set (the node's block listener sets it)."""
        while True:
            try:
                await asyncio.to_thread(self.catch_up)
            except ReadModelError:
                log.exception("the indexer stopped")
                return
            except Exception:  # a bug in one handler must not kill the node; it is retried on the next block
                log.exception("indexing failed at block %d", self.checkpoint.number + 1)
            if on_indexed is not None:
                on_indexed(self.checkpoint.number)
            await wake.wait()
            wake.clear()


def _call_result(node: Node, header, to: bytes, data: bytes) -> tuple[bool, bytes]:
    result = node.call(to, data, header=header)
    return result.success, result.return_data


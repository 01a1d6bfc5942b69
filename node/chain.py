"""The chain store: blocks, receipts, indices and trie nodes in LevelDB (plyvel).

Layout (one-letter prefixes):
  b + block hash      -> rlp([header fields, [raw txs], [senders]])
  r + block hash      -> rlp([receipt, ...])
  n + number (8 B)    -> block hash
  t + tx hash         -> rlp([block number, index, index of its first log in the block, receipt])
  v + block hash      -> validator snapshot after the block (validators and standing votes)
  N + node hash       -> trie node
  H                   -> head block hash
  G                   -> genesis JSON

A block is committed with one synchronous write batch holding all of it and the head pointer: after a crash at
any instant the store holds the previous head or the new one, never a mix. Committed keys are never rewritten;
only H moves."""

from __future__ import annotations

import threading
from pathlib import Path

import plyvel
from node import rlp_fast

from node.blocks import Block, Header, Receipt
from node.crypto import keccak256
from node.exceptions import InvalidBlock, MissingBlock
from node.transactions import Transaction, decode_transaction

HEAD_KEY = b"H"
GENESIS_KEY = b"G"


class ChainStoreError(RuntimeError):
    """The store cannot be opened or is not initialised."""


class ChainStore:
    """The node's LevelDB: final blocks only (BFT finality means no forks to keep)."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        path = Path(path)
        if not create and not (path / "CURRENT").exists():
            raise ChainStoreError(f"no chain database at {path}: run `energy-node init` first")
        if create:
            path.mkdir(parents=True, exist_ok=True)
        try:
            self._db = plyvel.DB(str(path), create_if_missing=create, lru_cache_size=64 * 1024 * 1024)
        except (plyvel.IOError, plyvel.Error) as exc:
            raise ChainStoreError(f"cannot open {path}: {exc}") from exc
        self._lock = threading.Lock()
        self._chain_id: int | None = None
        self._head: Header | None = None

    def close(self) -> None:
        self._db.close()

    @property
    def closed(self) -> bool:
        return self._db.closed

    # --- reading -------------------------------------------------------------------------------------------
    def read_node(self, node_hash: bytes) -> bytes | None:
        return self._db.get(b"N" + node_hash)

    def genesis_json(self) -> bytes | None:
        return self._db.get(GENESIS_KEY)

    def set_chain_id(self, chain_id: int) -> None:
        self._chain_id = chain_id

    @property
    def head(self) -> Header:
        if self._head is None:
            head_hash = self._db.get(HEAD_KEY)
            if head_hash is None:
                raise ChainStoreError("the store holds no chain yet")
            self._head = self.header_by_hash(head_hash)
        return self._head

    def hash_by_number(self, number: int) -> bytes:
        block_hash = self._db.get(b"n" + number.to_bytes(8, "big")) if number >= 0 else None
        if block_hash is None:
            raise MissingBlock(f"no block number {number}")
        return block_hash

    def _block_fields(self, block_hash: bytes) -> list:
        data = self._db.get(b"b" + block_hash)
        if data is None:
            raise MissingBlock(f"no block 0x{block_hash.hex()}")
        try:
            return rlp_fast.decode(data)
        except rlp_fast.RlpDecodeError as exc:
            raise InvalidBlock(f"stored block 0x{block_hash.hex()} is corrupt: {exc}") from exc

    def header_by_hash(self, block_hash: bytes) -> Header:
        header_fields = self._block_fields(block_hash)[0]
        return Header.decode(rlp_fast.encode(header_fields))

    def header_by_number(self, number: int) -> Header:
        return self.header_by_hash(self.hash_by_number(number))

    def block_by_hash(self, block_hash: bytes, *, verify_signatures: bool = False) -> Block:
        """A stored block; with verify_signatures every sender is recovered again instead of read back."""
        header_fields, raw_txs, senders = self._block_fields(block_hash)
        header = Header.decode(rlp_fast.encode(header_fields))
        if self._chain_id is None:
            raise ChainStoreError("chain id not set")
        txs = tuple(
            decode_transaction(raw, self._chain_id, known_sender=None if verify_signatures else sender)
            for raw, sender in zip(raw_txs, senders)
        )
        return Block(header, txs)

    def block_outline(self, block_hash: bytes) -> tuple[Header, int, tuple[bytes, ...]]:
        """A stored block's header, encoded size and transaction hashes, without decoding its transactions (what
        `eth_getBlockByNumber` answers by default, and pollers ask for every block)."""
        header_fields, raw_txs, _senders = self._block_fields(block_hash)
        header = Header.decode(rlp_fast.encode(header_fields))
        return header, len(rlp_fast.encode([header_fields, raw_txs])), tuple(keccak256(raw) for raw in raw_txs)

    def block_by_number(self, number: int, *, verify_signatures: bool = False) -> Block:
        return self.block_by_hash(self.hash_by_number(number), verify_signatures=verify_signatures)

    def raw_block(self, block_hash: bytes) -> bytes:
        data = self._db.get(b"b" + block_hash)
        if data is None:
            raise MissingBlock(f"no block 0x{block_hash.hex()}")
        return data

    def receipts(self, block_hash: bytes) -> tuple[Receipt, ...]:
        data = self._db.get(b"r" + block_hash)
        if data is None:
            raise MissingBlock(f"no receipts for block 0x{block_hash.hex()}")
        return tuple(Receipt.decode(item) for item in rlp_fast.decode(data))

    def transaction_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        """(block number, index) of a final transaction."""
        found = self.transaction_receipt(tx_hash)
        return None if found is None else (found[0], found[1])

    def transaction_receipt(self, tx_hash: bytes) -> tuple[int, int, int, Receipt] | None:
        """(block number, index, first log index, receipt) of a final transaction, without reading the block's
        other receipts (a block of history postings holds tens of thousands of logs)."""
        data = self._db.get(b"t" + tx_hash)
        if data is None:
            return None
        number, index, first_log, receipt = rlp_fast.decode(data)
        return (int.from_bytes(number, "big"), int.from_bytes(index, "big"), int.from_bytes(first_log, "big"),
                Receipt.decode(receipt))

    # --- writing -------------------------------------------------------------------------------------------
    def validator_snapshot(self, block_hash: bytes) -> bytes | None:
        return self._db.get(b"v" + block_hash)

    def commit_block(self, block: Block, receipts: tuple[Receipt, ...], nodes: dict[bytes, bytes],
                     snapshot: bytes, genesis_json: bytes | None = None) -> None:
        """Write a final block, its receipts, indices and new trie nodes, and move the head: all or nothing."""
        header = block.header
        block_hash = header.hash
        with self._lock:
            if header.number > 0 and header.parent_hash != self.head.hash:
                raise InvalidBlock(f"block {header.number} does not extend the head {self.head.number}")
            with self._db.write_batch(transaction=True, sync=True) as batch:
                for node_hash, node in nodes.items():
                    batch.put(b"N" + node_hash, node)
                batch.put(b"b" + block_hash, rlp_fast.encode([
                    header.fields(), [tx.raw for tx in block.transactions], [tx.sender for tx in block.transactions],
                ]))
                batch.put(b"r" + block_hash, rlp_fast.encode([receipt.encode() for receipt in receipts]))
                first_log = 0
                for index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
                    batch.put(b"t" + tx.hash, rlp_fast.encode([rlp_fast.uint(header.number), rlp_fast.uint(index),
                                                                rlp_fast.uint(first_log), receipt.encode()]))
                    first_log += len(receipt.logs)
                batch.put(b"n" + header.number.to_bytes(8, "big"), block_hash)
                batch.put(b"v" + block_hash, snapshot)
                if genesis_json is not None:
                    batch.put(GENESIS_KEY, genesis_json)
                batch.put(HEAD_KEY, block_hash)
            self._head = header

    def backup_to(self, path: str | Path) -> int:
        """Copy a consistent snapshot of the whole store into a new LevelDB at `path`; returns the head number.

        A LevelDB snapshot sees either all of a block's write batch or none of it, so the copy holds a whole head
        while the node goes on committing."""
        path = Path(path)
        if path.exists():
            raise ChainStoreError(f"{path} already exists: a backup never overwrites")
        with self._db.snapshot() as snapshot:
            head_hash = snapshot.get(HEAD_KEY)
            target = plyvel.DB(str(path), create_if_missing=True, error_if_exists=True)
            try:
                batch = target.write_batch()
                for count, (key, value) in enumerate(snapshot.iterator(), start=1):
                    batch.put(key, value)
                    if count % 50_000 == 0:
                        batch.write()
                        batch = target.write_batch()
                batch.write()
            finally:
                target.close()
        return self.header_by_hash(head_hash).number if head_hash else -1


"""Blocks, headers and receipts: frozen dataclasses with their RLP forms, roots and bloom."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from node import rlp_fast

from consensus.seals import BftExtraData
from contracts_py.runtime import Log
from node.crypto import keccak256
from node.exceptions import InvalidBlock
from node.transactions import Transaction, decode_transaction
from node.trie_root import ordered_trie_root

EMPTY_ROOT = keccak256(rlp_fast.encode(b""))
"""Root of an empty Merkle-Patricia trie."""


@dataclass(frozen=True)
class Header:
    """A block header: what validators seal and what light clients check."""

    parent_hash: bytes
    number: int
    timestamp: int
    """Seconds since the epoch, never below the parent's."""
    proposer: bytes
    """The validator that built the block (Ethereum's `miner`)."""
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    gas_limit: int
    gas_used: int
    extra_data: bytes
    """RLP of `BftExtraData`: validators, vote, round and commit seals."""

    def fields(self) -> list:
        return [self.parent_hash, self.number, self.timestamp, self.proposer, self.state_root,
                self.transactions_root, self.receipts_root, self.logs_bloom, self.gas_limit, self.gas_used,
                self.extra_data]

    def encode(self) -> bytes:
        return rlp_fast.encode(self.fields())

    @classmethod
    def decode(cls, data: bytes) -> Header:
        try:
            f = rlp_fast.decode(data)
            if not isinstance(f, list) or len(f) != 11:
                raise InvalidBlock("header must be an RLP list of 11 fields")
            return cls(f[0], _int(f[1]), _int(f[2]), f[3], f[4], f[5], f[6], f[7], _int(f[8]), _int(f[9]), f[10])
        except (rlp_fast.RlpDecodeError, TypeError) as exc:
            raise InvalidBlock(f"malformed header: {exc}") from exc

    @property
    def bft(self) -> BftExtraData:
        return BftExtraData.decode(self.extra_data)

    @functools.cached_property
    def hash(self) -> bytes:
        """keccak256 of the header with round 0 and no seals: the same in every round, before and after sealing.

        Cached: sync, finality checks and RPC ask for it many times per header."""
        unsealed = replace(self, extra_data=self.bft.for_block_hash().encode())
        return keccak256(unsealed.encode())


def _int(field: bytes) -> int:
    if not isinstance(field, bytes):
        raise TypeError("integer field must be an RLP string")
    return int.from_bytes(field, "big")


@dataclass(frozen=True)
class Receipt:
    """The outcome of one transaction. `revert_reason` is empty on success."""

    succeeded: bool
    cumulative_gas_used: int
    gas_used: int
    logs: tuple[Log, ...]
    revert_reason: str = ""
    bloom: bytes = field(init=False, compare=False, repr=False)
    """Derived from the logs once, when the receipt is made."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "bloom", logs_bloom(self.logs))

    def encode(self) -> bytes:
        return self.encoded

    @functools.cached_property
    def encoded(self) -> bytes:
        """Ethereum's receipt fields, plus gas used and the revert reason (so both are provable). Cached: the
        receipts root, the block's receipts and the transaction index each need it."""
        return rlp_fast.encode([
            b"\x01" if self.succeeded else b"", rlp_fast.uint(self.cumulative_gas_used), self.bloom,
            [[log.address, list(log.topics), log.data] for log in self.logs],
            rlp_fast.uint(self.gas_used), self.revert_reason.encode(),
        ])

    @classmethod
    def decode(cls, data: bytes) -> Receipt:
        f = rlp_fast.decode(data)
        logs = tuple(Log(item[0], tuple(item[1]), item[2]) for item in f[3])
        return cls(_int(f[0]) == 1, _int(f[1]), _int(f[4]), logs, f[5].decode())


def logs_bloom(logs: tuple[Log, ...] | list[Log]) -> bytes:
    """Ethereum's 2048-bit log bloom: three bits per address and topic, from their keccak (yellow paper 4.3.1)."""
    bits = 0
    for log in logs:
        bits |= _bloom_bits(log.address)
        for topic in log.topics:
            bits |= _bloom_bits(topic)
    return bits.to_bytes(256, "big")


@functools.lru_cache(maxsize=65_536)
def _bloom_bits(item: bytes) -> int:
    """The three bloom bits of one address or topic; cached, since contract addresses and event signatures (and
    many participants) recur in every block."""
    digest = keccak256(item)
    return (1 << (((digest[0] << 8) | digest[1]) & 2047) | 1 << (((digest[2] << 8) | digest[3]) & 2047)
            | 1 << (((digest[4] << 8) | digest[5]) & 2047))


def merge_blooms(blooms: list[bytes]) -> bytes:
    value = 0
    for bloom in blooms:
        value |= int.from_bytes(bloom, "big")
    return value.to_bytes(256, "big")


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    transactions: tuple[Transaction, ...]

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def number(self) -> int:
        return self.header.number

    def encode(self) -> bytes:
        return rlp_fast.encode([self.header.fields(), [tx.raw for tx in self.transactions]])


def decode_block(data: bytes, chain_id: int,
                 known: Callable[[bytes], Transaction | None] = lambda tx_hash: None) -> Block:
    """Parse `Block.encode()` bytes from a peer, recovering every sender; raises InvalidBlock or InvalidTransaction.

    `known(hash)` may return a transaction this node already checked (from its mempool), which saves recovering its
    sender again; the hash is keccak256 of the raw bytes, so it is the same transaction.
    Only the form is checked here; whether the block is valid on the chain is `Node.validate_block`'s question."""
    try:
        fields = rlp_fast.decode(data)
    except rlp_fast.RlpDecodeError as exc:
        raise InvalidBlock(f"malformed block: {exc}") from exc
    if not isinstance(fields, list) or len(fields) != 2 or not isinstance(fields[0], list) \
            or not isinstance(fields[1], list):
        raise InvalidBlock("a block must be an RLP list [header, [transactions]]")
    header = Header.decode(rlp_fast.encode(fields[0]))
    if not all(isinstance(raw, bytes) for raw in fields[1]):
        raise InvalidBlock("a block's transactions must be RLP strings")
    return Block(header, tuple(known(keccak256(raw)) or decode_transaction(raw, chain_id) for raw in fields[1]))


def transactions_root(transactions: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    return ordered_trie_root([tx.raw for tx in transactions])


def receipts_root(receipts: list[Receipt] | tuple[Receipt, ...]) -> bytes:
    return ordered_trie_root([receipt.encode() for receipt in receipts])


def with_seals(header: Header, round_number: int, seals: tuple[bytes, ...]) -> Header:
    """The header with its commit round and seals filled in: its hash does not change."""
    extra = replace(header.bft, round=round_number, commit_seals=seals)
    return replace(header, extra_data=extra.encode())

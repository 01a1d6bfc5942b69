"""Finality as the gateway sees it: headers checked against a validator set it tracks itself.

The gateway starts from the genesis validators and walks every header: the header must hash to the hash the node
gave, link to its parent, and carry a quorum of commit seals of the validators of its height
(`node.finality.check_final`); each header's vote then moves the set (`snapshot_after`). A node that serves a
forged or unsealed header is skipped for the next node. A transaction of the gateway counts as final once the
transactions of its block, re-encoded from the node's JSON, give that checked header's transactions root and
include the transaction's raw bytes. The checkpoint (height, hash, validator set) lives in the queue file.
"""
from __future__ import annotations

from dataclasses import dataclass

import rlp

from consensus.validators import ValidatorSnapshot, make_snapshot
from node.blocks import Header
from node.exceptions import InvalidBlock
from node.finality import check_final, decode_snapshot, encode_snapshot, snapshot_after
from node.trie_root import ordered_trie_root
from meter_io.gateway.nodes import NodePool
from meter_io.gateway.queue import DurableQueue

@dataclass(frozen=True)
class Checkpoint:
    """The newest header the gateway checked, and the validator set of the height after it."""

    height: int
    hash: bytes
    snapshot: ValidatorSnapshot


def _hex_bytes(value, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{name} is not 0x-hex: {value!r}")
    raw = bytes.fromhex(value[2:])
    if length is not None and len(raw) != length:
        raise ValueError(f"{name} is {len(raw)} bytes, expected {length}")
    return raw


def _hex_int(value, name: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{name} is not a hex quantity: {value!r}")
    return int(value, 16)


def header_from_json(block: dict) -> Header:
    """Rebuild a header from `eth_getBlockByNumber`; ValueError unless it hashes to the `hash` given with it."""
    if not isinstance(block, dict):
        raise ValueError(f"expected a block object, got {type(block).__name__}")
    header = Header(
        parent_hash=_hex_bytes(block.get("parentHash"), "parentHash", 32),
        number=_hex_int(block.get("number"), "number"),
        timestamp=_hex_int(block.get("timestamp"), "timestamp"),
        proposer=_hex_bytes(block.get("miner"), "miner", 20),
        state_root=_hex_bytes(block.get("stateRoot"), "stateRoot", 32),
        transactions_root=_hex_bytes(block.get("transactionsRoot"), "transactionsRoot", 32),
        receipts_root=_hex_bytes(block.get("receiptsRoot"), "receiptsRoot", 32),
        logs_bloom=_hex_bytes(block.get("logsBloom"), "logsBloom", 256),
        gas_limit=_hex_int(block.get("gasLimit"), "gasLimit"),
        gas_used=_hex_int(block.get("gasUsed"), "gasUsed"),
        extra_data=_hex_bytes(block.get("extraData"), "extraData"),
    )
    try:
        computed = header.hash
    except Exception as exc:  # the extra data of a forged header may not even decode
        raise ValueError(f"header {header.number} cannot be hashed: {exc}") from None
    if computed != _hex_bytes(block.get("hash"), "hash", 32):
        raise ValueError(f"block {header.number}: fields hash to 0x{computed.hex()}, not the hash given")
    return header


def raw_transaction_from_json(tx: dict) -> bytes:
    """The signed bytes of a transaction from its JSON form (EIP-1559 or legacy), to rebuild a transactions root."""
    q = lambda key: _hex_int(tx.get(key), key)  # noqa: E731
    to = _hex_bytes(tx.get("to") or "0x", "to")
    data = _hex_bytes(tx.get("input"), "input")
    kind = q("type") if tx.get("type") is not None else 0
    if kind == 2:
        if tx.get("accessList"):
            raise ValueError("transactions with access lists are not expected on this chain")
        fields = [q("chainId"), q("nonce"), q("maxPriorityFeePerGas"), q("maxFeePerGas"), q("gas"), to, q("value"),
                  data, [], q("yParity") if tx.get("yParity") else q("v"), q("r"), q("s")]
        return b"\x02" + rlp.encode(fields)
    if kind == 0:
        return rlp.encode([q("nonce"), q("gasPrice"), q("gas"), to, q("value"), data, q("v"), q("r"), q("s")])
    raise ValueError(f"unknown transaction type {kind}")


class FinalityFollower:
    """Walks headers from its checkpoint and tells which of the gateway's transactions are final."""

    def __init__(self, queue: DurableQueue, genesis_validators: tuple[bytes, ...], max_headers: int = 2000) -> None:
        self.queue = queue
        self.max_headers = max_headers
        """Headers checked per call at most, so one cycle stays short after a long outage."""
        saved = queue.checkpoint()
        if saved is None:
            self.checkpoint = Checkpoint(-1, b"", make_snapshot(genesis_validators))
        else:
            height, block_hash, snapshot = saved
            self.checkpoint = Checkpoint(height, block_hash, decode_snapshot(snapshot))

    def advance(self, pool: NodePool) -> int:
        """Check new headers up to the head a node reports (bounded); returns the checked height."""
        head = pool.call("eth_blockNumber", check=lambda value: _hex_int(value, "block number"))
        target = min(head, self.checkpoint.height + self.max_headers)
        checked: list[tuple[int, bytes]] = []
        try:
            while self.checkpoint.height < target:
                number = self.checkpoint.height + 1
                header = pool.call("eth_getBlockByNumber", hex(number), False, check=self._checked_header)
                snapshot = snapshot_after(header, self.checkpoint.snapshot) if number else self.checkpoint.snapshot
                self.checkpoint = Checkpoint(number, header.hash, snapshot)
                checked.append((number, header.hash))
        finally:  # keep what was checked even when no node serves the next header
            if checked:
                c = self.checkpoint
                self.queue.save_checkpoint(c.height, c.hash, encode_snapshot(c.snapshot), checked)
        return self.checkpoint.height

    def _checked_header(self, block) -> Header:
        header = header_from_json(block)
        number = self.checkpoint.height + 1
        if header.number != number:
            raise ValueError(f"asked for block {number}, got {header.number}")
        if number == 0:
            if header.bft.validators != self.checkpoint.snapshot.validators:
                raise ValueError("block 0 lists validators other than the genesis file")
            return header
        if header.parent_hash != self.checkpoint.hash:
            raise ValueError(f"block {number} does not link to the checked block {number - 1}")
        try:
            check_final(header, self.checkpoint.snapshot)
            snapshot_after(header, self.checkpoint.snapshot)
        except InvalidBlock as exc:
            raise ValueError(str(exc)) from None
        return header

    def includes(self, pool: NodePool, number: int, raw: bytes) -> bool | None:
        """Whether checked block `number` holds `raw` (its transactions must rebuild the header's root).

        None when the block is not checked yet (or its hash is no longer kept)."""
        checked_hash = self.queue.checked_hash(number)
        if checked_hash is None:
            return None

        def verify(block) -> bool:
            header = header_from_json(block)
            if header.hash != checked_hash:
                raise ValueError(f"block {number} differs from the checked chain")
            raws = [raw_transaction_from_json(tx) for tx in block.get("transactions", [])]
            if ordered_trie_root(raws) != header.transactions_root:
                raise ValueError(f"block {number}: transactions do not give the header's transactions root")
            return raw in raws

        return pool.call("eth_getBlockByNumber", hex(number), True, check=verify)

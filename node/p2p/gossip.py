"""Transaction batches: one RLP list of raw transactions per frame of the `TX_PROTOCOL` stream.

A thousand transactions in one frame cost the network thread far less than a thousand frames."""

from __future__ import annotations

from collections.abc import Sequence

from node import rlp_fast

from .errors import MalformedFrame, MessageTooLarge

MAX_BATCH_TXS = 2000
MAX_BATCH_BYTES = 512 * 1024
"""A frame's limit is this plus a little framing."""


def encode_tx_batch(raw_txs: Sequence[bytes]) -> bytes:
    return rlp_fast.encode(list(raw_txs))


def decode_tx_batch(data: bytes) -> list[bytes]:
    """The raw transactions of one batch; MalformedFrame for anything but a non-empty list of bytes."""
    if len(data) > MAX_BATCH_BYTES + 16:
        raise MessageTooLarge(len(data), MAX_BATCH_BYTES)
    try:
        items = rlp_fast.decode(data)
    except rlp_fast.RlpDecodeError as exc:
        raise MalformedFrame(f"transaction batch is not RLP: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise MalformedFrame("transaction batch is not a non-empty RLP list")
    if len(items) > MAX_BATCH_TXS:
        raise MalformedFrame(f"transaction batch holds {len(items)} transactions, limit {MAX_BATCH_TXS}")
    if not all(isinstance(item, bytes) and item for item in items):
        raise MalformedFrame("transaction batch holds a nested list or an empty transaction")
    return items


def split_into_batches(raw_txs: Sequence[bytes]) -> list[list[bytes]]:
    """Consecutive batches of at most MAX_BATCH_TXS transactions and about MAX_BATCH_BYTES each."""
    batches: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for tx in raw_txs:
        if len(tx) + 9 > MAX_BATCH_BYTES:
            raise MessageTooLarge(len(tx), MAX_BATCH_BYTES)
        if current and (len(current) == MAX_BATCH_TXS or size + len(tx) + 9 > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(tx)
        size += len(tx) + 9  # an upper bound on each item's RLP header, at most 9 bytes
    if current:
        batches.append(current)
    return batches

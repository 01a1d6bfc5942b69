"""Sync by request-response: headers and blocks by range, every seal checked before import.

Wire: a request is RLP [start, count]; a response is an RLP list of headers (`Header.encode()`) or blocks
(`Block.encode()`) from `start` on, as many as the node has, at most `count` and within the batch bounds.
A node asks its connected peers for the blocks after its head: on start, every `interval` seconds, and at once when
consensus messages show the network is ahead. A peer whose answer does not import (bad seal, bad root, not the
blocks asked for, malformed) is disallowed for `BAN_SECONDS`, which drops its connection, and logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import rlp

from node.blocks import decode_block
from node.exceptions import InvalidBlock, InvalidTransaction, MissingBlock
from node.p2p import NetworkError, P2PNetwork
from node.service import Node

log = logging.getLogger("energy.sync")

HEADERS_PROTOCOL = "/energy/sync/headers/1"
BLOCKS_PROTOCOL = "/energy/sync/blocks/1"
MAX_HEADERS = 1024
MAX_BLOCKS = 128
MAX_RESPONSE_BYTES = 3 * 1024 * 1024
"""Under the transport's 4 MiB frame limit; a batch stops early rather than exceed it."""
REQUEST_TIMEOUT_S = 10.0
BAN_SECONDS = 60.0


class BadSyncData(ValueError):
    """A request or response that does not follow the sync protocol."""


def encode_range(start: int, count: int) -> bytes:
    return rlp.encode([start, count])


def decode_range(data: bytes, limit: int) -> tuple[int, int]:
    """(start, count) of a request, count capped at `limit`; BadSyncData if malformed."""
    try:
        fields = rlp.decode(data)
    except rlp.exceptions.DecodingError as exc:
        raise BadSyncData(f"request is not RLP: {exc}") from exc
    if not isinstance(fields, list) or len(fields) != 2 or not all(isinstance(f, bytes) for f in fields) \
            or any(len(f) > 8 for f in fields):
        raise BadSyncData("request must be RLP [start, count] of two integers")
    start, count = (int.from_bytes(f, "big") for f in fields)
    return start, min(count, limit)


def decode_items(data: bytes) -> list[bytes]:
    """The encoded items of a response; BadSyncData if it is not an RLP list."""
    try:
        items = rlp.decode(data, strict=True)
    except rlp.exceptions.DecodingError as exc:
        raise BadSyncData(f"response is not RLP: {exc}") from exc
    if not isinstance(items, list):
        raise BadSyncData("response must be an RLP list")
    return [rlp.encode(item) for item in items]


class SyncServer:
    """Answers header and block range requests from the chain store."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def register(self, network: P2PNetwork) -> None:
        network.set_request_handler(HEADERS_PROTOCOL, self.serve_headers)
        network.set_request_handler(BLOCKS_PROTOCOL, self.serve_blocks)

    async def serve_headers(self, sender: bytes, data: bytes) -> bytes:
        start, count = decode_range(data, MAX_HEADERS)
        return await asyncio.to_thread(self._read, start, count, self._header)

    async def serve_blocks(self, sender: bytes, data: bytes) -> bytes:
        start, count = decode_range(data, MAX_BLOCKS)
        return await asyncio.to_thread(self._read, start, count, self._block)

    def _header(self, number: int) -> list:
        return self.node.store.header_by_number(number).fields()

    def _block(self, number: int) -> list:
        header_fields, raw_txs, _senders = rlp.decode(self.node.store.raw_block(self.node.store.hash_by_number(number)))
        return [header_fields, raw_txs]

    def _read(self, start: int, count: int, read: Callable[[int], list]) -> bytes:
        items: list = []
        size = 0
        head = self.node.head.number
        for number in range(start, min(start + count, head + 1)):
            try:
                item = read(number)
            except MissingBlock:
                break
            size += len(rlp.encode(item))
            if items and size > MAX_RESPONSE_BYTES:
                break
            items.append(item)
        return rlp.encode(items)


class SyncClient:
    """Fetches and imports the blocks after this node's head from connected peers."""

    def __init__(self, node: Node, network: P2PNetwork, on_imported: Callable[[], None], interval: float) -> None:
        self.node = node
        self.network = network
        self.on_imported = on_imported
        self.interval = interval
        self.wakeup = asyncio.Event()
        self.imported = 0
        self._banned: set[bytes] = set()

    def behind(self, height: int) -> None:
        """Consensus saw messages for `height`: look for the missing blocks now."""
        self.wakeup.set()

    async def run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except NetworkError as exc:
                log.debug("sync round ended: %s", exc)
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), self.interval)
            except TimeoutError:
                pass

    async def sync_once(self) -> int:
        """Import every block the connected peers have beyond our head; returns how many were imported."""
        peers = [peer.address for peer in await self.network.peers() if peer.address not in self._banned]
        random.shuffle(peers)
        total = 0
        for peer in peers:
            while True:
                count = await self._fetch_from(peer)
                total += count
                if count < MAX_BLOCKS:
                    break
        return total

    async def _fetch_from(self, peer: bytes) -> int:
        """One batch of blocks from `peer`, imported; 0 if it has none, failed or misbehaved."""
        start = self.node.head.number + 1
        try:
            data = await self.network.request(peer, BLOCKS_PROTOCOL, encode_range(start, MAX_BLOCKS),
                                              REQUEST_TIMEOUT_S)
        except NetworkError as exc:
            log.debug("blocks request to 0x%s failed: %s", peer.hex(), exc)
            return 0
        try:
            imported = await asyncio.to_thread(self._import, data, start)
        except (BadSyncData, InvalidBlock, InvalidTransaction) as exc:
            self._ban(peer, f"sent blocks that do not import: {type(exc).__name__}: {exc}")
            return 0
        if imported:
            self.imported += imported
            log.info("synced %d blocks from 0x%s, head %d", imported, peer.hex(), self.node.head.number)
            self.on_imported()
        return imported

    def _import(self, data: bytes, start: int) -> int:
        """Decode and import a batch that must start at `start` (worker thread)."""
        items = decode_items(data)
        if len(items) > MAX_BLOCKS:
            raise BadSyncData(f"{len(items)} blocks answered, {MAX_BLOCKS} at most")
        blocks = [decode_block(item, self.node.rules.chain_id) for item in items]
        imported = 0
        for expected, block in enumerate(blocks, start):
            if block.number != expected:
                raise BadSyncData(f"asked for block {expected}, got {block.number}")
            with self.node.lock:
                head = self.node.head.number
                if block.number <= head:  # consensus committed it meanwhile: it must be the same block
                    if block.hash != self.node.store.hash_by_number(block.number):
                        raise BadSyncData(f"block {block.number} conflicts with this node's final block")
                    continue
                self.node.import_final_block(block)
            imported += 1
        return imported

    def _ban(self, peer: bytes, reason: str) -> None:
        log.warning("dropping sync peer 0x%s for %.0fs: %s", peer.hex(), BAN_SECONDS, reason)
        self._banned.add(peer)
        self.network.disallow(peer)
        asyncio.get_running_loop().call_later(BAN_SECONDS, self._unban, peer)

    def _unban(self, peer: bytes) -> None:
        self._banned.discard(peer)
        self.network.allow(peer)

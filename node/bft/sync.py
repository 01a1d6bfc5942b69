"""Sync by request-response: headers and blocks by range, every seal checked before import.

Wire: a range request is RLP [start, count]; a response is an RLP list of headers (`Header.encode()`) or blocks
(`Block.encode()`) from `start` on, as many as the node has, at most `count` and within the batch bounds. A head
request is empty; its response, like a new-block announcement (a notice), is RLP [number, hash].

A node that commits a block announces it to its connected peers; a follower that hears of a block past its head
fetches it from the announcer at once. Announcements are hints only: blocks are imported from range responses,
every seal checked. The periodic round (on start, every `interval` seconds, and when consensus messages show the
network is ahead) asks each connected peer for its head and fetches from those ahead, so a lost announcement
costs one interval at most. A peer whose answer does not import (bad seal, bad root, not the blocks asked for,
malformed) or whose announcement is malformed is disallowed for `BAN_SECONDS`, which drops its connection, and
logged. The heads peers report also say how far behind the node is (`progress`, for `eth_syncing`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import rlp

from node.blocks import decode_block
from node.exceptions import InvalidBlock, InvalidTransaction, MissingBlock
from node.p2p import NetworkError, P2PNetwork, RequestFailed
from node.service import Node

log = logging.getLogger("energy.sync")

HEADERS_PROTOCOL = "/energy/sync/headers/1"
BLOCKS_PROTOCOL = "/energy/sync/blocks/1"
HEAD_PROTOCOL = "/energy/sync/head/1"
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


def encode_head(number: int, block_hash: bytes) -> bytes:
    """A head response or a new-block announcement."""
    return rlp.encode([number, block_hash])


def decode_head(data: bytes) -> tuple[int, bytes]:
    """(number, hash) of a head response or an announcement; BadSyncData if malformed."""
    try:
        fields = rlp.decode(data)
    except rlp.exceptions.DecodingError as exc:
        raise BadSyncData(f"head is not RLP: {exc}") from exc
    if not isinstance(fields, list) or len(fields) != 2 or not all(isinstance(f, bytes) for f in fields) \
            or len(fields[0]) > 8 or len(fields[1]) != 32:
        raise BadSyncData("head must be RLP [number, 32-byte hash]")
    return int.from_bytes(fields[0], "big"), fields[1]


@dataclass(frozen=True)
class SyncProgress:
    """How far a node that is behind its peers has come (the fields of Ethereum's `eth_syncing` object)."""

    starting_block: int
    """The node's head when it found itself behind."""
    current_block: int
    """Its head now."""
    highest_block: int
    """The highest head its peers report."""


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
        network.set_request_handler(HEAD_PROTOCOL, self.serve_head)

    async def serve_head(self, sender: bytes, data: bytes) -> bytes:
        head = self.node.head
        return encode_head(head.number, head.hash)

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

    def __init__(self, node: Node, network: P2PNetwork, on_imported: Callable[[], None], interval: float,
                 follow_gap: int = 0, permitted: Callable[[bytes], bool] = lambda address: True) -> None:
        """An announcement of block n makes the node fetch at once if n > head + `follow_gap` (validators wait one
        block: consensus normally brings it). `permitted(address)` says whether a ban may be lifted."""
        self.node = node
        self.network = network
        self.on_imported = on_imported
        self.interval = interval
        self.follow_gap = follow_gap
        self.permitted = permitted
        self.wakeup = asyncio.Event()
        self.imported = 0
        self.peer_heads: dict[bytes, int] = {}
        """The head each connected peer last reported (by announcement or head request)."""
        self._heard_at: dict[bytes, float] = {}
        """When each peer last reported its head (monotonic seconds)."""
        self._announcers: list[bytes] = []
        self._starting: int | None = None
        self._banned: set[bytes] = set()

    def behind(self, height: int) -> None:
        """Consensus saw messages for `height`: look for the missing blocks now."""
        self.wakeup.set()

    def on_announcement(self, sender: bytes, payload: bytes) -> None:
        """A peer committed a block: note its head, and fetch at once if that block is past ours."""
        try:
            number, _hash = decode_head(payload)
        except BadSyncData as exc:
            self._ban(sender, f"malformed announcement: {exc}")
            return
        self._note_head(sender, number)
        if number > self.node.head.number + self.follow_gap and sender not in self._announcers:
            self._announcers.append(sender)
            self.wakeup.set()

    def _note_head(self, peer: bytes, number: int) -> None:
        """Keep a peer's reported head; the first one past ours marks where catching up starts."""
        self.peer_heads[peer] = number
        self._heard_at[peer] = time.monotonic()
        head = self.node.head.number
        if number > head and self._starting is None:
            self._starting = head

    def highest_reported(self) -> int:
        return max(self.peer_heads.values(), default=0)

    def progress(self) -> SyncProgress | None:
        """Where the node stands while a peer reports a higher head; None once it has caught up."""
        current = self.node.head.number
        highest = self.highest_reported()
        if highest <= current:
            self._starting = None
            return None
        if self._starting is None:
            self._starting = current
        return SyncProgress(self._starting, current, highest)

    async def run(self) -> None:
        while True:
            self.wakeup.clear()  # before the round: an announcement arriving during it starts another at once
            try:
                await self.sync_once()
            except NetworkError as exc:
                log.debug("sync round ended: %s", exc)
            self.progress()
            try:
                await asyncio.wait_for(self.wakeup.wait(), self.interval)
            except TimeoutError:
                pass

    async def sync_once(self) -> int:
        """Import every block the connected peers have beyond our head; returns how many were imported.

        Peers that announced a block past our head go first, without a head request; then every other peer that
        has not reported its head within the interval (opening a request stream costs py-libp2p more than a
        block's worth of consensus messages, and a peer that announces every block needs no asking)."""
        announcers, self._announcers = self._announcers, []
        total = 0
        for peer in announcers:  # first, and without asking who is connected: they just wrote to us
            if peer not in self._banned:
                total += await self._catch_up_with(peer, "announced")
        connected = [peer.address for peer in await self.network.peers() if peer.address not in self._banned]
        for gone in set(self.peer_heads) - set(connected):  # only connected peers' heads count
            del self.peer_heads[gone]
            self._heard_at.pop(gone, None)
        recently = time.monotonic() - self.interval
        others = [peer for peer in connected if peer not in announcers]
        heard = [peer for peer in others if self._heard_at.get(peer, float("-inf")) >= recently]
        unheard = [peer for peer in others if peer not in heard]
        random.shuffle(unheard)
        asked = await asyncio.gather(*(self._ask_head(peer) for peer in unheard))  # one round trip, not one each
        ahead = [peer for peer in heard if self.peer_heads[peer] > self.node.head.number]
        ahead += [peer for peer, is_ahead in zip(unheard, asked) if is_ahead]
        for peer in ahead:
            total += await self._catch_up_with(peer, "behind")
        return total

    async def _ask_head(self, peer: bytes) -> bool:
        """Ask a peer for its head and note it; whether it is past ours (or may be: a peer that does not answer
        head requests is asked for blocks, as before there were head requests)."""
        try:
            number, _hash = decode_head(await self.network.request(peer, HEAD_PROTOCOL, b"", REQUEST_TIMEOUT_S))
        except RequestFailed as exc:
            log.debug("head request to 0x%s refused (%s): asking for blocks", peer.hex(), exc)
            return True
        except NetworkError as exc:
            log.debug("head request to 0x%s failed: %s", peer.hex(), exc)
            return False
        except BadSyncData as exc:
            self._ban(peer, f"malformed head: {exc}")
            return False
        self._note_head(peer, number)
        return number > self.node.head.number

    async def _catch_up_with(self, peer: bytes, why: str) -> int:
        """Fetch batches from `peer` until it has no more."""
        total = 0
        while True:
            count = await self._fetch_from(peer, why)
            total += count
            if count < MAX_BLOCKS:
                return total

    async def _fetch_from(self, peer: bytes, why: str) -> int:
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
            log.info("synced %d blocks from 0x%s (%s), head %d", imported, peer.hex(), why, self.node.head.number)
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
        self.peer_heads.pop(peer, None)
        self.network.disallow(peer)
        asyncio.get_running_loop().call_later(BAN_SECONDS, self._unban, peer)

    def _unban(self, peer: bytes) -> None:
        self._banned.discard(peer)
        if self.permitted(peer):  # the operator may have removed it from the allowlist meanwhile
            self.network.allow(peer)

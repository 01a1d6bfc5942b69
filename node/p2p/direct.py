"""Direct streams: one long-lived outbound stream per peer and protocol, fed from a bounded outbox.

Validators are few, so every pair talks directly instead of through gossip (whose queues drop silently when full).
A send only queues the payload; the link's own task dials, opens the stream and writes, several queued frames per
write. When a dial fails the queued messages are dropped with a log line and sends fail fast for a short backoff:
consensus messages go stale quickly, and QBFT's round change and sync recover what is lost.

Three protocols run on this machinery: consensus messages (`DIRECT_PROTOCOL`), small notices such as new-block
announcements (`NOTICE_PROTOCOL`) and transaction batches (`TX_PROTOCOL`), each with its own outboxes, inbox and
frame limit, so none can crowd out or be mistaken for another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio
from libp2p.abc import INetStream

from .bridge import Inbox
from .errors import MalformedFrame, MessageTooLarge, NetworkError, OutboxFull, PeerNotAllowed, PeerUnavailable
from .framing import FrameReader, encode_frame

if TYPE_CHECKING:
    from .service import NetworkService

logger = logging.getLogger(__name__)

FRAMES_PER_WRITE = 64
OUTBOX_POLL_S = 0.005


class DirectLink:
    """The outbound side towards one peer: its outbox, its stream, and when it may be dialled again."""

    def __init__(self, address: bytes, outbox_limit: int) -> None:
        self.address = address
        self.outbox_limit = outbox_limit
        self.send_channel, self.receive_channel = trio.open_memory_channel[bytes](outbox_limit)
        self.stream: INetStream | None = None
        self.unavailable_until = 0.0
        self.last_failure = ""


class DirectLinks:
    """All outbound links of a node on one protocol, and the handler of that protocol's inbound streams."""

    def __init__(self, service: NetworkService, protocol: str, max_message_bytes: int, outbox_messages: int,
                 parse: Callable[[bytes], Any] | None = None) -> None:
        """`parse` turns each received frame into what the inbox holds; MalformedFrame from it drops the peer."""
        self._service = service
        self.parse = parse
        self.protocol = protocol
        self.max_message_bytes = max_message_bytes
        self.outbox_messages = outbox_messages
        self._links: dict[bytes, DirectLink] = {}
        self.inbox: Inbox[tuple[bytes, Any]]
        """(sender address, parsed payload) of every frame received; created by `open_inbox` in the network thread."""

    def open_inbox(self, capacity: int) -> None:
        self.inbox = Inbox(self._service.bridge, capacity)

    def enqueue(self, address: bytes, payload: bytes) -> None:
        """Queue one message (trio thread, never blocks); raises at once if it cannot be queued."""
        service = self._service
        if len(payload) > self.max_message_bytes:
            raise MessageTooLarge(len(payload), self.max_message_bytes)
        if address not in service.allowlist:
            raise PeerNotAllowed(address)
        link = self._links.get(address)
        if link is None:
            if not service.can_reach(address):
                raise PeerUnavailable(address, "not a bootstrap peer and not connected")
            link = DirectLink(address, self.outbox_messages)
            self._links[address] = link
            service.nursery.start_soon(self._drive, link)
        if trio.current_time() < link.unavailable_until:
            raise PeerUnavailable(address, link.last_failure)
        try:
            link.send_channel.send_nowait(payload)
        except trio.WouldBlock:
            raise OutboxFull(address, link.outbox_limit) from None

    def post(self, addresses: list[bytes], payload: bytes) -> None:
        """Best-effort enqueue to each address (trio thread): failures are logged, never raised."""
        for address in addresses:
            try:
                self.enqueue(address, payload)
            except PeerUnavailable as exc:  # the link going down was logged already, once
                logger.debug("direct message not queued: %s", exc)
            except NetworkError as exc:
                logger.warning("direct message not queued: %s", exc)

    def post_to_connected(self, payload: bytes) -> None:
        """Best-effort enqueue to every connected allowed peer (trio thread): failures are logged at debug level."""
        for peer in self._service.connected_peers():
            try:
                self.enqueue(peer.address, payload)
            except NetworkError as exc:
                logger.debug("%s message to 0x%s not queued: %s", self.protocol, peer.address.hex(), exc)

    async def send_to_connected(self, payload: bytes, timeout: float) -> int:
        """Queue to every connected allowed peer, waiting up to `timeout` while a peer's outbox is full (trio
        thread); returns how many peers it was queued for. A peer whose outbox stays full, or that is down,
        misses it (logged)."""
        queued = 0
        with trio.move_on_after(timeout):
            for peer in self._service.connected_peers():
                while True:
                    try:
                        self.enqueue(peer.address, payload)
                    except OutboxFull:
                        await trio.sleep(OUTBOX_POLL_S)
                        continue
                    except NetworkError as exc:
                        logger.debug("%s message to 0x%s not queued: %s", self.protocol, peer.address.hex(), exc)
                    else:
                        queued += 1
                    break
        return queued

    def forget(self, address: bytes) -> None:
        """Stop the link to a peer that was disallowed; its queued messages are dropped."""
        link = self._links.pop(address, None)
        if link is not None:
            link.send_channel.close()

    async def _drive(self, link: DirectLink) -> None:
        """Write whatever is queued, several frames at a time, until the link is forgotten."""
        try:
            async with link.receive_channel:
                async for payload in link.receive_channel:
                    batch = [payload]
                    while len(batch) < FRAMES_PER_WRITE:
                        try:
                            batch.append(link.receive_channel.receive_nowait())
                        except (trio.WouldBlock, trio.EndOfChannel):
                            break
                    await self._write(link, b"".join(encode_frame(p) for p in batch), len(batch))
        finally:
            await self._service.close_stream(link.stream)

    async def _write(self, link: DirectLink, data: bytes, count: int) -> None:
        # A stream kept from before may have died with its connection: one retry on a fresh stream.
        for attempt in (1, 2):
            reused = link.stream is not None
            try:
                if link.stream is None:
                    with trio.fail_after(self._service.limits.dial_timeout):
                        link.stream = await self._service.open_stream(link.address, self.protocol)
                await link.stream.write(data)
                return
            except Exception as exc:  # dial timeout, refused, reset: libp2p raises many unrelated types
                await self._service.reset_stream(link.stream)
                link.stream = None
                if reused and attempt == 1:
                    continue
                self._mark_unavailable(link, f"{type(exc).__name__}: {exc}", count)
                return

    def _mark_unavailable(self, link: DirectLink, reason: str, count: int) -> None:
        dropped = count
        while True:
            try:
                link.receive_channel.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
            dropped += 1
        link.unavailable_until = trio.current_time() + self._service.limits.unavailable_backoff
        link.last_failure = reason
        logger.warning("%s link to 0x%s down (%s); dropped %d messages", self.protocol, link.address.hex(), reason,
                       dropped)

    def mark_reachable(self, address: bytes) -> None:
        """The peer connected to us: sends to it may go again without waiting for the backoff."""
        link = self._links.get(address)
        if link is not None:
            link.unavailable_until = 0.0

    async def serve_inbound(self, stream: INetStream) -> None:
        """Read a peer's stream of this protocol until it ends; bad frames drop the peer."""
        service = self._service
        peer_id = stream.muxed_conn.peer_id
        address = service.address_of(peer_id)
        self.mark_reachable(address)
        reader = FrameReader(stream, self.max_message_bytes)
        try:
            while (payload := await reader.read_frame()) is not None:
                if address not in service.allowlist:
                    raise PeerNotAllowed(address)
                await self.inbox.put((address, payload if self.parse is None else self.parse(payload)))
        except (MessageTooLarge, MalformedFrame, PeerNotAllowed) as exc:
            await service.drop_peer(peer_id, f"{self.protocol} stream: {exc}")
        except Exception as exc:  # stream reset or connection lost: the peer will reconnect
            logger.debug("%s stream from 0x%s ended: %r", self.protocol, address.hex(), exc)
        finally:
            await service.close_stream(stream)

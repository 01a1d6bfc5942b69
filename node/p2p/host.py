"""`P2PNetwork`: the node's asyncio interface to a libp2p host running in a thread of its own.

    net = P2PNetwork(node_key, "/ip4/0.0.0.0/tcp/30303", bootstrap_multiaddrs, validator_and_observer_addresses)
    await net.start()
    await net.send_direct(validator_address, consensus_message)     # long-lived stream, bounded outbox
    net.post_direct(validator_addresses, consensus_message)         # the same, best effort, no waiting
    async for sender, payload in net.incoming(): ...                # direct messages
    net.post_notice(announcement)                                   # small hint to every connected peer
    async for sender, payload in net.notices(): ...
    await net.publish_txs(raw_txs)                                  # batches to every connected peer
    async for origin, raw_txs in net.tx_batches(): ...
    net.set_request_handler("/energy/sync/headers/1", serve_headers)
    response = await net.request(peer_address, "/energy/sync/headers/1", request_bytes, timeout=5.0)
    await net.close()

Addresses are the 20-byte Ethereum addresses of node keys; the libp2p identity is the same secp256k1 key.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence

import trio

from node.crypto import private_key_to_address

from .allowlist import Allowlist
from .bridge import Inbox, ThreadBridge, settle
from .config import ConnectedPeer, NetworkLimits
from .errors import MessageTooLarge, NetworkClosed, NetworkError
from .gossip import encode_tx_batch, split_into_batches
from .identity import ensure_port_free, parse_peer_address, peer_id_from_private_key
from .requests import RequestHandler
from .service import NetworkService

logger = logging.getLogger(__name__)


class P2PNetwork:
    """A libp2p node (Noise, allowlist, direct streams, gossip, request-response) for one asyncio loop."""

    def __init__(
        self,
        private_key: bytes,
        listen_addr: str,
        bootstrap: Sequence[str],
        allowlist: Sequence[bytes],
        limits: NetworkLimits = NetworkLimits(),
    ) -> None:
        self.address = private_key_to_address(private_key)
        """This node's 20-byte address."""
        self.peer_id = peer_id_from_private_key(private_key)
        """This node's base58 libp2p peer id."""
        self.limits = limits
        self._private_key = private_key
        self._listen_addr = listen_addr
        self._bootstrap = [parse_peer_address(text) for text in bootstrap]
        self._allowlist = Allowlist(list(allowlist))
        self._handlers: dict[str, RequestHandler] = {}
        self._bridge: ThreadBridge | None = None
        self._service: NetworkService | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._stop: trio.Event | None = None
        self.listen_multiaddr = ""
        """`/ip4/<host>/tcp/<port>/p2p/<peer id>` once started, with the real port if 0 was asked."""

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the network thread and wait until it listens; raises what stopped it from starting."""
        if self._thread is not None:
            raise NetworkError("P2PNetwork.start() called twice")
        ensure_port_free(self._listen_addr)
        loop = asyncio.get_running_loop()
        self._bridge = ThreadBridge(loop)
        started: asyncio.Future[str] = loop.create_future()
        self._stopped = loop.create_future()
        self._thread = threading.Thread(
            target=self._thread_main,
            args=(self._bridge, started, self._stopped),
            name=f"p2p-{self.peer_id[-8:]}",
            daemon=True,
        )
        self._thread.start()
        self.listen_multiaddr = await started

    def _thread_main(self, bridge: ThreadBridge, started: asyncio.Future[str], stopped: asyncio.Future[None]) -> None:
        try:
            trio.run(self._trio_main, bridge, started)
        except BaseException as exc:
            logger.exception("p2p network thread failed")
            bridge.notify_asyncio(settle, started, None, NetworkClosed(f"network thread failed: {exc!r}"))
        finally:
            bridge.notify_asyncio(settle, stopped, None, None)

    async def _trio_main(self, bridge: ThreadBridge, started: asyncio.Future[str]) -> None:
        self._stop = trio.Event()
        self._service = NetworkService(
            self._private_key, self._listen_addr, self._bootstrap, self._allowlist, self.limits, bridge
        )
        for protocol, handler in self._handlers.items():
            self._service.set_request_handler(protocol, handler)
        async with trio.open_nursery() as nursery:
            bridge.bind_trio(nursery)
            try:
                listen = await nursery.start(self._service.run)
                bridge.notify_asyncio(settle, started, listen, None)
                await self._stop.wait()
            finally:
                bridge.unbind_trio()
                nursery.cancel_scope.cancel()

    async def close(self) -> None:
        """Stop the network thread, waiting at most `limits.close_timeout` seconds; safe to call twice."""
        if self._thread is None or self._bridge is None or self._stopped is None:
            return
        if self._stop is not None:
            self._bridge.notify_trio(self._stop.set)
        try:
            await asyncio.wait_for(asyncio.shield(self._stopped), self.limits.close_timeout)
        except TimeoutError:
            logger.error("p2p network thread did not stop within %ss", self.limits.close_timeout)
            return
        # trio.run has returned; the thread is only unwinding its last frame.
        self._thread.join(timeout=1.0)

    async def __aenter__(self) -> P2PNetwork:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- allowlist and peers -------------------------------------------------------------------------------

    def allow(self, address: bytes) -> None:
        """Accept connections from the key with this address from now on."""
        self._allowlist.add(address)

    def disallow(self, address: bytes) -> None:
        """Refuse this address from now on and drop its connection if it has one."""
        self._allowlist.remove(address)
        if self._bridge is not None and self._service is not None:
            self._bridge.notify_trio(self._service.disconnect_address, address)

    def add_peer(self, peer_multiaddr: str) -> None:
        """Dial and keep a connection to `/ip4/<host>/tcp/<port>/p2p/<peer id>`, like a bootstrap peer.

        For a validator voted in after genesis; its address must also be allowed. InvalidPeerAddress if malformed.
        """
        peer = parse_peer_address(peer_multiaddr)
        if self._bridge is not None and self._service is not None:
            self._bridge.notify_trio(self._service.add_peer, peer)
        else:
            self._bootstrap.append(peer)

    def is_allowed(self, address: bytes) -> bool:
        return address in self._allowlist

    async def peers(self) -> list[ConnectedPeer]:
        """Connected peers whose address is allowed."""
        return await self._running_bridge().call_in_trio(self._running_service().connected_peers)

    # --- direct messages -----------------------------------------------------------------------------------

    async def send_direct(self, address: bytes, payload: bytes) -> None:
        """Queue a message on the long-lived stream to a peer; returns once queued, raises if it cannot be.

        Raises PeerNotAllowed, PeerUnavailable (unknown, or its last dial failed moments ago), OutboxFull,
        MessageTooLarge or NetworkClosed. Queued messages are dropped (with a log line) if the dial then fails.
        """
        service = self._running_service()
        await self._running_bridge().call_in_trio(service.links.enqueue, address, payload)

    def post_direct(self, addresses: Sequence[bytes], payload: bytes) -> None:
        """Queue a message to each address without waiting: best effort, failures only logged.

        The semantics of `consensus.abc.Transport` (messages may be lost); no round trip into the network thread,
        so it never blocks and suits a synchronous caller on the node's loop. NetworkClosed if not running.
        """
        if len(payload) > self.limits.max_message_bytes:
            raise MessageTooLarge(len(payload), self.limits.max_message_bytes)
        service = self._running_service()
        self._running_bridge().notify_trio(service.links.post, list(addresses), payload)

    async def broadcast_direct(self, payload: bytes) -> list[bytes]:
        """Queue a message to every connected allowed peer; returns the addresses it was queued for."""
        if len(payload) > self.limits.max_message_bytes:
            raise MessageTooLarge(len(payload), self.limits.max_message_bytes)
        service = self._running_service()

        def enqueue_to_all() -> list[bytes]:
            queued = []
            for peer in service.connected_peers():
                try:
                    service.links.enqueue(peer.address, payload)
                except NetworkError as exc:
                    logger.warning("broadcast to 0x%s skipped: %s", peer.address.hex(), exc)
                else:
                    queued.append(peer.address)
            return queued

        return await self._running_bridge().call_in_trio(enqueue_to_all)

    async def receive_direct(self) -> tuple[bytes, bytes]:
        """The next direct message as (sender address, payload); NetworkClosed once closed."""
        return await self._running_service().links.inbox.get()

    async def incoming(self) -> AsyncIterator[tuple[bytes, bytes]]:
        """Direct messages as (sender address, payload), in arrival order per peer; ends when closed."""
        async for item in _drain(self._running_service().links.inbox):
            yield item

    # --- notices -------------------------------------------------------------------------------------------

    def post_notice(self, payload: bytes) -> None:
        """Queue a small notice (a new-block announcement) to every connected allowed peer, without waiting.

        Best effort on a stream of its own (`NOTICE_PROTOCOL`): a full outbox or a failed dial drops it. Raises
        MessageTooLarge above `limits.max_notice_bytes`, NetworkClosed if not running.
        """
        if len(payload) > self.limits.max_notice_bytes:
            raise MessageTooLarge(len(payload), self.limits.max_notice_bytes)
        service = self._running_service()
        self._running_bridge().notify_trio(service.notices.post_to_connected, payload)

    async def notices(self) -> AsyncIterator[tuple[bytes, bytes]]:
        """Notices from peers as (sender address, payload); ends when closed."""
        async for item in _drain(self._running_service().notices.inbox):
            yield item

    # --- transaction batches ------------------------------------------------------------------------------

    async def publish_txs(self, raw_txs: Sequence[bytes]) -> int:
        """Send raw transactions to every connected peer in as few batches as the size limits allow; returns the
        number of batches. Waits (bounded) while a peer's outbox is full; a peer still full then misses a batch."""
        bridge, service = self._running_bridge(), self._running_service()
        batches = split_into_batches(raw_txs)
        for batch in batches:
            await bridge.run_in_trio(service.send_tx_batch, encode_tx_batch(batch))
        return len(batches)

    async def receive_tx_batch(self) -> tuple[bytes, list[bytes]]:
        """The next batch from a peer as (sender address, raw transactions); NetworkClosed once closed."""
        return await self._running_service().tx_links.inbox.get()

    async def tx_batches(self) -> AsyncIterator[tuple[bytes, list[bytes]]]:
        """Batches from other nodes as (sender address, raw transactions); ends when closed."""
        async for item in _drain(self._running_service().tx_links.inbox):
            yield item

    # --- request-response ----------------------------------------------------------------------------------

    def set_request_handler(self, protocol: str, handler: RequestHandler) -> None:
        """Answer requests on `protocol` (e.g. `/energy/sync/headers/1`) with `await handler(sender, request)`."""
        self._handlers[protocol] = handler
        if self._bridge is not None and self._service is not None:
            self._bridge.notify_trio(self._service.set_request_handler, protocol, handler)

    async def request(self, address: bytes, protocol: str, data: bytes, timeout: float = 10.0) -> bytes:
        """Send one request and return the response; RequestTimeout, RequestFailed, PeerUnavailable..."""
        bridge, service = self._running_bridge(), self._running_service()
        return await bridge.run_in_trio(service.request, address, protocol, data, timeout)

    # --- helpers -------------------------------------------------------------------------------------------

    def _running_bridge(self) -> ThreadBridge:
        if self._bridge is None or not self._bridge.running:
            raise NetworkClosed("P2PNetwork is not running")
        return self._bridge

    def _running_service(self) -> NetworkService:
        if self._service is None or not self.listen_multiaddr:
            raise NetworkClosed("P2PNetwork is not started")
        return self._service


async def _drain(inbox: Inbox[object]) -> AsyncIterator[object]:
    while True:
        try:
            yield await inbox.get()
        except NetworkClosed:
            return

"""The trio side of the network: one libp2p host with Noise, GossipSub, direct streams and request handlers.

Everything here runs in the network thread; `P2PNetwork` (host.py) is the asyncio face of it.

What py-libp2p 0.8.1 needs, learned while building this:
- `new_host(key_pair=..., sec_opt={...})`: without `sec_opt` it offers plaintext, secio and TLS besides Noise.
  Listening on `/tcp/0` works; `host.get_addrs()` then reports the real port with `/p2p/<id>`.
- `host.run(listen_addrs)` is an async context manager; pubsub and the router are services run with
  `libp2p.tools.anyio_service.background_trio_service`.
- `GossipSub` defaults are made for open networks: spam protection caps each peer at 10 messages/s per topic
  and eclipse protection wants mesh peers from 3 distinct IPs (all of ours may share one); both are off here,
  since only allowlisted keys can connect at all. Its heartbeat defaults to 120 s; 1 s here.
- `Pubsub.publish` only queues: each peer's outbound queue holds 32 RPCs and a full one drops silently
  (`pubsub.rpc_queue`), and so does each subscription's channel of 32 (`SUBSCRIPTION_CHANNEL_SIZE`). Publishing
  therefore waits while a peer queue is above a high-water mark, and the subscription is drained by its own task.
- `Pubsub` starts a sweeper thread for its seen-messages cache and never stops it; `run` stops it on the way out.
- A Noise session's `get_remote_public_key()` is the remote's X25519 Noise key; the identity is `get_remote_peer()`.
"""

from __future__ import annotations

import logging
from functools import partial

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import INetStream, ISubscriptionAPI
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.tools.anyio_service import background_trio_service

from . import requests
from .allowlist import Allowlist, AllowlistedNoise
from .bridge import Inbox, ThreadBridge
from .config import DIRECT_PROTOCOL, NOTICE_PROTOCOL, ConnectedPeer, NetworkLimits
from .direct import DirectLinks
from .errors import GossipCongested, NetworkError, PeerUnavailable
from .gossip import MAX_BATCH_BYTES, TX_TOPIC, decode_tx_batch
from .identity import PeerAddress, address_of_peer_id, libp2p_key_pair

logger = logging.getLogger(__name__)

STREAM_CLOSE_TIMEOUT = 1.0
GOSSIP_QUEUE_POLL = 0.002


class NetworkService:
    """The libp2p host and everything running on it, owned by the network thread."""

    def __init__(
        self,
        private_key: bytes,
        listen_addr: str,
        bootstrap: list[PeerAddress],
        allowlist: Allowlist,
        limits: NetworkLimits,
        bridge: ThreadBridge,
    ) -> None:
        self.allowlist = allowlist
        self.limits = limits
        self.bridge = bridge
        self._listen_addr = multiaddr.Multiaddr(listen_addr)
        self._bootstrap = {peer.address: peer for peer in bootstrap}
        key_pair = libp2p_key_pair(private_key)
        noise = NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
        self.host = new_host(
            key_pair=key_pair,
            sec_opt={NOISE_PROTOCOL_ID: AllowlistedNoise(noise, allowlist)},
            listen_addrs=[self._listen_addr],
            connection_config=ConnectionConfig(
                min_connections=0,  # no auto-connector: only allowlisted bootstrap peers are dialled, by us
                low_watermark=0,
                dial_timeout=limits.dial_timeout,
            ),
        )
        self.gossipsub = GossipSub(
            protocols=[PROTOCOL_ID_V11],
            degree=6,
            degree_low=4,
            degree_high=12,
            heartbeat_interval=1,
            spam_protection_enabled=False,
            eclipse_protection_enabled=False,
        )
        self.pubsub = Pubsub(self.host, self.gossipsub, max_inbound_rpc_size=2 * MAX_BATCH_BYTES)
        self.links = DirectLinks(self, DIRECT_PROTOCOL, limits.max_message_bytes, limits.outbox_messages)
        """Consensus messages."""
        self.notices = DirectLinks(self, NOTICE_PROTOCOL, limits.max_notice_bytes, limits.notice_outbox_messages)
        """New-block announcements and other small hints."""
        self._addresses: dict[ID, bytes] = {}
        self._dialling: set[bytes] = set()
        self._nursery: trio.Nursery | None = None
        self.gossip_inbox: Inbox[tuple[bytes, list[bytes]]]
        self._publish_slots = trio.Semaphore(limits.gossip_in_flight)

    @property
    def nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise NetworkError("network service is not running")
        return self._nursery

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, join the gossip topic and dial the bootstrap peers; reports the listen multiaddr."""
        self.links.open_inbox(self.limits.inbox_messages)
        self.notices.open_inbox(self.limits.notice_inbox_messages)
        self.gossip_inbox = Inbox(self.bridge, self.limits.inbox_messages)
        try:
            async with self.host.run(listen_addrs=[self._listen_addr]), trio.open_nursery() as nursery:
                self._nursery = nursery
                self.host.set_stream_handler(TProtocol(DIRECT_PROTOCOL), self.links.serve_inbound)
                self.host.set_stream_handler(TProtocol(NOTICE_PROTOCOL), self.notices.serve_inbound)
                async with background_trio_service(self.pubsub), background_trio_service(self.gossipsub):
                    await self.pubsub.wait_until_ready()
                    self.pubsub.set_topic_validator(TX_TOPIC, self._validate_batch, False)
                    subscription = await self.pubsub.subscribe(TX_TOPIC)
                    nursery.start_soon(self._receive_gossip, subscription)
                    nursery.start_soon(self._keep_bootstrap_connected)
                    task_status.started(str(self.host.get_addrs()[0]))
                    await trio.sleep_forever()
        finally:
            self._nursery = None
            self.pubsub.seen_messages.stop()  # pubsub starts this cache's sweeper thread and never stops it
            self.links.inbox.close()
            self.notices.inbox.close()
            self.gossip_inbox.close()

    # --- peers ---------------------------------------------------------------------------------------------

    def add_peer(self, peer: PeerAddress) -> None:
        """Keep a connection to this peer from now on (trio thread)."""
        self._bootstrap[peer.address] = peer

    def address_of(self, peer_id: ID) -> bytes:
        """The Ethereum address of a connected peer (its key passed the allowlist, so it has one)."""
        address = self._addresses.get(peer_id)
        if address is None:
            address = self._addresses[peer_id] = address_of_peer_id(peer_id)
        return address

    def _connected_peer_id(self, address: bytes) -> ID | None:
        for peer_id in self.host.get_connected_peers():
            if self.address_of(peer_id) == address:
                return peer_id
        return None

    def can_reach(self, address: bytes) -> bool:
        return address in self._bootstrap or self._connected_peer_id(address) is not None

    async def open_stream(self, address: bytes, protocol: str) -> INetStream:
        """A new stream to the peer, dialling it first if needed (the caller bounds the time).

        A connection that the other side just closed can still be listed for a moment; if opening the stream
        on it fails and the peer has a known address, it is dialled afresh.
        """
        known = self._bootstrap.get(address)
        peer_id = self._connected_peer_id(address)
        if peer_id is not None:
            try:
                return await self.host.new_stream(peer_id, [TProtocol(protocol)])
            except Exception:  # stale connection (or protocol refused: the retry below fails the same way)
                if known is None:
                    raise
        if known is None:
            raise PeerUnavailable(address, "not a bootstrap peer and not connected")
        try:
            await self.host.connect(PeerInfo(known.peer_id, [known.dial_addr]))
        except Exception as exc:  # refused, unreachable, handshake failed: libp2p raises many unrelated types
            raise PeerUnavailable(address, f"dial failed: {type(exc).__name__}: {exc}") from exc
        return await self.host.new_stream(known.peer_id, [TProtocol(protocol)])

    def connected_peers(self) -> list[ConnectedPeer]:
        peers = []
        for peer_id in self.host.get_connected_peers():
            address = self.address_of(peer_id)
            if address not in self.allowlist:
                continue
            connections = self.host.get_network().get_connections(peer_id)
            remote = connections[0].get_transport_addresses() if connections else []
            peers.append(ConnectedPeer(address, peer_id.to_base58(), str(remote[0]) if remote else ""))
        return peers

    async def drop_peer(self, peer_id: ID, reason: str) -> None:
        """Close every connection to a misbehaving or disallowed peer."""
        logger.warning("dropping peer %s (0x%s): %s", peer_id, self.address_of(peer_id).hex(), reason)
        self.links.forget(self.address_of(peer_id))
        self.notices.forget(self.address_of(peer_id))
        with trio.move_on_after(STREAM_CLOSE_TIMEOUT):
            await self.host.disconnect(peer_id)

    def disconnect_address(self, address: bytes) -> None:
        """After `disallow`: drop the peer with that address if it is connected (trio thread, returns at once)."""
        peer_id = self._connected_peer_id(address)
        self.links.forget(address)
        self.notices.forget(address)
        if peer_id is not None:
            self.nursery.start_soon(self.drop_peer, peer_id, "removed from the allowlist")

    async def close_stream(self, stream: INetStream | None) -> None:
        if stream is None:
            return
        with trio.move_on_after(STREAM_CLOSE_TIMEOUT):
            try:
                await stream.close()
            except Exception:  # already reset by the other side
                pass

    async def reset_stream(self, stream: INetStream | None) -> None:
        if stream is None:
            return
        with trio.move_on_after(STREAM_CLOSE_TIMEOUT):
            try:
                await stream.reset()
            except Exception:  # already gone
                pass

    async def _keep_bootstrap_connected(self) -> None:
        """Dial allowed bootstrap peers that are not connected, forever, one dial per peer at a time."""
        while True:
            for peer in list(self._bootstrap.values()):
                if (
                    peer.address in self.allowlist
                    and peer.address not in self._dialling
                    and self._connected_peer_id(peer.address) is None
                ):
                    self._dialling.add(peer.address)
                    self.nursery.start_soon(self._dial, peer)
            await trio.sleep(self.limits.redial_interval)

    async def _dial(self, peer: PeerAddress) -> None:
        try:
            with trio.fail_after(self.limits.dial_timeout):
                await self.host.connect(PeerInfo(peer.peer_id, [peer.dial_addr]))
        except Exception as exc:  # refused, timed out, handshake failed: try again next round
            logger.debug("bootstrap dial to %s failed: %r", peer.dial_addr, exc)
        else:
            self.links.mark_reachable(peer.address)
            self.notices.mark_reachable(peer.address)
        finally:
            self._dialling.discard(peer.address)

    # --- direct messages and requests ----------------------------------------------------------------------

    def set_request_handler(self, protocol: str, handler: requests.RequestHandler) -> None:
        self.host.set_stream_handler(TProtocol(protocol), partial(requests.serve, self, protocol, handler))

    async def request(self, address: bytes, protocol: str, data: bytes, timeout: float) -> bytes:
        return await requests.request(self, address, protocol, data, timeout)

    # --- gossip --------------------------------------------------------------------------------------------

    async def publish(self, data: bytes) -> None:
        """Publish one batch, waiting (bounded) while any peer's outbound pubsub queue is nearly full."""
        async with self._publish_slots:
            with trio.move_on_after(self.limits.gossip_congestion_timeout) as waiting:
                while self._gossip_queues_full():
                    await trio.sleep(GOSSIP_QUEUE_POLL)
            if waiting.cancelled_caught:
                raise GossipCongested(f"pubsub queues stayed full for {self.limits.gossip_congestion_timeout}s")
            await self.pubsub.publish(TX_TOPIC, data)

    def gossip_peers(self) -> list[bytes]:
        """Addresses of connected peers subscribed to the transaction topic."""
        return [self.address_of(peer_id) for peer_id in self.pubsub.peer_topics.get(TX_TOPIC, ())]

    def _gossip_queues_full(self) -> bool:
        high_water = self.limits.gossip_queue_high_water
        return any(len(queue) >= high_water for queue in self.pubsub.peer_queues.values())

    def _validate_batch(self, forwarder: ID, message: rpc_pb2.Message) -> bool:
        """Pubsub's topic validator: a well-formed batch from an allowed origin, or the forwarder is dropped."""
        try:
            origin = address_of_peer_id(ID(message.from_id))
            decode_tx_batch(message.data)
        except NetworkError as exc:
            if forwarder == self.host.get_id():
                logger.error("refusing to publish a malformed batch: %s", exc)
            else:
                self.nursery.start_soon(self.drop_peer, forwarder, f"gossip: {exc}")
            return False
        if origin not in self.allowlist:
            logger.warning("gossip batch from 0x%s, not in the allowlist: ignored", origin.hex())
            return False
        return True

    async def _receive_gossip(self, subscription: ISubscriptionAPI) -> None:
        """Drain the subscription (32 deep, drops when full) into the node's gossip inbox."""
        own_id = self.host.get_id().to_bytes()
        while True:
            message = await subscription.get()
            if message.from_id == own_id:
                continue
            batch = decode_tx_batch(message.data)  # validated already by _validate_batch
            await self.gossip_inbox.put((address_of_peer_id(ID(message.from_id)), batch))

"""The trio side of the network: one libp2p host with Noise, direct streams and request handlers.

Everything here runs in the network thread; `P2PNetwork` (host.py) is the asyncio face of it.

What py-libp2p 0.8.1 needs, learned while building this:
- `new_host(key_pair=..., sec_opt={...})`: without `sec_opt` it offers plaintext, secio and TLS besides Noise.
  Listening on `/tcp/0` works; `host.get_addrs()` then reports the real port with `/p2p/<id>`.
- `host.run(listen_addrs)` is an async context manager.
- Transaction batches used to travel by GossipSub. Its defaults are made for open networks (10 messages/s of
  spam protection, eclipse protection), its queues of 32 drop silently when full, every message is signed and
  verified, and each node relays every message to its mesh, so in a full mesh of a few nodes each batch arrives
  three times: in a 4-validator devnet under load GossipSub took about a third of each node's CPU. A permissioned
  network of a few dozen nodes keeps a connection to every peer anyway, so a batch now goes once to each
  connected peer on a direct stream (`TX_PROTOCOL`), with a bounded outbox per peer.
- A Noise session's `get_remote_public_key()` is the remote's X25519 Noise key; the identity is `get_remote_peer()`.
"""

from __future__ import annotations

import logging
from functools import partial

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import INetStream
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from . import requests
from .allowlist import Allowlist, AllowlistedNoise
from .bridge import ThreadBridge
from .config import DIRECT_PROTOCOL, NOTICE_PROTOCOL, TX_PROTOCOL, ConnectedPeer, NetworkLimits
from .direct import DirectLinks
from .errors import NetworkError, PeerUnavailable
from .gossip import MAX_BATCH_BYTES, decode_tx_batch
from .identity import PeerAddress, address_of_peer_id, libp2p_key_pair

logger = logging.getLogger(__name__)

STREAM_CLOSE_TIMEOUT = 1.0


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
        self.links = DirectLinks(self, DIRECT_PROTOCOL, limits.max_message_bytes, limits.outbox_messages)
        """Consensus messages."""
        self.notices = DirectLinks(self, NOTICE_PROTOCOL, limits.max_notice_bytes, limits.notice_outbox_messages)
        """New-block announcements and other small hints."""
        self.tx_links = DirectLinks(self, TX_PROTOCOL, MAX_BATCH_BYTES + 16, limits.tx_outbox_batches,
                                    parse=decode_tx_batch)
        """Transaction batches, decoded on arrival (a malformed one drops the peer)."""
        self._addresses: dict[ID, bytes] = {}
        self._dialling: set[bytes] = set()
        self._nursery: trio.Nursery | None = None

    @property
    def nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise NetworkError("network service is not running")
        return self._nursery

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, serve the protocols and dial the bootstrap peers; reports the listen multiaddr."""
        self.links.open_inbox(self.limits.inbox_messages)
        self.notices.open_inbox(self.limits.notice_inbox_messages)
        self.tx_links.open_inbox(self.limits.inbox_messages)
        try:
            async with self.host.run(listen_addrs=[self._listen_addr]), trio.open_nursery() as nursery:
                self._nursery = nursery
                self.host.set_stream_handler(TProtocol(DIRECT_PROTOCOL), self.links.serve_inbound)
                self.host.set_stream_handler(TProtocol(NOTICE_PROTOCOL), self.notices.serve_inbound)
                self.host.set_stream_handler(TProtocol(TX_PROTOCOL), self.tx_links.serve_inbound)
                nursery.start_soon(self._keep_bootstrap_connected)
                task_status.started(str(self.host.get_addrs()[0]))
                await trio.sleep_forever()
        finally:
            self._nursery = None
            for links in self._all_links():
                links.inbox.close()

    def _all_links(self) -> tuple[DirectLinks, ...]:
        return self.links, self.notices, self.tx_links

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
        for links in self._all_links():
            links.forget(self.address_of(peer_id))
        with trio.move_on_after(STREAM_CLOSE_TIMEOUT):
            await self.host.disconnect(peer_id)

    def disconnect_address(self, address: bytes) -> None:
        """After `disallow`: drop the peer with that address if it is connected (trio thread, returns at once)."""
        peer_id = self._connected_peer_id(address)
        for links in self._all_links():
            links.forget(address)
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
            for links in self._all_links():
                links.mark_reachable(peer.address)
        finally:
            self._dialling.discard(peer.address)

    # --- direct messages and requests ----------------------------------------------------------------------

    def set_request_handler(self, protocol: str, handler: requests.RequestHandler) -> None:
        self.host.set_stream_handler(TProtocol(protocol), partial(requests.serve, self, protocol, handler))

    async def request(self, address: bytes, protocol: str, data: bytes, timeout: float) -> bytes:
        return await requests.request(self, address, protocol, data, timeout)

    # --- transaction batches ------------------------------------------------------------------------------

    async def send_tx_batch(self, data: bytes) -> int:
        """Queue one encoded batch to every connected peer (bounded wait); returns how many it was queued for."""
        return await self.tx_links.send_to_connected(data, self.limits.tx_send_timeout)

"""The allowlist of validator and observer addresses, enforced inside the Noise handshake.

py-libp2p's default security options include plaintext, secio and TLS beside Noise; the host is built with this
wrapper as its only security transport, so a connection is either Noise with an allowed secp256k1 key or nothing.
The check runs right after the handshake proves the remote key, before any muxer or protocol sees the connection;
raising `HandshakeFailure` there makes the upgrader close the connection (both inbound and outbound).

In py-libp2p 0.8.1 a Noise session's `get_remote_public_key()` is the remote X25519 Noise key, not its identity
key; `get_remote_peer()` is derived from the identity key whose signature over the Noise key was verified in the
handshake, so the address is read from the peer id.
"""

from __future__ import annotations

import logging
import threading

from libp2p.abc import IRawConnection, ISecureConn, ISecureTransport
from libp2p.peer.id import ID
from libp2p.security.exceptions import HandshakeFailure
from libp2p.security.noise.transport import Transport as NoiseTransport

from .errors import NetworkError
from .identity import address_of_peer_id

logger = logging.getLogger(__name__)


class InvalidAddress(NetworkError):
    """An allowlist entry that is not a 20-byte address."""


def _checked(address: bytes) -> bytes:
    if not isinstance(address, bytes) or len(address) != 20:
        raise InvalidAddress(f"an address must be 20 bytes, got {address!r}")
    return address


class Allowlist:
    """A set of 20-byte addresses, read by the network thread and changed by the node's thread.

    The set is replaced, never mutated, so a reader always sees one consistent frozenset.
    """

    def __init__(self, addresses: list[bytes]) -> None:
        self._addresses = frozenset(_checked(a) for a in addresses)
        self._lock = threading.Lock()

    def __contains__(self, address: bytes) -> bool:
        return address in self._addresses

    def add(self, address: bytes) -> None:
        with self._lock:
            self._addresses = self._addresses | {_checked(address)}

    def remove(self, address: bytes) -> None:
        with self._lock:
            self._addresses = self._addresses - {_checked(address)}

    def snapshot(self) -> frozenset[bytes]:
        return self._addresses


class AllowlistedNoise(ISecureTransport):
    """Noise, then refuse any remote key whose Ethereum address is not allowed."""

    def __init__(self, noise: NoiseTransport, allowlist: Allowlist) -> None:
        self._noise = noise
        self._allowlist = allowlist

    async def secure_inbound(self, conn: IRawConnection) -> ISecureConn:
        return await self._admit(await self._noise.secure_inbound(conn), "inbound")

    async def secure_outbound(self, conn: IRawConnection, peer_id: ID) -> ISecureConn:
        return await self._admit(await self._noise.secure_outbound(conn, peer_id), "outbound")

    async def _admit(self, secure_conn: ISecureConn, direction: str) -> ISecureConn:
        peer_id = secure_conn.get_remote_peer()
        try:
            address = address_of_peer_id(peer_id)
        except NetworkError as exc:
            reason = str(exc)
        else:
            if address in self._allowlist:
                return secure_conn
            reason = f"address 0x{address.hex()} is not in the allowlist"
        logger.warning("refused %s connection from peer %s: %s", direction, peer_id, reason)
        await secure_conn.close()
        raise HandshakeFailure(f"peer {peer_id} refused: {reason}")

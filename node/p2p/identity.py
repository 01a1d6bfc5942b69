"""Who a peer is: the node's secp256k1 key gives both its Ethereum address and its libp2p peer id.

A libp2p peer id of a secp256k1 key is the identity multihash of the protobuf-encoded compressed public key
(37 bytes, under libp2p's 42-byte inlining limit), so the public key, and from it the Ethereum address, can be read
back from the peer id alone. That lets genesis list validators by address and bootstrap multiaddrs be computed
ahead of time from keys.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import coincurve
import multiaddr
from libp2p.crypto.keys import KeyPair, PublicKey
from libp2p.crypto.secp256k1 import Secp256k1PublicKey, create_new_key_pair
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.crypto import public_key_to_address

from .errors import ListenAddressInUse, NetworkError


class InvalidPeerIdentity(NetworkError):
    """A peer id or public key that does not belong to a secp256k1 key (so it has no Ethereum address)."""


class InvalidPeerAddress(NetworkError):
    """A bootstrap multiaddr that is not `/ip4/<host>/tcp/<port>/p2p/<peer id>`."""


@dataclass(frozen=True)
class PeerAddress:
    """Where to dial a peer and who must answer there."""

    address: bytes
    """The 20-byte Ethereum address of the peer's key."""
    peer_id: ID
    """Its libp2p peer id."""
    dial_addr: multiaddr.Multiaddr
    """The transport part (`/ip4/.../tcp/...`), without `/p2p/`."""


def ensure_port_free(listen_addr: str) -> None:
    """Refuse a listen port another socket holds.

    py-libp2p 0.8.1 listens with SO_REUSEPORT, so a second node on the same port would start "successfully" and
    the kernel would split incoming connections between the two. A plain bind without that flag fails if any
    socket listens there. Port 0 (ephemeral) needs no check.
    """
    try:
        address = multiaddr.Multiaddr(listen_addr)
        host = address.value_for_protocol("ip4")
        port = int(address.value_for_protocol("tcp"))
    except Exception as exc:  # multiaddr raises several unrelated types for bad input
        raise InvalidPeerAddress(f"listen address must be /ip4/<host>/tcp/<port>, got {listen_addr!r}") from exc
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a node restarted after a crash must not be refused for its old connections in TIME_WAIT;
        # Linux still refuses the bind while any socket listens on the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ListenAddressInUse(f"cannot listen on {listen_addr}: {exc.strerror}") from exc


def libp2p_key_pair(private_key: bytes) -> KeyPair:
    """The libp2p secp256k1 key pair of a 32-byte node key."""
    if len(private_key) != 32:
        raise InvalidPeerIdentity(f"private key must be 32 bytes, got {len(private_key)}")
    return create_new_key_pair(private_key)


def peer_id_from_private_key(private_key: bytes) -> str:
    """The base58 libp2p peer id (`16Uiu2...`) that a node with this key will have."""
    return ID.from_pubkey(libp2p_key_pair(private_key).public_key).to_base58()


def multiaddr_for(private_key: bytes, host: str, port: int) -> str:
    """The bootstrap multiaddr of a node with this key listening on host:port."""
    return f"/ip4/{host}/tcp/{port}/p2p/{peer_id_from_private_key(private_key)}"


def address_of_public_key(public_key: PublicKey) -> bytes:
    """The Ethereum address of a libp2p public key; only secp256k1 keys have one."""
    if not isinstance(public_key, Secp256k1PublicKey):
        raise InvalidPeerIdentity(f"peer key is {public_key.get_type().name}, not secp256k1")
    return public_key_to_address(coincurve.PublicKey(public_key.to_bytes()))


def address_of_peer_id(peer_id: ID) -> bytes:
    """The Ethereum address of the key inlined in a peer id."""
    public_key = peer_id.extract_public_key()
    if public_key is None:
        raise InvalidPeerIdentity(f"peer id {peer_id} does not inline its public key")
    return address_of_public_key(public_key)


def parse_peer_address(text: str) -> PeerAddress:
    """Parse `/ip4/<host>/tcp/<port>/p2p/<peer id>` into who and where."""
    try:
        info = info_from_p2p_addr(multiaddr.Multiaddr(text))
    except Exception as exc:  # multiaddr and libp2p raise several unrelated types for bad input
        raise InvalidPeerAddress(f"bad peer multiaddr {text!r}: {exc}") from exc
    return PeerAddress(address_of_peer_id(info.peer_id), info.peer_id, info.addrs[0])

"""Networking for Energy Ledger: py-libp2p (trio) in a thread of its own, behind an asyncio interface.

See `host.P2PNetwork`. This package knows keys and bytes only: consensus messages, transactions and sync
requests are opaque payloads here.
"""

from .config import DIRECT_PROTOCOL, NOTICE_PROTOCOL, TX_PROTOCOL, ConnectedPeer, NetworkLimits
from .errors import (
    ListenAddressInUse,
    MalformedFrame,
    MessageTooLarge,
    NetworkClosed,
    NetworkError,
    OutboxFull,
    PeerNotAllowed,
    PeerUnavailable,
    RequestFailed,
    RequestTimeout,
)
from .host import P2PNetwork
from .identity import address_of_peer_id, multiaddr_for, peer_id_from_private_key
from .validator_links import ValidatorLinks

__all__ = [
    "DIRECT_PROTOCOL",
    "NOTICE_PROTOCOL",
    "TX_PROTOCOL",
    "ConnectedPeer",
    "ListenAddressInUse",
    "MalformedFrame",
    "MessageTooLarge",
    "NetworkClosed",
    "NetworkError",
    "NetworkLimits",
    "OutboxFull",
    "P2PNetwork",
    "PeerNotAllowed",
    "PeerUnavailable",
    "RequestFailed",
    "RequestTimeout",
    "ValidatorLinks",
    "address_of_peer_id",
    "multiaddr_for",
    "peer_id_from_private_key",
]

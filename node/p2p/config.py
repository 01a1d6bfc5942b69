"""Settings of the p2p transport and what it reports about peers."""

from __future__ import annotations

from dataclasses import dataclass

DIRECT_PROTOCOL = "/energy/direct/1"
"""The long-lived stream each node opens to each peer it sends consensus messages to."""
NOTICE_PROTOCOL = "/energy/notice/1"
"""The long-lived stream for small notices to connected peers (new-block announcements)."""
TX_PROTOCOL = "/energy/txs/2"
"""The long-lived stream carrying batches of raw transactions to every connected peer."""

MiB = 1024 * 1024


@dataclass(frozen=True)
class NetworkLimits:
    """Bounds and timeouts; the defaults suit a few dozen validators and observers on a LAN or WAN."""

    max_message_bytes: int = 4 * MiB
    """Largest direct message, request or response; a bigger frame drops the stream and the peer."""
    outbox_messages: int = 1024
    """Direct messages queued per peer before `send_direct` raises OutboxFull."""
    inbox_messages: int = 4096
    """Received messages (and gossip batches) waiting for the node before the readers pause."""
    max_notice_bytes: int = 1024
    """Largest notice; a bigger frame drops the stream and the peer."""
    notice_outbox_messages: int = 64
    """Notices queued per peer; beyond this they are dropped (logged at debug level): notices are hints."""
    notice_inbox_messages: int = 256
    """Received notices waiting for the node before the readers pause."""
    dial_timeout: float = 3.0
    """Seconds to connect to a peer and open a stream."""
    unavailable_backoff: float = 1.0
    """After a failed dial, sends to that peer fail fast for this many seconds."""
    redial_interval: float = 1.0
    """How often disconnected bootstrap peers are dialled again."""
    request_read_timeout: float = 10.0
    """Seconds a responder waits for a whole request frame."""
    handler_timeout: float = 30.0
    """Seconds a request handler may run on the node's loop."""
    tx_outbox_batches: int = 64
    """Transaction batches queued per peer: the bound on what is in flight to it."""
    tx_send_timeout: float = 5.0
    """How long sending a batch waits for room in full outboxes; a peer still full then misses that batch."""
    close_timeout: float = 5.0
    """Seconds `close()` waits for the network thread to end."""


@dataclass(frozen=True)
class ConnectedPeer:
    """A peer with an open connection, as `P2PNetwork.peers()` reports it."""

    address: bytes
    """The 20-byte Ethereum address of its key."""
    peer_id: str
    """Its base58 libp2p peer id."""
    multiaddr: str
    """The remote end of the connection, `/ip4/.../tcp/...`."""

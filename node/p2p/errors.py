"""Typed errors of the p2p transport; every failure the node must handle has its own class."""

from __future__ import annotations


class NetworkError(Exception):
    """Base of every error raised by `node.p2p`."""


class NetworkClosed(NetworkError):
    """The network thread is not running (not started yet, closed, or crashed)."""


class PeerNotAllowed(NetworkError):
    """The address is not in the allowlist, so no message may go to or come from it."""

    def __init__(self, address: bytes) -> None:
        super().__init__(f"address 0x{address.hex()} is not in the allowlist")
        self.address = address


class PeerUnavailable(NetworkError):
    """No connection to the peer can be made now (unknown peer id, dial failed, backing off)."""

    def __init__(self, address: bytes, reason: str) -> None:
        super().__init__(f"peer 0x{address.hex()} unavailable: {reason}")
        self.address = address
        self.reason = reason


class OutboxFull(NetworkError):
    """The bounded queue of direct messages to this peer is full; the message was not queued."""

    def __init__(self, address: bytes, limit: int) -> None:
        super().__init__(f"outbox to 0x{address.hex()} is full ({limit} messages)")
        self.address = address
        self.limit = limit


class MessageTooLarge(NetworkError):
    """A payload or frame above the size limit; sent ones are refused, received ones drop the peer."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class MalformedFrame(NetworkError):
    """Bytes on a stream that are not a valid frame (truncated, or not the expected encoding)."""


class RequestTimeout(NetworkError):
    """A request got no complete response within its timeout (peer down or stalled mid-stream)."""

    def __init__(self, address: bytes, protocol: str, timeout: float) -> None:
        super().__init__(f"request {protocol} to 0x{address.hex()} timed out after {timeout}s")
        self.address = address
        self.protocol = protocol
        self.timeout = timeout


class RequestFailed(NetworkError):
    """The responder closed or reset the stream instead of answering (its handler failed, or no handler)."""

    def __init__(self, address: bytes, protocol: str, reason: str) -> None:
        super().__init__(f"request {protocol} to 0x{address.hex()} failed: {reason}")
        self.address = address
        self.protocol = protocol
        self.reason = reason



class ListenAddressInUse(NetworkError):
    """Another socket holds the listen port (py-libp2p's SO_REUSEPORT would otherwise share it silently)."""

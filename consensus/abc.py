"""The two small interfaces at the consensus package's boundary: the block source and the transport.

The state machine (`consensus.qbft`) calls only the block source; the node moves bytes between the state machine's
actions and a transport. The same state machine runs over libp2p in the node and over `consensus.memory_network` in
tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

PayloadHandler = Callable[[bytes], None]
"""Called with each consensus message's bytes as they arrive; the handler decodes and authenticates them."""


class BlockSource(Protocol):
    """Builds and checks blocks for the state machine; blocks are opaque bytes to consensus."""

    def build_block(self, height: int, round_number: int) -> tuple[bytes, bytes]:
        """A new block for (height, round) as (block hash, block bytes); the hash excludes round and seals."""

    def validate_block(self, height: int, block: bytes) -> bytes:
        """The block's hash if `block` is a valid block for `height`; raises (any exception) to reject it."""


class Transport(ABC):
    """Delivers consensus messages between validators, best effort: messages may be lost, late or repeated.

    A node never receives its own broadcasts back; the state machine has already counted its own messages.
    """

    @abstractmethod
    def broadcast(self, payload: bytes) -> None:
        """Send `payload` to every other validator."""

    @abstractmethod
    def send(self, validator: bytes, payload: bytes) -> None:
        """Send `payload` to one validator, by its 20-byte address."""

    @abstractmethod
    def set_handler(self, handler: PayloadHandler) -> None:
        """Deliver every payload received from now on to `handler`."""

"""The consensus transport over `P2PNetwork`: `broadcast`, `send` and `set_handler`, best effort.

It has the three methods of `consensus.abc.Transport` without importing consensus (this package knows bytes and
keys only); the node declares the match with `consensus.abc.Transport.register(ValidatorLinks)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from .host import P2PNetwork

logger = logging.getLogger(__name__)


class ValidatorLinks:
    """Consensus messages between validators on direct streams; every direct message received goes to the handler."""

    def __init__(self, network: P2PNetwork, validators: Callable[[], Sequence[bytes]]) -> None:
        """`validators()` gives the current validator set (it changes by vote at block boundaries)."""
        self._network = network
        self._validators = validators
        self._pump: asyncio.Task[None] | None = None

    def broadcast(self, payload: bytes) -> None:
        """Send to every other validator; never blocks, losses are logged (round change recovers them)."""
        others = [address for address in self._validators() if address != self._network.address]
        self._network.post_direct(others, payload)

    def send(self, validator: bytes, payload: bytes) -> None:
        self._network.post_direct([validator], payload)

    def set_handler(self, handler: Callable[[bytes], None]) -> None:
        """Call `handler(payload)` on the node's loop for each direct message from now on (one handler at a time)."""
        if self._pump is not None:
            self._pump.cancel()
        self._pump = asyncio.get_running_loop().create_task(self._deliver(handler), name="p2p-consensus-inbox")

    async def close(self) -> None:
        """Stop delivering; the network itself is closed by its owner."""
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None

    async def _deliver(self, handler: Callable[[bytes], None]) -> None:
        async for sender, payload in self._network.incoming():
            if sender not in self._validators():
                logger.debug("direct message from 0x%s, not a validator: ignored", sender.hex())
                continue
            try:
                handler(payload)
            except Exception:  # a bad message must not stop consensus from hearing the next one
                logger.exception("consensus handler failed on a message from 0x%s", sender.hex())

"""Dev-only time control over JSON-RPC, under the names Ethereum's dev nodes use (Hardhat, Anvil):
`evm_increaseTime`, `evm_setNextBlockTimestamp` and `evm_mine`.

Served for real only by a single-validator node started with `energy-node run --dev-time` (see `node.solo`).
Every other node answers these methods with METHOD_NOT_FOUND and the reason, so a tool probing for them learns
they are off rather than that time moved."""

from __future__ import annotations

import asyncio
from typing import Any

from node.solo import DevTimeError, SoloEngine
from rpc.jsonrpc import METHOD_NOT_FOUND, Dispatcher, RpcError, invalid_params

METHODS = ("evm_increaseTime", "evm_setNextBlockTimestamp", "evm_mine")


def _seconds(value: Any, name: str) -> int:
    """A non-negative integer given as a JSON number or a hex quantity, as Hardhat and Anvil accept it."""
    if isinstance(value, bool):
        raise invalid_params(f"{name} must be an integer number of seconds")
    if isinstance(value, str):
        try:
            value = int(value, 16) if value.startswith("0x") else int(value)
        except ValueError:
            raise invalid_params(f"{name} must be an integer or a hex quantity, not {value!r}") from None
    if not isinstance(value, int):
        raise invalid_params(f"{name} must be an integer number of seconds")
    if value < 0:
        raise invalid_params(f"{name} is {value}: time only moves forward")
    return value


class DevTimeApi:
    """The time control methods of a solo dev node."""

    def __init__(self, engine: SoloEngine) -> None:
        if engine.clock is None:
            raise ValueError("dev time control needs a solo engine with a dev clock")
        self.engine = engine
        self.clock = engine.clock

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("evm_increaseTime", self.evm_increaseTime)
        dispatcher.register("evm_setNextBlockTimestamp", self.evm_setNextBlockTimestamp)
        dispatcher.register("evm_mine", self.evm_mine)

    def evm_increaseTime(self, seconds: Any) -> str:  # noqa: N802 - the JSON-RPC method's name
        """Move the chain's clock forward; returns the total offset from the wall clock in seconds (decimal)."""
        try:
            return str(self.clock.increase_time(_seconds(seconds, "seconds")))
        except DevTimeError as exc:
            raise invalid_params(str(exc)) from None

    def evm_setNextBlockTimestamp(self, timestamp: Any) -> None:  # noqa: N802
        """Fix the next block's timestamp (after the head's); later blocks continue from it."""
        try:
            self.clock.set_next_block_timestamp(_seconds(timestamp, "timestamp"),
                                                self.engine.node.head.timestamp)
        except DevTimeError as exc:
            raise invalid_params(str(exc)) from None

    async def evm_mine(self, timestamp: Any = None) -> str:  # noqa: N802
        """Seal a block now (with the waiting transactions, or empty), optionally at a given timestamp."""
        if timestamp is not None:
            self.evm_setNextBlockTimestamp(timestamp)
        await asyncio.to_thread(self.engine.produce_block, force=True)
        return "0x0"


def refuse_dev_time(dispatcher: Dispatcher, reason: str) -> None:
    """Answer the time control methods with METHOD_NOT_FOUND and why they are off on this node."""

    def refused(*_params: Any) -> None:
        raise RpcError(METHOD_NOT_FOUND, f"dev time control is off: {reason}")

    for name in METHODS:
        dispatcher.register(name, refused)

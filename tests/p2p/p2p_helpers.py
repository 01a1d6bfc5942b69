"""Shared helpers of the p2p tests: real hosts on 127.0.0.1 with ephemeral ports, all bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

from node.crypto import private_key_to_address
from node.p2p import NetworkLimits, P2PNetwork

T = TypeVar("T")

KEYS = [bytes([0x11 * (i + 1)]) * 32 for i in range(5)]
ADDRESSES = [private_key_to_address(key) for key in KEYS]
TEST_TIMEOUT = 20.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one test coroutine on a fresh asyncio loop, bounded."""
    return asyncio.run(asyncio.wait_for(coro, TEST_TIMEOUT))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until `check()` holds, polling; fail the test after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def connected_to(net: P2PNetwork, addresses: Sequence[bytes]) -> bool:
    return set(addresses) <= {peer.address for peer in await net.peers()}


@asynccontextmanager
async def network(
    count: int,
    allowed: Sequence[bytes] | None = None,
    limits: Sequence[NetworkLimits] | None = None,
    full_mesh: bool = False,
) -> AsyncIterator[list[P2PNetwork]]:
    """`count` started nodes; node 0 is every other node's bootstrap peer (or, with `full_mesh`, every node is
    every other's). Waits until the nodes that should be connected list each other."""
    allowlist = list(allowed if allowed is not None else ADDRESSES[:count])
    async with AsyncExitStack() as stack:
        first = P2PNetwork(KEYS[0], "/ip4/127.0.0.1/tcp/0", [], allowlist, _limits(limits, 0))
        nets = [await stack.enter_async_context(first)]
        for i in range(1, count):
            net = P2PNetwork(KEYS[i], "/ip4/127.0.0.1/tcp/0", [first.listen_multiaddr], allowlist, _limits(limits, i))
            nets.append(await stack.enter_async_context(net))
        for net in nets[1:]:
            if net.address in allowlist:
                await eventually(lambda net=net: connected_to(net, [first.address]))
                await eventually(lambda net=net: connected_to(first, [net.address]))
        if full_mesh:  # as validators do: each lists every other validator as a bootstrap peer
            for net in nets:
                for other in nets:
                    if other is not net:
                        net.add_peer(other.listen_multiaddr)
            for net in nets:
                await eventually(lambda net=net: connected_to(net, [n.address for n in nets if n is not net]))
        yield nets


def _limits(limits: Sequence[NetworkLimits] | None, index: int) -> NetworkLimits:
    return limits[index] if limits is not None else NetworkLimits()


async def next_item(iterator: AsyncIterator[T], timeout: float = 5.0) -> T:
    return await asyncio.wait_for(anext(iterator), timeout)


async def delivered(sender: P2PNetwork, receiver: P2PNetwork, payload: bytes) -> bool:
    """One attempt to send a direct message and see it arrive; for waiting out a reconnection."""
    from node.p2p import PeerUnavailable

    try:
        await sender.send_direct(receiver.address, payload)
        return await asyncio.wait_for(receiver.receive_direct(), 0.5) == (sender.address, payload)
    except (PeerUnavailable, TimeoutError):
        return False

"""Starting and stopping the network thread: bounded, clean, and loud when it cannot start."""

import asyncio
import threading

import pytest
from p2p_helpers import ADDRESSES, KEYS, network, run

from node.p2p import ListenAddressInUse, NetworkClosed, P2PNetwork


def test_close_stops_every_thread_and_ends_the_iterators():
    before = set(threading.enumerate())

    async def scenario():
        async with network(2) as (a, b):
            iterator = a.incoming()
            pending = asyncio.ensure_future(anext(iterator, None))
            loop = asyncio.get_running_loop()
            started = loop.time()
            await a.close()
            assert loop.time() - started < a.limits.close_timeout
            assert await asyncio.wait_for(pending, 1.0) is None  # the iterator ended
            await a.close()  # a second close is harmless
            with pytest.raises(NetworkClosed):
                await a.send_direct(b.address, b"after close")
            with pytest.raises(NetworkClosed):
                await a.receive_direct()

    run(scenario())
    assert set(threading.enumerate()) == before


def test_methods_before_start_raise_network_closed():
    async def scenario():
        net = P2PNetwork(KEYS[0], "/ip4/127.0.0.1/tcp/0", [], ADDRESSES)
        with pytest.raises(NetworkClosed):
            await net.send_direct(ADDRESSES[1], b"x")
        with pytest.raises(NetworkClosed):
            await net.request(ADDRESSES[1], "/energy/sync/headers/1", b"x", 1.0)
        await net.close()  # closing a network never started is harmless

    run(scenario())


def test_start_refuses_a_port_another_node_listens_on():
    before = set(threading.enumerate())

    async def scenario():
        async with P2PNetwork(KEYS[0], "/ip4/127.0.0.1/tcp/0", [], ADDRESSES) as first:
            port = first.listen_multiaddr.split("/tcp/")[1].split("/")[0]
            second = P2PNetwork(KEYS[1], f"/ip4/127.0.0.1/tcp/{port}", [], ADDRESSES)
            with pytest.raises(ListenAddressInUse):
                await second.start()
            await second.close()

    run(scenario())
    assert set(threading.enumerate()) == before

"""Direct streams between allowlisted peers, over real libp2p connections on 127.0.0.1."""

import asyncio
import logging

import pytest
from p2p_helpers import ADDRESSES, KEYS, delivered, eventually, network, next_item, run

from node.p2p import (
    MessageTooLarge,
    NetworkLimits,
    P2PNetwork,
    PeerNotAllowed,
    PeerUnavailable,
    peer_id_from_private_key,
)


def test_messages_flow_both_ways_in_order():
    async def scenario():
        async with network(2) as (a, b):
            for i in range(100):
                await b.send_direct(a.address, b"to a %d" % i)
            await a.send_direct(b.address, b"to b")
            received = [await next_item(a.incoming()) for _ in range(100)]
            assert received == [(b.address, b"to a %d" % i) for i in range(100)]
            assert await next_item(b.incoming()) == (a.address, b"to b")

    run(scenario())


def test_broadcast_reaches_every_connected_peer():
    async def scenario():
        async with network(3) as (a, b, c):
            queued = await a.broadcast_direct(b"proposal")
            assert sorted(queued) == sorted([b.address, c.address])
            assert await next_item(b.incoming()) == (a.address, b"proposal")
            assert await next_item(c.incoming()) == (a.address, b"proposal")

    run(scenario())


def test_post_direct_delivers_without_waiting_and_logs_what_it_cannot_queue(caplog):
    caplog.set_level(logging.WARNING, logger="node.p2p")

    async def scenario():
        async with network(3) as (a, b, c):
            a.post_direct([b.address, c.address, ADDRESSES[4]], b"prepare")  # ADDRESSES[4] is not allowed
            assert await next_item(b.incoming()) == (a.address, b"prepare")
            assert await next_item(c.incoming()) == (a.address, b"prepare")
            assert "is not in the allowlist" in caplog.text

    run(scenario())


def test_peer_outside_the_allowlist_is_refused(caplog):
    caplog.set_level(logging.WARNING, logger="node.p2p.allowlist")

    async def scenario():
        async with network(2) as (a, b):
            # The stranger allows everyone, but a and b do not allow it.
            stranger = P2PNetwork(KEYS[3], "/ip4/127.0.0.1/tcp/0", [a.listen_multiaddr], ADDRESSES)
            async with stranger:
                await eventually(lambda: _logged(caplog, "not in the allowlist"))
                assert ADDRESSES[3] not in {peer.address for peer in await a.peers()}
                assert await stranger.peers() == []
                with pytest.raises(PeerNotAllowed):
                    await a.send_direct(ADDRESSES[3], b"never")

    run(scenario())


def test_disallow_drops_the_connection_and_allow_readmits():
    async def scenario():
        async with network(2) as (a, b):
            a.disallow(b.address)
            await eventually(lambda: _disconnected(a, b.address))
            await eventually(lambda: _disconnected(b, a.address))
            with pytest.raises(PeerNotAllowed):
                await a.send_direct(b.address, b"x")
            a.allow(b.address)
            await eventually(lambda: delivered(b, a, b"back again"))  # b's bootstrap loop redials

    run(scenario())


def test_oversized_message_is_refused_by_sender_and_drops_the_peer_at_receiver(caplog):
    caplog.set_level(logging.WARNING, logger="node.p2p")
    small = NetworkLimits(max_message_bytes=1024)

    async def scenario():
        async with network(2, limits=[small, NetworkLimits()]) as (a, b):
            with pytest.raises(MessageTooLarge):
                await a.send_direct(b.address, b"x" * 1025)
            await b.send_direct(a.address, b"y" * 2000)  # b's limit allows it; a's does not
            await eventually(lambda: _logged(caplog, "dropping peer"))
            assert "exceeds the limit of 1024" in caplog.text
            await eventually(lambda: delivered(b, a, b"small"))  # b redials a; small messages flow again

    run(scenario())


def test_sends_to_an_unreachable_peer_fail_fast():
    async def scenario():
        # b's bootstrap entry points at a port where nothing listens.
        dead = f"/ip4/127.0.0.1/tcp/9/p2p/{peer_id_from_private_key(KEYS[2])}"
        async with P2PNetwork(KEYS[1], "/ip4/127.0.0.1/tcp/0", [dead], ADDRESSES) as b:
            with pytest.raises(PeerUnavailable):
                await b.send_direct(ADDRESSES[4], b"unknown peer")
            await b.send_direct(ADDRESSES[2], b"queued, then dropped when the dial fails")

            async def refused() -> bool:
                try:
                    await b.send_direct(ADDRESSES[2], b"again")
                except PeerUnavailable:
                    return True
                return False

            loop = asyncio.get_running_loop()
            started = loop.time()
            await eventually(refused)
            assert loop.time() - started < 5.0

    run(scenario())


async def _logged(caplog, text: str) -> bool:
    return text in caplog.text


async def _disconnected(net: P2PNetwork, address: bytes) -> bool:
    return address not in {peer.address for peer in await net.peers()}

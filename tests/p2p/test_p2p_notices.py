"""Notices (new-block announcements) on a stream of their own: to every connected peer, apart from consensus
messages, bounded in size."""

import asyncio

import pytest
from p2p_helpers import eventually, network, next_item, run

from node.p2p import MessageTooLarge, NetworkLimits


def test_a_notice_reaches_every_connected_peer_and_not_the_consensus_inbox():
    async def scenario():
        async with network(3) as (a, b, c):
            a.post_notice(b"block 7")
            assert await next_item(b.notices()) == (a.address, b"block 7")
            assert await next_item(c.notices()) == (a.address, b"block 7")
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(b.receive_direct(), 0.3)

    run(scenario())


def test_an_oversized_notice_is_refused_to_send_and_drops_the_peer_that_sends_one():
    async def scenario():
        generous = NetworkLimits(max_notice_bytes=4096)
        async with network(2, limits=[NetworkLimits(), generous]) as (a, b):
            with pytest.raises(MessageTooLarge):
                a.post_notice(bytes(2000))
            b.post_notice(bytes(2000))  # above a's 1 KiB limit: a drops b

            async def dropped() -> bool:
                return b.address not in {peer.address for peer in await a.peers()}

            await eventually(dropped)

    run(scenario())

"""A byzantine validator against real validator processes: validator-4's key, held by this test process, proposes
two different valid blocks for one height and round (one to validator-1, the other to validators 2 and 3) and
votes PREPARE and COMMIT for both. Safety holds: the honest validators never hold two different final blocks at
one height, they log the equivocation, and the chain goes on."""

from __future__ import annotations

import asyncio
import time

import pytest
from net_helpers import head, key_of, log_text, wait_until

from consensus.messages import make_commit, make_prepare, make_proposal
from consensus.validators import proposer_for
from node.bft.sync import SyncClient
from node.devnet import HOST, rpc_call
from node.p2p import P2PNetwork, multiaddr_for
from node.service import Node

pytestmark = pytest.mark.slow
EQUIVOCATIONS = 2
SCENARIO_TIMEOUT_S = 90


async def equivocate(node: Node, net: P2PNetwork, key: bytes, honest: list, deadline: float) -> list[int]:
    """Follow the chain and, at each height where validator-4 proposes in round 0, propose two blocks and vote for
    both; returns those heights."""
    sync = SyncClient(node, net, lambda: None, interval=0.1)
    heights: list[int] = []
    while len(heights) < EQUIVOCATIONS and time.monotonic() < deadline:
        await sync.sync_once()
        parent = node.head
        height = parent.number + 1
        if heights and heights[-1] == height or \
                proposer_for(node.validator_snapshot().validators, height, 0) != net.address:
            await asyncio.sleep(0.05)
            continue
        empty_at = parent.timestamp + node.genesis.empty_block_period_s
        await asyncio.sleep(max(0.0, empty_at - time.time()))
        first = node.build_block(net.address, timestamp=empty_at).block
        second = node.build_block(net.address, timestamp=empty_at + 1).block
        assert first.hash != second.hash
        await net.send_direct(honest[0].address, make_proposal(key, height, 0, first.hash, first.encode()).wire)
        for validator in honest[1:]:
            await net.send_direct(validator.address, make_proposal(key, height, 0, second.hash, second.encode()).wire)
        for block in (first, second):
            for message in (make_prepare(key, height, 0, block.hash), make_commit(key, height, 0, block.hash)):
                for validator in honest:
                    await net.send_direct(validator.address, message.wire)
        heights.append(height)
    return heights


async def discard_incoming(net: P2PNetwork) -> None:
    """Read the honest validators' messages to validator-4, so their outboxes never fill."""
    async for _ in net.incoming():
        pass


def test_two_proposals_and_double_votes_from_one_validator_do_not_break_safety(devnet):
    honest, v4 = devnet.validators[:3], devnet.validators[3]
    v4.kill()
    key = key_of(devnet, "validator-4")

    async def scenario() -> list[int]:
        bootstrap = [multiaddr_for(key_of(devnet, node.name), HOST, node.p2p_port) for node in honest]
        node = Node.open(v4.datadir)
        try:
            async with P2PNetwork(key, f"/ip4/{HOST}/tcp/{v4.p2p_port}", bootstrap,
                                  [node.address for node in honest]) as net:
                reader = asyncio.create_task(discard_incoming(net))
                try:
                    return await equivocate(node, net, key, honest, time.monotonic() + SCENARIO_TIMEOUT_S - 10)
                finally:
                    reader.cancel()
        finally:
            node.close()

    heights = asyncio.run(asyncio.wait_for(scenario(), SCENARIO_TIMEOUT_S))
    assert len(heights) == EQUIVOCATIONS, f"validator-4 proposed only at {heights}"
    top = max(heights) + 2
    for node in honest:
        wait_until(lambda: head(node) >= top, 30, f"{node.name} past the equivocations")
    for number in range(min(heights) - 1, top + 1):
        hashes = {rpc_call(node.rpc_url, "eth_getBlockByNumber", hex(number), False)["hash"] for node in honest}
        assert len(hashes) == 1, f"two final blocks at {number}: {hashes}"
    assert any(f"equivocation by 0x{v4.address.hex()}" in log_text(node) for node in honest)
    v4.start()
    v4.wait_ready()
    wait_until(lambda: head(v4) >= top, 30, "validator-4, honest again, to catch up")

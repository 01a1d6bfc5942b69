"""A hostile peer with an allowed key, against real validator processes: garbage, oversized frames, consensus
messages from a non-validator or badly sealed, malformed sync requests and forged sync answers. Each is ignored
or gets the peer dropped, with a log line, and the chain goes on."""

from __future__ import annotations

import asyncio

import pytest
import rlp
from net_helpers import head, key_of, log_text, wait_until

from consensus.messages import Commit, Message, make_prepare, sign
from consensus.seals import BftExtraData
from node.bft.sync import BLOCKS_PROTOCOL, encode_range
from node.blocks import EMPTY_ROOT, Block, Header
from node.devnet import HOST
from node.p2p import NetworkError, NetworkLimits, P2PNetwork, multiaddr_for

pytestmark = pytest.mark.slow
MiB = 1024 * 1024


def forged_blocks(start: int, validators: tuple[bytes, ...]) -> bytes:
    """A sync answer whose block claims the right number but carries seals nobody made."""
    extra = BftExtraData(bytes(32), validators, None, 0, (b"\x01" * 65,) * 3)
    header = Header(bytes(32), start, 0, validators[0], EMPTY_ROOT, EMPTY_ROOT, EMPTY_ROOT, bytes(256), 10**9, 0,
                    extra.encode())
    return rlp.encode([rlp.decode(Block(header, ()).encode())])


async def in_thread(function, *args):
    return await asyncio.to_thread(function, *args)


def test_hostile_observer_is_ignored_or_dropped_and_the_chain_goes_on(devnet):
    v1 = devnet.validators[0]
    observer = devnet.node("observer-2")
    validators = tuple(sorted(node.address for node in devnet.validators))
    forging = asyncio.Event()

    async def answer_blocks(sender: bytes, data: bytes) -> bytes:
        if not forging.is_set():
            return rlp.encode([])
        start, _ = rlp.decode(data, sedes=rlp.sedes.List([rlp.sedes.big_endian_int] * 2))
        return forged_blocks(start, validators)

    async def scenario() -> None:
        rogue = P2PNetwork(key_of(devnet, "observer-2"), f"/ip4/{HOST}/tcp/0",
                           [multiaddr_for(key_of(devnet, "validator-1"), HOST, v1.p2p_port)], [v1.address],
                           NetworkLimits(max_message_bytes=8 * MiB))
        rogue.set_request_handler(BLOCKS_PROTOCOL, answer_blocks)
        async with rogue:
            height = await in_thread(head, v1) + 1
            await rogue.send_direct(v1.address, make_prepare(key_of(devnet, "observer-2"), height, 0,
                                                             bytes(32)).wire)
            await in_thread(wait_until, lambda: f"0x{observer.address.hex()}, not a validator" in log_text(v1),
                            10, "the non-validator's consensus message to be logged and ignored")
            with pytest.raises(NetworkError):
                await rogue.request(v1.address, BLOCKS_PROTOCOL, b"\xff\x00 not rlp", timeout=5)
            with pytest.raises(NetworkError):  # a valid request, but over the transport's size limit
                await rogue.request(v1.address, BLOCKS_PROTOCOL, encode_range(0, 1) + bytes(5 * MiB), timeout=5)
            await in_thread(wait_until, lambda: "dropping peer" in log_text(v1), 10, "the oversized frame's sender "
                            "to be dropped")
            forging.set()
            await in_thread(wait_until, lambda: f"dropping sync peer 0x{observer.address.hex()}" in log_text(v1),
                            20, "the forger to be dropped by sync")

    asyncio.run(asyncio.wait_for(scenario(), 60))
    start = head(v1)
    wait_until(lambda: head(v1) >= start + 2, 20, "the chain to go on")


def test_garbage_and_bad_seals_from_a_validator_key_are_ignored(devnet):
    v1, v4 = devnet.validators[0], devnet.validators[3]
    v4.kill()  # a hostile process takes validator-4's key and port
    key = key_of(devnet, "validator-4")

    async def scenario() -> None:
        rogue = P2PNetwork(key, f"/ip4/{HOST}/tcp/{v4.p2p_port}",
                           [multiaddr_for(key_of(devnet, "validator-1"), HOST, v1.p2p_port)], [v1.address])
        async with rogue:
            await rogue.send_direct(v1.address, b"\x00garbage, not a consensus message")
            height = await in_thread(head, v1) + 1
            for ahead in range(3):  # the chain moves on: some of these arrive for the current height
                bad_seal = Message(sign(key, Commit(height + ahead, 0, bytes(32), b"\x01" * 65)))
                await rogue.send_direct(v1.address, bad_seal.wire)
            await in_thread(wait_until, lambda: f"invalid consensus message from 0x{v4.address.hex()}"
                            in log_text(v1), 10, "the garbage to be logged and ignored")
            bad_seal_logged = ("ignored: invalid commit seal", "ignored: commit seal signed by another validator")
            await in_thread(wait_until, lambda: any(line in log_text(v1) for line in bad_seal_logged), 15,
                            "the bad seal to be logged and ignored")

    asyncio.run(asyncio.wait_for(scenario(), 60))
    v4.start()
    v4.wait_ready()
    target = head(v1) + 2
    wait_until(lambda: head(v4) >= target, 30, "validator-4 back, and the chain going on")

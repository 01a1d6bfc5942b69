"""eth_syncing on a real node process: Ethereum's {startingBlock, currentBlock, highestBlock} while it is behind the
head its peers report, false once it has caught up. The node's only peer is a relay in this test process that
reports the devnet's real head but serves only the first blocks until the test lets it serve the rest (the relay's
key is admitted to validator-1 with perm_addNodesToAllowlist for the test)."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
import rlp
from net_helpers import head, wait_until

from node.bft.sync import (
    BLOCKS_PROTOCOL,
    HEAD_PROTOCOL,
    BadSyncData,
    decode_head,
    decode_range,
    encode_head,
    encode_range,
)
from node.crypto import private_key_to_address
from node.devnet import HOST, DevnetNode, rpc_call
from node.keystore import load_keystore, read_password, write_keystore
from node.p2p import P2PNetwork, multiaddr_for
from node.service import init_datadir

pytestmark = pytest.mark.slow
SERVED_AT_FIRST = 3


def test_heads_and_announcements_are_two_fields_and_anything_else_is_refused():
    assert decode_head(encode_head(7, bytes(range(32)))) == (7, bytes(range(32)))
    for garbage in (b"", b"\xff", rlp.encode([7]), rlp.encode([7, bytes(31)]), rlp.encode([2**70, bytes(32)]),
                    rlp.encode([[7], bytes(32)]), rlp.encode([7, bytes(32), 1])):
        with pytest.raises(BadSyncData):
            decode_head(garbage)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def syncing_node(devnet, relay_multiaddr: str) -> DevnetNode:
    """A new observer (a key of its own) whose only bootnode is the relay."""
    directory = devnet.directory / "syncing"
    password_file = devnet.directory / "password"
    keystore = directory / "key.json"
    address = write_keystore(keystore, os.urandom(32), read_password(password_file))
    bootnodes = directory / "bootnodes.txt"
    bootnodes.write_text(relay_multiaddr + "\n")
    node = DevnetNode("syncing", "observer", address, directory / "data", keystore, password_file, free_port(),
                      free_port(), bootnodes, directory / "node.log")
    init_datadir(node.datadir, devnet.directory / "genesis.json")
    return node


def test_eth_syncing_reports_progress_while_behind_and_false_once_caught_up(devnet):
    v1 = devnet.validators[0]
    password = read_password(devnet.directory / "password")
    relay_key = os.urandom(32)  # a key of its own, admitted by validator-1 for this test only
    relay_address = "0x" + private_key_to_address(relay_key).hex()
    rpc_call(v1.rpc_url, "perm_addNodesToAllowlist", [relay_address])
    serve_all = asyncio.Event()

    async def scenario() -> None:
        relay = P2PNetwork(relay_key, f"/ip4/{HOST}/tcp/0",
                           [multiaddr_for(load_keystore(devnet.directory / "keys" / "validator-1.json", password),
                                          HOST, v1.p2p_port)], [v1.address])

        async def forward_head(sender: bytes, data: bytes) -> bytes:
            return await relay.request(v1.address, HEAD_PROTOCOL, data, timeout=5)

        async def forward_blocks(sender: bytes, data: bytes) -> bytes:
            start, count = decode_range(data, 128)
            if not serve_all.is_set():
                count = max(0, min(count, SERVED_AT_FIRST + 1 - start))
                if count == 0:
                    return rlp.encode([])
            return await relay.request(v1.address, BLOCKS_PROTOCOL, encode_range(start, count), timeout=10)

        relay.set_request_handler(HEAD_PROTOCOL, forward_head)
        relay.set_request_handler(BLOCKS_PROTOCOL, forward_blocks)
        async with relay:
            node = syncing_node(devnet, relay.listen_multiaddr)
            relay.allow(node.address)
            node.start()
            try:
                await asyncio.to_thread(node.wait_ready)
                def stuck_behind() -> dict | None:
                    status = rpc_call(node.rpc_url, "eth_syncing")
                    return status if status and int(status["currentBlock"], 16) == SERVED_AT_FIRST else None

                progress = await asyncio.to_thread(wait_until, stuck_behind, 30, "the node to be syncing, behind")
                assert progress["startingBlock"] == "0x0"
                assert int(progress["highestBlock"], 16) > SERVED_AT_FIRST
                serve_all.set()
                await asyncio.to_thread(wait_until, lambda: rpc_call(node.rpc_url, "eth_syncing") is False, 30,
                                        "eth_syncing to turn false")
                assert await asyncio.to_thread(head, node) >= int(progress["highestBlock"], 16)
            finally:
                await asyncio.to_thread(node.stop)

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        rpc_call(v1.rpc_url, "perm_removeNodesFromAllowlist", [relay_address])

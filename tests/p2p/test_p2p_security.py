"""Noise only: a host that offers plaintext (even with an allowed key) cannot connect."""

import asyncio

import multiaddr
import pytest
import trio
from libp2p import new_host
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport
from p2p_helpers import ADDRESSES, KEYS, run

from node.p2p import P2PNetwork
from node.p2p.identity import libp2p_key_pair


def _dial_with_plaintext(target: str) -> None:
    """In a trio loop of its own: a plain py-libp2p host, holding an allowed key, offering plaintext only."""

    async def dial() -> None:
        key_pair = libp2p_key_pair(KEYS[1])
        host = new_host(key_pair=key_pair, sec_opt={PLAINTEXT_PROTOCOL_ID: InsecureTransport(key_pair)})
        async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
            with trio.fail_after(5):
                await host.connect(info_from_p2p_addr(multiaddr.Multiaddr(target)))

    trio.run(dial)


def test_plaintext_peer_cannot_connect_even_with_an_allowed_key():
    async def scenario():
        async with P2PNetwork(KEYS[0], "/ip4/127.0.0.1/tcp/0", [], ADDRESSES) as net:
            with pytest.raises(Exception) as failure:
                await asyncio.to_thread(_dial_with_plaintext, net.listen_multiaddr)
            assert "SwarmDialAllFailedError" in repr(failure.value)  # refused in negotiation, not a timeout
            assert await net.peers() == []

    run(scenario())

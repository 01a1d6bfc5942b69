"""Peer ids and addresses derive from the node key alone, so genesis can list bootstrap multiaddrs ahead of time."""

import pytest
from libp2p.peer.id import ID
from p2p_helpers import ADDRESSES, KEYS, run

from node.p2p import P2PNetwork, address_of_peer_id, multiaddr_for, peer_id_from_private_key
from node.p2p.identity import InvalidPeerAddress, InvalidPeerIdentity, parse_peer_address


def test_peer_id_is_stable_and_maps_back_to_the_address():
    peer_id = peer_id_from_private_key(KEYS[0])
    assert peer_id == peer_id_from_private_key(KEYS[0])
    assert peer_id.startswith("16Uiu2")  # secp256k1, inlined
    assert peer_id != peer_id_from_private_key(KEYS[1])
    assert address_of_peer_id(ID.from_base58(peer_id)) == ADDRESSES[0]


def test_multiaddr_for_parses_back_to_who_and_where():
    text = multiaddr_for(KEYS[1], "10.0.0.7", 30303)
    assert text == f"/ip4/10.0.0.7/tcp/30303/p2p/{peer_id_from_private_key(KEYS[1])}"
    peer = parse_peer_address(text)
    assert peer.address == ADDRESSES[1]
    assert str(peer.dial_addr) == "/ip4/10.0.0.7/tcp/30303"


def test_bad_keys_and_multiaddrs_are_typed_errors():
    with pytest.raises(InvalidPeerIdentity):
        peer_id_from_private_key(b"\x01" * 31)
    with pytest.raises(InvalidPeerAddress):
        parse_peer_address("/ip4/127.0.0.1/tcp/1")  # no /p2p/ part
    with pytest.raises(InvalidPeerAddress):
        P2PNetwork(KEYS[0], "/ip4/127.0.0.1/tcp/0", ["not a multiaddr"], ADDRESSES)


def test_started_node_listens_where_multiaddr_for_says():
    async def scenario():
        async with P2PNetwork(KEYS[2], "/ip4/127.0.0.1/tcp/0", [], ADDRESSES) as net:
            port = int(net.listen_multiaddr.split("/tcp/")[1].split("/")[0])
            assert port > 0
            assert net.listen_multiaddr == multiaddr_for(KEYS[2], "127.0.0.1", port)
            assert net.peer_id == peer_id_from_private_key(KEYS[2])

    run(scenario())

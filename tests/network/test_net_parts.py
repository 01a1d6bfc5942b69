"""The network's parts in-process, no sockets: pending votes, the sync wire format, the empty-block rule and the
`qbft_*` JSON-RPC methods over a real node with a chain of sealed blocks."""

from __future__ import annotations

import asyncio

import pytest
import rlp

from consensus.seals import sign_commit_seal
from consensus.validators import CastVote, ValidatorSnapshot, Vote
from genesis.generate import new_network
from node.bft.block_source import EmptyBlockTooEarly, NodeBlockSource, WrongHeight
from node.bft.sync import MAX_BLOCKS, BadSyncData, SyncServer, decode_items, decode_range, encode_range
from node.bft.votes import PendingVotes
from node.blocks import Block, decode_block, with_seals
from node.chain import ChainStore
from node.crypto import private_key_to_address
from node.exceptions import InvalidBlock
from node.keystore import load_keystore, read_password
from node.service import Node, init_datadir
from rpc.jsonrpc import RpcError
from rpc.qbft import QbftApi

A, B, C, D = (bytes([n]) * 20 for n in (1, 2, 3, 4))


def test_pending_votes_skip_settled_candidates_and_rotate_by_height():
    votes = PendingVotes()
    votes.propose(A, False)  # A is a validator: removing it changes something
    votes.propose(D, True)
    votes.propose(B, True)  # B already is a validator: settled, dropped
    snapshot = ValidatorSnapshot((A, B, C))
    assert {votes.choose(snapshot, C, height) for height in (10, 11)} == {Vote(A, False), Vote(D, True)}
    assert votes.all() == {A: False, D: True}
    standing = ValidatorSnapshot((A, B, C), (CastVote(C, D, True),))
    assert votes.choose(standing, C, 7) == Vote(A, False), "a vote already standing on chain waits its turn"
    votes.discard(A)
    votes.discard(D)
    assert votes.choose(snapshot, C, 1) is None


def test_sync_requests_are_bounded_and_malformed_ones_refused():
    assert decode_range(encode_range(5, 10_000), MAX_BLOCKS) == (5, MAX_BLOCKS)
    for garbage in (b"\xff\x00", rlp.encode([1]), rlp.encode([[1], 2]), rlp.encode([1, 2**80])):
        with pytest.raises(BadSyncData):
            decode_range(garbage, MAX_BLOCKS)
    with pytest.raises(BadSyncData):
        decode_items(rlp.encode(b"not a list"))


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """A node of a 4-validator network with 3 empty sealed blocks (real seals of 3 validators); tests only read it."""
    tmp_path = tmp_path_factory.mktemp("chain")
    directory = tmp_path / "net"
    new_network(4, directory, empty_block_period_s=30)
    password = read_password(directory / "password")
    keys = sorted((load_keystore(directory / "keys" / f"validator-{i}.json", password) for i in range(1, 5)),
                  key=private_key_to_address)
    init_datadir(tmp_path / "node", directory / "genesis.json")
    node = Node(ChainStore(tmp_path / "node" / "chain"))
    for number in range(1, 4):
        executed = node.build_block(private_key_to_address(keys[number % 4]), timestamp=node.head.timestamp + 30)
        header = executed.block.header
        node.commit(with_seals(header, 0, tuple(sign_commit_seal(k, header.hash, 0) for k in keys[:3])))
    yield node, keys
    node.close()


def test_empty_block_is_refused_before_the_empty_block_period(chain):
    node, keys = chain
    proposer = private_key_to_address(keys[0])
    source = NodeBlockSource(node, proposer, PendingVotes())
    early = node.build_block(proposer, timestamp=node.head.timestamp + 29).block
    with pytest.raises(EmptyBlockTooEarly):
        source.validate_block(4, early.encode())
    due = node.build_block(proposer, timestamp=node.head.timestamp + 30).block
    assert source.validate_block(4, due.encode()) == due.hash
    with pytest.raises(WrongHeight):
        source.validate_block(5, due.encode())
    with pytest.raises(InvalidBlock):
        decode_block(b"\xc2\x01\x02", node.rules.chain_id)


def test_sync_server_answers_ranges_the_client_side_decodes(chain):
    node, _ = chain
    server = SyncServer(node)
    answer = asyncio.run(server.serve_blocks(b"", encode_range(2, 100)))
    blocks = [decode_block(item, node.rules.chain_id) for item in decode_items(answer)]
    assert [block.number for block in blocks] == [2, 3]
    assert all(isinstance(block, Block) and block.hash == node.store.hash_by_number(block.number) for block in blocks)
    assert decode_items(asyncio.run(server.serve_headers(b"", encode_range(9, 5)))) == []
    with pytest.raises(BadSyncData):
        asyncio.run(server.serve_blocks(b"", b"garbage"))


def test_qbft_rpc_methods_have_besu_shapes(chain):
    node, keys = chain
    votes = PendingVotes()
    api = QbftApi(node, votes)
    candidate = "0x" + "ab" * 20
    assert api.qbft_proposeValidatorVote(candidate, True) is True
    assert api.qbft_getPendingVotes() == {candidate: True}
    assert api.qbft_discardValidatorVote(candidate) is True
    assert api.qbft_getPendingVotes() == {}
    with pytest.raises(RpcError):
        api.qbft_proposeValidatorVote(candidate, "yes")
    validators = api.qbft_getValidatorsByBlockNumber("latest")
    assert validators == ["0x" + private_key_to_address(k).hex() for k in keys]
    metrics = api._signer_metrics("0x1", "latest")
    assert sum(int(entry["proposedBlockCount"], 16) for entry in metrics) == 3
    assert {entry["address"] for entry in metrics} == set(validators)
    with pytest.raises(RpcError):
        QbftApi(node, None).qbft_getPendingVotes()

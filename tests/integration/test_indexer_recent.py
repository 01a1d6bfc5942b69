"""Blocks handed to the indexer by the node's block listener index exactly as blocks read back from LevelDB."""

import os
import sqlite3

import eth_abi

from contracts_py import ruble
from genesis.generate import new_network
from indexer.follower import Indexer
from node.crypto import keccak256, private_key_to_address
from node.keystore import load_keystore, read_password
from node.service import Node, init_datadir
from node.solo import SoloEngine
from node.transactions import sign_fee_market_transaction

TRANSFER = keccak256(b"transfer(address,uint256)")[:4]


def dump(path) -> dict[str, list]:
    db = sqlite3.connect(path)
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    contents = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in tables}
    db.close()
    return contents


def test_remembered_blocks_index_like_stored_ones(tmp_path):
    new_network(1, tmp_path / "net", block_period_ms=100, empty_block_period_s=3600)
    init_datadir(tmp_path / "node", tmp_path / "net" / "genesis.json")
    node = Node.open(tmp_path / "node")
    password = read_password(tmp_path / "net" / "password")
    engine = SoloEngine(node, load_keystore(tmp_path / "net" / "keys" / "validator-1.json", password))
    faucet = load_keystore(tmp_path / "net" / "keys" / "faucet.json", password)
    following = Indexer(node, tmp_path / "following.sqlite")
    node.add_block_listener(following.remember)
    try:
        nonce = 0
        for _ in range(3):
            for _ in range(5):
                data = TRANSFER + eth_abi.encode(["address", "uint256"], [os.urandom(20), 7])
                node.submit_transaction(sign_fee_market_transaction(
                    faucet, chain_id=node.rules.chain_id, nonce=nonce, to=ruble.ADDRESS, data=data, gas=100_000))
                nonce += 1
            engine.produce_block()
            following.catch_up()
        assert following._recent == {}, "every remembered block was indexed from memory"
        reading_back = Indexer(node, tmp_path / "reading_back.sqlite")
        reading_back.catch_up()
        reading_back.close()
    finally:
        following.close()
        node.close()
    followed, read_back = dump(tmp_path / "following.sqlite"), dump(tmp_path / "reading_back.sqlite")
    assert len(followed["transactions"]) == 15
    assert followed == read_back


def test_static_calls_decode_as_eth_abi_does_and_bad_padding_does_not_decode():
    from contracts_py.catalog import CONTRACTS
    from contracts_py.abi import normalize_decoded
    from indexer.decode import decode_call
    checked = 0
    for address, contract in CONTRACTS.items():
        for spec in contract.functions.values():
            if not spec.static_inputs or not spec.input_types:
                continue
            words = [bytes(12) + os.urandom(20) if t == "address" else (1).to_bytes(32, "big") if t == "bool"
                     else os.urandom(32) if t == "bytes32" else (100).to_bytes(32, "big") for t in spec.input_types]
            payload = spec.selector + b"".join(words)
            expected = {name: normalize_decoded(t, v) for name, t, v in
                        zip(spec.input_names, spec.input_types, eth_abi.decode(list(spec.input_types), payload[4:]))}
            assert decode_call(address, payload).args == expected
            checked += 1
            if "address" in spec.input_types:
                index = spec.input_types.index("address")
                dirty = bytearray(payload)
                dirty[4 + 32 * index] = 1
                assert decode_call(address, bytes(dirty)) is None
    assert checked > 20

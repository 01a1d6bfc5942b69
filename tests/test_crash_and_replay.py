"""Durability and audit: kill -9 under load loses nothing final; replay catches any flipped byte."""

import random
import subprocess
import sys
import time

import plyvel
import pytest
from eth_account import Account

from node_harness import ROOT, NodeProcess, rpc
from consensus.seals import sign_commit_seal
from contracts_py import ruble
from node.blocks import with_seals
from node.chain import ChainStore
from node.crypto import private_key_to_address
from node.replay import replay_chain
from node.service import Node, init_datadir
from node.transactions import sign_fee_market_transaction

TRANSFER = bytes.fromhex("a9059cbb")


def transfer_data(to: bytes, amount: int) -> bytes:
    return TRANSFER + bytes(12) + to + amount.to_bytes(32, "big")


def run_replay_cli(datadir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", "replay", "--datadir", str(datadir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_kill_9_under_load_twenty_times_loses_no_receipted_transaction(solo_network, tmp_path):
    datadir = tmp_path / "node"
    init_datadir(datadir, solo_network.directory / "genesis.json")
    faucet = solo_network.private_key("faucet")
    sender = private_key_to_address(faucet)
    rng = random.Random(20)
    receipted: dict[str, int] = {}
    process = NodeProcess(solo_network, datadir)
    for round_number in range(20):
        process.start()
        for tx_hash, number in receipted.items():  # everything final before the kill is still there
            receipt = rpc(process.url, "eth_getTransactionReceipt", tx_hash)["result"]
            assert receipt is not None and int(receipt["blockNumber"], 16) == number, (round_number, tx_hash)
        head = rpc(process.url, "eth_getBlockByNumber", "latest", False)["result"]
        assert rpc(process.url, "eth_getBlockByHash", head["parentHash"], False)["result"] or head["number"] == "0x0"
        nonce = int(rpc(process.url, "eth_getTransactionCount", "0x" + sender.hex(), "latest")["result"], 16)
        sent = []
        for offset in range(25):
            raw = sign_fee_market_transaction(faucet, chain_id=7700, nonce=nonce + offset, to=ruble.ADDRESS,
                                              data=transfer_data(Account.create().address and bytes(19) + b"\x07", 1),
                                              gas=100_000)
            sent.append(rpc(process.url, "eth_sendRawTransaction", "0x" + raw.hex())["result"])
        deadline = time.monotonic() + rng.uniform(0.05, 0.8)
        while time.monotonic() < deadline:
            for tx_hash in sent:
                if tx_hash not in receipted:
                    receipt = rpc(process.url, "eth_getTransactionReceipt", tx_hash)["result"]
                    if receipt is not None:
                        receipted[tx_hash] = int(receipt["blockNumber"], 16)
            time.sleep(0.02)
        process.kill()
    assert len(receipted) > 100
    result = run_replay_cli(datadir)
    assert result.returncode == 0, result.stderr
    assert "replay ok" in result.stdout


def build_chain(tmp_path, network, blocks: int) -> tuple:
    """A node's database with `blocks` sealed blocks of RUB transfers; returns (datadir, nodes written per block)."""
    datadir = tmp_path / "chain-node"
    init_datadir(datadir, network.directory / "genesis.json")
    node = Node.open(datadir)
    validator = network.private_key("validator-1")
    faucet = network.private_key("faucet")
    written = {}
    for number in range(1, blocks + 1):
        for i in range(3):
            node.submit_transaction(sign_fee_market_transaction(
                faucet, chain_id=7700, nonce=(number - 1) * 3 + i, to=ruble.ADDRESS,
                data=transfer_data(bytes(19) + bytes([number * 3 + i]), 10), gas=100_000))
        executed = node.build_block(private_key_to_address(validator))
        header = executed.block.header
        written[number] = dict(executed.state.written)
        node.commit(with_seals(header, 0, (sign_commit_seal(validator, header.hash, 0),)))
    node.close()
    return datadir, written


def flip_byte(datadir, key: bytes, position: int = -5) -> None:
    db = plyvel.DB(str(datadir / "chain"))
    value = bytearray(db.get(key))
    value[position] ^= 0x01
    db.put(key, bytes(value), sync=True)
    db.close()


def test_replay_passes_on_an_intact_chain(tmp_path, solo_network):
    datadir, _ = build_chain(tmp_path, solo_network, 4)
    store = ChainStore(datadir / "chain")
    report = replay_chain(store)
    store.close()
    assert report.ok and report.blocks_checked == 5


def test_flipped_byte_in_a_stored_block_names_the_block(tmp_path, solo_network):
    datadir, _ = build_chain(tmp_path, solo_network, 4)
    store = ChainStore(datadir / "chain")
    block_hash = store.hash_by_number(3)
    store.close()
    flip_byte(datadir, b"b" + block_hash, position=-30)
    result = run_replay_cli(datadir)
    assert result.returncode == 1
    assert "block 3" in result.stderr


def test_flipped_byte_in_a_trie_node_names_the_block_that_wrote_it(tmp_path, solo_network):
    datadir, written = build_chain(tmp_path, solo_network, 4)
    node_hash = sorted(written[2])[0]
    flip_byte(datadir, b"N" + node_hash)
    store = ChainStore(datadir / "chain")
    report = replay_chain(store)
    store.close()
    assert not report.ok and report.first_bad_block == 2
    assert "trie node" in report.problem


def test_flipped_byte_in_receipts_is_caught(tmp_path, solo_network):
    datadir, _ = build_chain(tmp_path, solo_network, 3)
    store = ChainStore(datadir / "chain")
    block_hash = store.hash_by_number(2)
    store.close()
    flip_byte(datadir, b"r" + block_hash, position=-3)
    store = ChainStore(datadir / "chain")
    report = replay_chain(store)
    store.close()
    assert report.first_bad_block == 2

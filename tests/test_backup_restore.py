"""A backup taken from a running node under load restores to a node that replays clean and goes on."""

import subprocess
import sys
import threading
import time

from contracts_py import ruble
from node.transactions import sign_fee_market_transaction
from node.service import init_datadir
from node_harness import ROOT, NodeProcess, rpc


def energy_node(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_backup_under_load_restores_replays_clean_and_the_chain_goes_on(solo_network, tmp_path):
    datadir = tmp_path / "node"
    init_datadir(datadir, solo_network.directory / "genesis.json")
    node = NodeProcess(solo_network, datadir).start()
    faucet = solo_network.private_key("faucet")
    stop = threading.Event()
    sent = []

    def load():
        nonce = 0
        while not stop.is_set() and nonce < 2_000:
            raw = sign_fee_market_transaction(faucet, chain_id=7700, nonce=nonce, to=ruble.ADDRESS,
                                              data=bytes.fromhex("a9059cbb") + bytes(31) + b"\x05" + bytes(31)
                                              + b"\x01", gas=100_000)
            if "result" in rpc(node.url, "eth_sendRawTransaction", "0x" + raw.hex()):
                sent.append(nonce)
            nonce += 1
            time.sleep(0.005)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(1.5)
        result = energy_node("backup", "--rpc", node.url, "--out", str(tmp_path / "backup"))
        assert result.returncode == 0, result.stderr
        backed_up_head = int(result.stdout.split("head ")[1].split()[0])
        time.sleep(0.5)
    finally:
        stop.set()
        loader.join(30)
    assert backed_up_head > 0 and sent
    node.stop()

    assert "already exists" in energy_node("restore", "--backup", str(tmp_path / "backup"), "--datadir",
                                           str(datadir)).stderr
    restored = tmp_path / "restored"
    result = energy_node("restore", "--backup", str(tmp_path / "backup"), "--datadir", str(restored))
    assert result.returncode == 0, result.stderr
    assert f"head {backed_up_head}" in result.stdout

    node = NodeProcess(solo_network, restored).start()
    try:
        faucet_address = "0x" + solo_network.address("faucet").hex()
        nonce = int(rpc(node.url, "eth_getTransactionCount", faucet_address, "latest")["result"], 16)
        raw = sign_fee_market_transaction(faucet, chain_id=7700, nonce=nonce, to=ruble.ADDRESS,
                                          data=bytes.fromhex("a9059cbb") + bytes(31) + b"\x06" + bytes(31) + b"\x01",
                                          gas=100_000)
        tx_hash = rpc(node.url, "eth_sendRawTransaction", "0x" + raw.hex())["result"]
        deadline = time.monotonic() + 20
        receipt = None
        while receipt is None and time.monotonic() < deadline:
            receipt = rpc(node.url, "eth_getTransactionReceipt", tx_hash)["result"]
            time.sleep(0.1)
        assert receipt and int(receipt["blockNumber"], 16) > backed_up_head
    finally:
        node.stop()


def test_a_corrupt_backup_is_refused(tmp_path):
    (tmp_path / "backup").mkdir()
    result = energy_node("restore", "--backup", str(tmp_path / "backup"), "--datadir", str(tmp_path / "d"))
    assert result.returncode != 0 and "holds no backup" in result.stderr

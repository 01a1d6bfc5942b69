"""A backup of a running validator, taken under load, restores to a node that replays clean and rejoins."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from net_helpers import head, receipt, send, wait_until

from node.devnet import ROOT, rpc_call

pytestmark = pytest.mark.slow


def energy_node(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_backup_under_load_restores_and_the_validator_rejoins(devnet, faucet, tmp_path):
    validators = devnet.validators
    restored = validators[3]
    wait_until(lambda: int(rpc_call(validators[0].rpc_url, "net_peerCount"), 16) >= 3, 20, "peers counted")
    pending = [send(validators[i % 3], faucet.transfer(os.urandom(20), 10 + i)) for i in range(30)]
    result = energy_node("backup", "--rpc", restored.rpc_url, "--out", str(tmp_path / "backup"))
    assert result.returncode == 0, result.stderr
    backed_up = int(result.stdout.split("head ")[1].split()[0])
    more = [send(validators[i % 3], faucet.transfer(os.urandom(20), 50 + i)) for i in range(10)]

    restored.kill()
    shutil.move(restored.datadir / "chain", tmp_path / "damaged-chain")
    result = energy_node("restore", "--backup", str(tmp_path / "backup"), "--datadir", str(restored.datadir))
    assert result.returncode == 0, result.stderr
    restored.start()
    restored.wait_ready()
    for tx_hash in pending + more:
        wait_until(lambda: receipt(restored, tx_hash), 60, f"{tx_hash} final on the restored validator")
    assert head(restored) > backed_up
    top = head(validators[0])
    wait_until(lambda: head(restored) >= top, 30, "the restored validator at the head")
    for number in range(top + 1):
        hashes = {rpc_call(node.rpc_url, "eth_getBlockByNumber", hex(number), False)["hash"] for node in validators}
        assert len(hashes) == 1, f"fork at block {number}"

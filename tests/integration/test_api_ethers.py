"""ethers v6 from npm, unmodified, against a running node: contract calls by the served ABI, a signed transfer,
receipt and decoded log, a log query, and the event over a WebSocket subscription. Skipped without npm."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from contracts_py import ruble

CLIENT = Path(__file__).with_name("ethers_client.cjs")
ETHERS_DIR = Path(os.environ.get("ENERGY_ETHERS_DIR", "/tmp/energy-ledger-ethers"))


@pytest.fixture(scope="module")
def ethers_modules():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for the ethers test")
    if not (ETHERS_DIR / "node_modules" / "ethers").exists():
        ETHERS_DIR.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(ETHERS_DIR),
                                    "ethers@6"], capture_output=True, text=True, timeout=180)
        if installed.returncode != 0:
            pytest.skip(f"npm could not install ethers: {installed.stderr[-300:]}")
    return ETHERS_DIR / "node_modules"


def test_ethers_reads_sends_filters_and_subscribes(solo_node, solo_network, ethers_modules):
    key = "0x" + solo_network.private_key("faucet").hex()
    result = subprocess.run(["node", str(CLIENT), solo_node.url, key, "0x" + ruble.ADDRESS.hex()],
                            capture_output=True, text=True, timeout=90, env={**os.environ,
                                                                             "NODE_PATH": str(ethers_modules)})
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert out["chainId"] == 7700 and out["symbol"] == "RUB" and out["status"] == 1
    assert out["parsed"] == [["Transfer", out["recipient"], "4242"]]
    assert out["balance"] == "4242" and out["queried"] == 1 and out["blockMatches"]
    assert out["heard"] == [out["recipient"], "4242"]

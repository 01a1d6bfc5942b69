"""The CLI as an operator uses it: keygen, simulate (writing a config), enroll with the grid company's key."""
from __future__ import annotations

import json
import subprocess
import sys

import eth_abi

from node_harness import ROOT, rpc
from contracts_py import readings
from gateway_helpers import wait_until
from meter_io.gateway.config import load_config
from node.crypto import keccak256


def gateway_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meter_io.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_keygen_simulate_and_enroll_bind_the_meters_to_the_gateway(solo_network, solo_node, tmp_path):
    made = gateway_cli("keygen", "--out", str(tmp_path / "key.json"), "--password-file", str(tmp_path / "pw"))
    assert made.returncode == 0, made.stderr
    gateway = made.stdout.strip()
    assert gateway.startswith("0x") and len(gateway) == 42
    again = gateway_cli("keygen", "--out", str(tmp_path / "key.json"), "--password-file", str(tmp_path / "pw"))
    assert again.returncode != 0 and "refusing to overwrite" in again.stderr

    config_path = tmp_path / "gateway.toml"
    simulator = subprocess.Popen(
        [sys.executable, "-m", "meter_io.cli", "simulate", "--meters", "2", "--protocol", "mercury230",
         "--prosumers", "--write-config", str(config_path), "--rpc", solo_node.url, "--keystore",
         str(tmp_path / "key.json"), "--password-file", str(tmp_path / "pw"), "--genesis",
         str(solo_network.directory / "genesis.json"), "--queue", str(tmp_path / "queue.sqlite"), "--seconds", "60"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(config_path.exists, 20, "simulate wrote no config")
        config = load_config(config_path)
        assert [m.meter_id for m in config.meters] == [1001, 1002]
        enrolled = gateway_cli("enroll", "--config", str(config_path), "--grid-key",
                               str(solo_network.keys["grid-company"]), "--password-file",
                               str(solo_network.directory / "password"))
        assert enrolled.returncode == 0, enrolled.stderr
        assert f"gateway {gateway} enrolled with 2 meters" in enrolled.stdout
    finally:
        simulator.terminate()
        output, _ = simulator.communicate(timeout=10)
    ports = [json.loads(line)["port"] for line in output.splitlines()]
    assert ports == [m.port for m in config.meters]
    for meter in config.meters:
        data = keccak256(b"meterState(uint64)")[:4] + eth_abi.encode(["uint64"], [meter.meter_id])
        result = rpc(solo_node.url, "eth_call", {"to": "0x" + readings.ADDRESS.hex(), "data": "0x" + data.hex()},
                     "latest")["result"]
        bound, remote = eth_abi.decode(["address", "bool"], bytes.fromhex(result[2:])[:64])
        assert bound == gateway and remote

    status = gateway_cli("status", "--config", str(config_path))
    assert json.loads(status.stdout)["readings_waiting"] == 0
    bad = gateway_cli("enroll", "--config", str(tmp_path / "missing.toml"), "--grid-key", "x", "--password-file", "y")
    assert bad.returncode != 0 and "cannot read" in bad.stderr

"""Allowlist changes by JSON-RPC (Besu's perm_* methods) and by `energy-node allowlist`, on real processes: a removed
peer is disconnected and refused, the change survives a restart, validators cannot be removed, bad input gets a
clear JSON-RPC error, and a stopped node's allowlist is changed in its datadir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest
from net_helpers import head, log_text, wait_until

from node.devnet import ROOT, rpc_call

pytestmark = pytest.mark.slow


def rpc_error(url: str, method: str, *params) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["error"]


def energy_node(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def hex_address(node) -> str:
    return "0x" + node.address.hex()


def test_bad_allowlist_changes_get_clear_errors_and_change_nothing(devnet):
    v1, v2 = devnet.validators[:2]
    before = rpc_call(v1.rpc_url, "perm_getNodesAllowlist")
    assert {hex_address(node) for node in devnet.nodes} <= set(before)
    observer = hex_address(devnet.node("observer-2"))
    for nodes, code, words in ((["not a node"], -32602, "not an address"), ("0x" + "ab" * 20, -32602, "list"),
                               ([observer, observer.upper().replace("0X", "0x")], -32602, "twice"),
                               ([observer], -32000, "already in the allowlist")):
        error = rpc_error(v1.rpc_url, "perm_addNodesToAllowlist", nodes)
        assert error["code"] == code and words in error["message"], error
    error = rpc_error(v1.rpc_url, "perm_removeNodesFromAllowlist", [hex_address(v2)])
    assert error["code"] == -32000 and "validator" in error["message"]
    error = rpc_error(v1.rpc_url, "perm_removeNodesFromAllowlist", ["0x" + "cd" * 20])
    assert error["code"] == -32000 and "not in the allowlist" in error["message"]
    assert rpc_call(v1.rpc_url, "perm_getNodesAllowlist") == before


def test_removed_peer_is_dropped_and_refused_across_a_restart_until_added_again(devnet):
    v1 = devnet.validators[0]
    observer = devnet.node("observer-2")
    address = hex_address(observer)
    observer.start()
    try:
        observer.wait_ready()
        wait_until(lambda: head(observer) >= head(v1), 30, "the observer to sync")
        assert rpc_call(v1.rpc_url, "perm_removeNodesFromAllowlist", [address]) == "Success"
        assert address not in rpc_call(v1.rpc_url, "perm_getNodesAllowlist")
        wait_until(lambda: "removed from the allowlist" in log_text(v1), 10, "v1 to drop the observer")
        wait_until(lambda: f"0x{observer.address.hex()} is not in the allowlist" in log_text(v1), 15,
                   "v1 to refuse the observer's redial")
        target = head(v1) + 2  # the other validators still serve it
        wait_until(lambda: head(observer) >= target, 20, "the observer to follow through the others")

        running = energy_node("allowlist", "add", "0x" + "ef" * 20, "--datadir", str(v1.datadir))
        assert running.returncode != 0 and "--rpc" in running.stderr, "a running node's datadir is refused"
        v1.stop()
        stranger = "0x" + os.urandom(20).hex()
        offline = energy_node("allowlist", "add", stranger, "--datadir", str(v1.datadir))
        assert offline.returncode == 0, offline.stderr
        assert stranger in offline.stdout.split() and address not in offline.stdout.split()
        v1.start()
        v1.wait_ready()
        allowed = rpc_call(v1.rpc_url, "perm_getNodesAllowlist")
        assert address not in allowed and stranger in allowed, "both changes kept across the restart"

        added = energy_node("allowlist", "add", address, "--rpc", v1.rpc_url)
        assert added.returncode == 0, added.stderr
        assert address in added.stdout.split()
        removed = energy_node("allowlist", "remove", stranger, "--rpc", v1.rpc_url)
        assert removed.returncode == 0 and stranger not in removed.stdout.split(), removed.stderr
        wait_until(lambda: head(v1) >= target, 30, "the restarted validator to catch up")
    finally:
        observer.stop()

"""Real node processes on 127.0.0.1: 4 validators make final blocks, survive one crash, stop (without forking)
with two down and catch up; a new observer syncs from genesis; validators are voted out and in.

The tests share one devnet (conftest.py) and run in file order; each leaves the validators it found running.
"""

from __future__ import annotations

import os
import time

import pytest
from net_helpers import check_sealed, head, header_of, log_text, receipt, send, wait_until

from node.devnet import rpc_call

pytestmark = pytest.mark.slow


def transfers_become_final(devnet, faucet, nodes, count: int, timeout: float = 30.0) -> list[dict]:
    """Send `count` transfers round-robin through `nodes`; wait until each has a receipt on every node."""
    hashes = [send(nodes[i % len(nodes)], faucet.transfer(os.urandom(20), 100 + i)) for i in range(count)]
    receipts = []
    for tx_hash in hashes:
        for node in nodes:
            found = wait_until(lambda: receipt(node, tx_hash), timeout, f"{tx_hash} final on {node.name}")
            assert found["status"] == "0x1"
        receipts.append(found)
    return receipts


def same_chain(nodes, upto: int) -> None:
    """Every node holds the same block hash at every height up to `upto`: no fork."""
    for number in range(upto + 1):
        hashes = {rpc_call(node.rpc_url, "eth_getBlockByNumber", hex(number), False)["hash"] for node in nodes}
        assert len(hashes) == 1, f"fork at block {number}: {hashes}"


def test_four_validators_make_final_blocks_with_transactions(devnet, faucet):
    validators = devnet.validators
    receipts = transfers_become_final(devnet, faucet, validators, 20)
    members = {node.address for node in validators}
    proposers = set()
    for number in sorted({int(r["blockNumber"], 16) for r in receipts}):
        header = header_of(validators[0], number)
        assert len(check_sealed(header, members)) >= 3
        proposers.add(header.proposer)
    same_chain(validators, head(validators[0]) - 1)
    assert proposers <= members


def test_one_validator_down_the_chain_goes_on_and_it_catches_up(devnet, faucet):
    down = devnet.validators[3]
    up = devnet.validators[:3]
    down.kill()
    start = head(up[0])
    transfers_become_final(devnet, faucet, up, 12, timeout=40)
    wait_until(lambda: head(up[0]) >= start + 5, 30, "5 blocks without one validator")
    down.start()
    down.wait_ready()
    target = head(up[0])
    wait_until(lambda: head(down) >= target, 30, "the restarted validator to catch up")
    transfers_become_final(devnet, faucet, devnet.validators, 4)
    same_chain(devnet.validators, head(down) - 1)


def test_two_validators_down_no_blocks_no_fork_then_they_catch_up(devnet, faucet):
    down, up = devnet.validators[2:], devnet.validators[:2]
    for node in down:
        node.kill()
    time.sleep(0.5)  # a block decided just before the kill may still be committing
    before = [head(node) for node in up]
    pending = send(up[0], faucet.transfer(os.urandom(20), 7))
    stalled_for = 5.0
    deadline = time.monotonic() + stalled_for
    while time.monotonic() < deadline:  # bounded: a healthy network makes ~5 empty blocks in this time
        assert [head(node) for node in up] == before, "blocks made without a quorum"
        time.sleep(0.25)
    assert receipt(up[0], pending) is None
    for node in down:
        node.start()
    for node in down:
        node.wait_ready()
    wait_until(lambda: receipt(up[1], pending), 60, "the pending transfer to become final after the restart")
    for node in down:
        wait_until(lambda: receipt(node, pending), 30, f"{node.name} to catch up")
    transfers_become_final(devnet, faucet, devnet.validators, 4)
    same_chain(devnet.validators, min(head(node) for node in devnet.validators))


def test_new_observer_syncs_from_genesis_checking_every_seal(devnet):
    observer = devnet.node("observer-1")
    observer.start()
    observer.wait_ready()
    target = head(devnet.validators[0])
    wait_until(lambda: head(observer) >= target, 30, "the observer to sync")
    members = {node.address for node in devnet.validators}
    for number in range(1, target + 1):
        check_sealed(header_of(observer, number), members)
    same_chain([observer, devnet.validators[0]], target)
    assert "synced" in log_text(observer)
    following = head(devnet.validators[0]) + 2
    wait_until(lambda: head(observer) >= following, 20, "the observer to follow new blocks")


def test_validator_voted_out_stops_counting_and_one_voted_in_starts(devnet, faucet):
    v1, v2, v3, v4 = devnet.validators
    observer = devnet.node("observer-1")
    assert observer.running, "runs after the observer test"
    leaving = "0x" + v4.address.hex()
    for node in (v1, v2, v3):
        assert rpc_call(node.rpc_url, "qbft_proposeValidatorVote", leaving, False) is True
    assert rpc_call(v1.rpc_url, "qbft_getPendingVotes") in ({leaving: False}, {})
    wait_until(lambda: leaving not in rpc_call(v1.rpc_url, "qbft_getValidatorsByBlockNumber", "latest"), 40,
               "validator-4 to be voted out")
    v4.kill()  # it no longer counts: three validators of three go on without it
    out_at = head(v1)
    three = {v1.address, v2.address, v3.address}
    transfers_become_final(devnet, faucet, [v1, v2, v3], 4)
    for number in range(out_at + 1, head(v1) + 1):
        signers = check_sealed(header_of(v1, number), three)
        assert v4.address not in signers

    joining = "0x" + observer.address.hex()
    for node in (v1, v2):
        rpc_call(node.rpc_url, "qbft_proposeValidatorVote", joining, True)
    wait_until(lambda: joining in rpc_call(v1.rpc_url, "qbft_getValidatorsByBlockNumber", "latest"), 40,
               "observer-1 to be voted in")
    v3.kill()  # now 4 validators (v1, v2, v3, observer-1): without v3 the quorum of 3 needs observer-1
    in_at = head(v1)
    transfers_become_final(devnet, faucet, [v1, v2, observer], 4, timeout=60)
    four = {v1.address, v2.address, v3.address, observer.address}
    sealed_by_observer = [observer.address in check_sealed(header_of(v1, n), four)
                          for n in range(in_at + 1, head(v1) + 1)]
    assert sealed_by_observer and all(sealed_by_observer)
    metrics = rpc_call(v1.rpc_url, "qbft_getSignerMetrics", hex(in_at + 1), "latest")
    assert joining in {entry["address"] for entry in metrics}
    v3.start()
    v3.wait_ready()

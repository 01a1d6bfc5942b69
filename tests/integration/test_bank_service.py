"""`energy-node bank run` against a real node: holders' requests are answered by the running service, a request
whose answer reverts is retried until it settles or parked after five failures, and the service never stops on
one."""

import json
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from contracts_py import ruble
from contracts_py.ruble import RequestStatus
from genesis.chain_client import ChainClient
from node.cli import cli
from node_harness import ROOT

BIK, OPEN_ACCOUNT, CLOSED_ACCOUNT = "049205603", "40817810000000000001", "40817810000000000099"
HOLDER_KEY = bytes.fromhex("b1" * 32)


def wait_for(condition, what: str, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.1)
    return found


def start_service(node, network, checkpoint, log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "node.cli", "bank", "run", "--rpc", node.url, "--key", str(network.keys["bank"]),
         "--password-file", str(network.directory / "password"), "--checkpoint", str(checkpoint),
         "--closed-account", CLOSED_ACCOUNT, "--poll-ms", "100", "--retry-s", "0.5"],
        cwd=ROOT, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)


def status(client: ChainClient, request_id: int) -> int:
    return client.call("RubleToken", "bankRequest", request_id)[5]


@pytest.mark.slow
def test_running_bank_service_fulfils_rejects_refunds_and_retries(solo_node, solo_network, tmp_path):
    client = ChainClient(solo_node.url)
    bank = solo_network.address("bank")  # its key is the service's alone (one nonce sequence)
    faucet = client.signer(solo_network.private_key("faucet"), "faucet")
    holder = client.signer(HOLDER_KEY, "holder")
    client.transact(faucet, "RubleToken", "transfer", holder.address, 1_000_00)
    client.transact(faucet, "RubleToken", "transfer", bank, 500_00)  # the bank's float
    log_path, checkpoint = tmp_path / "bank.log", tmp_path / "bank-checkpoint.json"
    service = start_service(solo_node, solo_network, checkpoint, log_path)
    try:
        client.transact(holder, "RubleToken", "requestTopUp", 800_00)  # 1: more than the float holds
        client.transact(holder, "RubleToken", "requestTopUp", 100_00)  # 2
        client.transact(holder, "RubleToken", "requestWithdrawal", 50_00, BIK, CLOSED_ACCOUNT)  # 3
        client.transact(holder, "RubleToken", "requestWithdrawal", 20_00, BIK, OPEN_ACCOUNT)  # 4
        wait_for(lambda: [status(client, i) for i in (2, 3, 4)] == [RequestStatus.DONE, RequestStatus.REJECTED,
                                                                    RequestStatus.DONE], "requests 2-4 settled")
        wait_for(lambda: "insufficient balance" in log_path.read_text(), "the failed answer logged")
        assert status(client, 1) == RequestStatus.PENDING and service.poll() is None
        client.transact(faucet, "RubleToken", "transfer", bank, 1_000_00)  # the float replenished
        wait_for(lambda: status(client, 1) == RequestStatus.DONE, "request 1 settled on a retry")
        client.transact(holder, "RubleToken", "requestTopUp", ruble.MAX_REQUEST_KOPECKS)  # 5: never payable
        wait_for(lambda: "request 5 parked after 5 failed answers" in log_path.read_text(), "request 5 parked")
        assert status(client, 5) == RequestStatus.PENDING and service.poll() is None
    finally:
        service.terminate()
        assert service.wait(10) == 0
    assert client.call("RubleToken", "balanceOf", holder.address) == 1_000_00 + 800_00 + 100_00 - 20_00
    assert client.call("RubleToken", "balanceOf", ruble.ADDRESS) == 0  # nothing left locked
    assert client.call("RubleToken", "balanceOf", bank) == 500_00 + 1_000_00 - 900_00 + 20_00
    rejected = client.call("RubleToken", "bankRequest", 3)
    assert rejected[6] == bytes(32)
    log = log_path.read_text()
    assert "request 3 (withdrawal of 5000 kopecks" in log and "sent rejectRequest" in log
    assert "caught up with the chain at block" in log and "Traceback" not in log


    # a restart resumes from the checkpoint: the parked request stays parked, nothing is read twice
    saved = json.loads(checkpoint.read_text())
    assert saved["open"] == [] and saved["parked"] == [5] and saved["fromBlock"] > 0
    again = start_service(solo_node, solo_network, checkpoint, tmp_path / "again.log")
    try:
        wait_for(lambda: "caught up" in (tmp_path / "again.log").read_text(), "the restarted service caught up")
    finally:
        again.terminate()
        assert again.wait(10) == 0
    log = (tmp_path / "again.log").read_text()
    assert f"from block {saved['fromBlock']} as" in log and "(0 open, 1 parked)" in log and "request 5" not in log


def test_a_damaged_checkpoint_is_refused_with_its_name(solo_network, tmp_path):
    checkpoint = tmp_path / "bank-checkpoint.json"
    checkpoint.write_text('{"fromBlock": -3, "open": [], "parked": []}')
    result = CliRunner().invoke(cli, [  # refused before any node is asked
        "bank", "run", "--rpc", "http://127.0.0.1:9", "--key", str(solo_network.keys["bank"]), "--password-file",
        str(solo_network.directory / "password"), "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1 and f"{checkpoint}: block and request numbers must be whole" in result.output

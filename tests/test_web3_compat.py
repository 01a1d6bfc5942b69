"""web3.py and eth-account, unmodified, used as a user's program would against a running node."""

import pytest
from eth_account import Account
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from contracts_py import ruble
from contracts_py.catalog import CONTRACTS


@pytest.fixture
def web3(solo_node):
    w3 = Web3(Web3.HTTPProvider(solo_node.url, request_kwargs={"timeout": 10}))
    # Every proof-of-authority chain (Besu QBFT, Clique) keeps seals in extraData: web3's documented middleware.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def test_web3_reads_chain_signs_and_sends_a_ruble_transfer(web3, solo_network):
    assert web3.is_connected()
    assert web3.eth.chain_id == 7700
    genesis_block = web3.eth.get_block(0)
    assert genesis_block["number"] == 0

    faucet = Account.from_key(solo_network.private_key("faucet"))
    recipient = Account.create()
    token = web3.eth.contract(address=Web3.to_checksum_address(ruble.ADDRESS),
                              abi=CONTRACTS[ruble.ADDRESS].abi())
    assert token.functions.symbol().call() == "RUB"
    assert token.functions.decimals().call() == 2

    tx = token.functions.transfer(recipient.address, 123_45).build_transaction({
        "from": faucet.address,
        "nonce": web3.eth.get_transaction_count(faucet.address),
        "gas": 200_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "chainId": web3.eth.chain_id,
    })
    signed = faucet.sign_transaction(tx)
    tx_hash = web3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.1)
    assert receipt["status"] == 1
    (transfer,) = token.events.Transfer().process_receipt(receipt)
    assert transfer["args"]["from"] == faucet.address
    assert transfer["args"]["to"] == recipient.address
    assert transfer["args"]["value"] == 123_45
    assert token.functions.balanceOf(recipient.address).call() == 123_45
    block = web3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert block["transactions"][0]["hash"] == tx_hash
    outline = web3.eth.get_block(receipt["blockNumber"])  # hashes only, read without decoding the transactions
    assert outline["transactions"] == [tx_hash]
    assert {k: v for k, v in outline.items() if k != "transactions"} == {
        k: v for k, v in block.items() if k != "transactions"}
    logs = web3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": token.address})
    assert len(logs) == 1 and logs[0]["transactionHash"] == tx_hash


def test_legacy_eip155_transaction_is_accepted(web3, solo_network):
    faucet = Account.from_key(solo_network.private_key("faucet"))
    token = web3.eth.contract(address=Web3.to_checksum_address(ruble.ADDRESS), abi=CONTRACTS[ruble.ADDRESS].abi())
    tx = token.functions.transfer(Account.create().address, 1).build_transaction({
        "from": faucet.address, "nonce": 0, "gas": 200_000, "gasPrice": 0, "chainId": 7700})
    tx_hash = web3.eth.send_raw_transaction(faucet.sign_transaction(tx).raw_transaction)
    assert web3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.1)["status"] == 1


def test_reverted_call_reports_reason(web3, solo_network):
    token = web3.eth.contract(address=Web3.to_checksum_address(ruble.ADDRESS), abi=CONTRACTS[ruble.ADDRESS].abi())
    poor = Account.create()
    with pytest.raises(Exception, match="insufficient balance"):
        token.functions.transfer(Account.create().address, 5).call({"from": poor.address})

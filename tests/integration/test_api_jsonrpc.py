"""Ethereum JSON-RPC beyond the basics, through web3.py and a raw WebSocket: block receipts, storage and proofs
checked against the state root, fee history, polling filters, eth_subscribe newHeads and logs."""

import asyncio
import json

import aiohttp
import pytest
import rlp
from eth_account import Account
from trie import HexaryTrie
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from contracts_py import participants, ruble
from contracts_py.catalog import CONTRACTS
from node.crypto import keccak256
from rpc.abi_files import ABI_DIR, abi_file_text


@pytest.fixture
def web3(solo_node):
    w3 = Web3(Web3.HTTPProvider(solo_node.url, request_kwargs={"timeout": 10}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def transfer(web3, faucet, token, to, amount, nonce):
    tx = token.functions.transfer(to, amount).build_transaction({
        "from": faucet.address, "nonce": nonce, "gas": 200_000, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0,
        "chainId": web3.eth.chain_id})
    return web3.eth.send_raw_transaction(faucet.sign_transaction(tx).raw_transaction)


def verify_proof(root, key, proof):
    """Walk an Ethereum-style proof with py-trie against `root`: the proof's nodes alone must give the value."""
    nodes = {keccak256(node): node for node in proof}
    return HexaryTrie(nodes, root).get(key)


def test_filters_receipts_proofs_and_fee_history_through_web3(web3, solo_network):
    faucet = Account.from_key(solo_network.private_key("faucet"))
    token = web3.eth.contract(address=Web3.to_checksum_address(ruble.ADDRESS), abi=CONTRACTS[ruble.ADDRESS].abi())
    block_filter = web3.eth.filter("latest")
    log_filter = token.events.Transfer.create_filter(from_block="latest")
    recipients = [Account.create().address for _ in range(3)]
    hashes = [transfer(web3, faucet, token, to, 100 + i, i) for i, to in enumerate(recipients)]
    receipts = [web3.eth.wait_for_transaction_receipt(h, timeout=20, poll_latency=0.1) for h in hashes]
    changes = log_filter.get_new_entries()
    assert [c["args"]["to"] for c in changes] == recipients
    assert log_filter.get_new_entries() == []
    assert [e["args"]["value"] for e in log_filter.get_all_entries()] == [100, 101, 102]
    new_blocks = block_filter.get_new_entries()
    assert {r["blockHash"] for r in receipts} <= set(new_blocks)
    assert web3.eth.uninstall_filter(block_filter.filter_id)
    block_receipts = web3.eth.get_block_receipts(receipts[-1]["blockNumber"])
    assert receipts[-1]["transactionHash"] in [r["transactionHash"] for r in block_receipts]

    head = web3.eth.get_block("latest")
    faucet_proof = web3.eth.get_proof(faucet.address, [], head["number"])
    account_rlp = verify_proof(head["stateRoot"], keccak256(bytes.fromhex(faucet.address[2:])),
                               faucet_proof["accountProof"])
    assert rlp.decode(account_rlp)[0] == (3).to_bytes(1, "big")  # nonce 3, proven by the state root alone
    slot = keccak256(b"role" + bytes([participants.Role.RETAILER]) + solo_network.address("retailer-1"))
    registry = Web3.to_checksum_address(participants.ADDRESS)
    assert web3.eth.get_storage_at(registry, slot) == b"\x01"
    proof = web3.eth.get_proof(registry, ["0x" + slot.hex()])
    storage = proof["storageProof"][0]
    assert verify_proof(proof["storageHash"], slot, storage["proof"]) == b"\x01"
    assert verify_proof(head["stateRoot"], keccak256(participants.ADDRESS), proof["accountProof"]) is not None
    assert web3.eth.get_code(registry).startswith(b"\xfenative:")
    history = web3.eth.fee_history(4, "latest", [50])
    assert len(history["baseFeePerGas"]) == len(history["gasUsedRatio"]) + 1 and history["reward"][0] == [0]
    assert web3.eth.syncing is False and web3.net.listening and web3.net.peer_count == 0
    assert web3.keccak(hexstr="0x68656c6c6f") == Web3.keccak(text="hello")


def test_websocket_subscriptions_deliver_new_heads_and_matching_logs(solo_node, solo_network):
    faucet = Account.from_key(solo_network.private_key("faucet"))
    web3 = Web3(Web3.HTTPProvider(solo_node.url))
    token = web3.eth.contract(address=Web3.to_checksum_address(ruble.ADDRESS), abi=CONTRACTS[ruble.ADDRESS].abi())
    recipient = Account.create().address
    topic = "0x" + keccak256(b"Transfer(address,address,uint256)").hex()

    async def scenario():
        async with aiohttp.ClientSession() as session, session.ws_connect(solo_node.url) as ws:
            await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
            heads = (await ws.receive_json(timeout=10))["result"]
            await ws.send_json({"jsonrpc": "2.0", "id": 2, "method": "eth_subscribe", "params": [
                "logs", {"address": "0x" + ruble.ADDRESS.hex(), "topics": [topic]}]})
            logs = (await ws.receive_json(timeout=10))["result"]
            await ws.send_json({"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber"})
            assert (await ws.receive_json(timeout=10))["id"] == 3
            await asyncio.to_thread(transfer, web3, faucet, token, recipient, 777, 0)
            seen = {}
            while len(seen) < 2:
                message = await ws.receive_json(timeout=20)
                seen[message["params"]["subscription"]] = message["params"]["result"]
            await ws.send_json({"jsonrpc": "2.0", "id": 4, "method": "eth_unsubscribe", "params": [heads]})
            assert (await ws.receive_json(timeout=10))["result"] is True
            await ws.send_json({"jsonrpc": "2.0", "id": 5, "method": "eth_subscribe", "params": ["syncing"]})
            assert (await ws.receive_json(timeout=10))["error"]["code"] == -32602
            return seen[heads], seen[logs]

    head, log = asyncio.run(scenario())
    assert int(log["data"], 16) == 777 and log["blockNumber"] == head["number"]


def test_shipped_abi_files_match_the_contracts():
    for contract in CONTRACTS.values():
        assert (ABI_DIR / f"{contract.NAME}.json").read_text() == abi_file_text(contract), contract.NAME
    assert json.loads((ABI_DIR / "RubleToken.json").read_text()) == CONTRACTS[ruble.ADDRESS].abi()

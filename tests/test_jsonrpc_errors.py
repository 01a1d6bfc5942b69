"""JSON-RPC bad input through a running node: each gets its standard error and the node keeps serving."""

import json
import os
import urllib.error
import urllib.request

from node_harness import rpc
from contracts_py import ruble
from node.transactions import sign_fee_market_transaction


def post(url: str, body: bytes):
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_garbage_and_malformed_requests_get_standard_errors(solo_node):
    url = solo_node.url
    assert post(url, b"{not json")[1]["error"]["code"] == -32700
    assert post(url, b"[]")[1]["error"]["code"] == -32600
    assert post(url, b'{"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}')[1]["error"]["code"] == -32600
    assert post(url, b'{"jsonrpc": "2.0", "id": 1, "method": "eth_nope"}')[1]["error"]["code"] == -32601
    assert post(url, b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["0x12"]}'
                )[1]["error"]["code"] == -32602
    assert post(url, b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [1, 2, 3]}'
                )[1]["error"]["code"] == -32602
    status, _ = post(url, b"[" + b" " * (6 * 1024 * 1024) + b"]")
    assert status == 413
    assert rpc(url, "eth_chainId")["result"] == hex(7700)


def test_batches_answer_each_request_and_skip_notifications(solo_node):
    body = json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_missing"},
        "garbage",
    ]).encode()
    _, answers = post(solo_node.url, body)
    assert [a.get("id") for a in answers] == [1, 3, None]
    assert answers[0]["result"] == hex(7700)
    assert answers[1]["error"]["code"] == -32601 and answers[2]["error"]["code"] == -32600


def test_bad_transactions_are_refused_with_the_reason(solo_node, solo_network):
    url = solo_node.url
    faucet = solo_network.private_key("faucet")

    def send(raw: bytes):
        return rpc(url, "eth_sendRawTransaction", "0x" + raw.hex())

    assert "malformed RLP" in send(b"\x02\xff\x00")["error"]["message"]
    assert "chain id 1" in send(sign_fee_market_transaction(faucet, chain_id=1, nonce=0, to=ruble.ADDRESS,
                                                            data=b"\x01"))["error"]["message"]
    unknown = sign_fee_market_transaction(faucet, chain_id=7700, nonce=0, to=b"\x11" * 20, data=b"\x01")
    assert "no contract" in send(unknown)["error"]["message"]
    good = sign_fee_market_transaction(faucet, chain_id=7700, nonce=0, to=ruble.ADDRESS, data=b"\x01\x02\x03\x04")
    assert send(good)["result"]
    assert "already pending" in send(good)["error"]["message"] or "nonce" in send(good)["error"]["message"]
    assert "0x" in send(sign_fee_market_transaction(os.urandom(32), chain_id=7700, nonce=5, to=ruble.ADDRESS,
                                                    data=b"\x01"))["result"]
    assert rpc(url, "eth_blockNumber")["result"].startswith("0x")

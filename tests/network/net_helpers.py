"""Helpers of the network tests: waiting, reading and checking headers over JSON-RPC, signing transfers."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable

import eth_abi
import pytest

from consensus.seals import verify_commit_seals
from contracts_py import ruble
from node.blocks import Header
from node.crypto import keccak256, private_key_to_address
from node.devnet import DevnetNode, rpc_call
from node.keystore import load_keystore, read_password
from node.transactions import sign_fee_market_transaction

CHAIN_ID = 7700
TRANSFER = keccak256(b"transfer(address,uint256)")[:4]


def key_of(devnet, name: str) -> bytes:
    """The private key of a devnet node or participant, from its keystore."""
    return load_keystore(devnet.directory / "keys" / f"{name}.json", read_password(devnet.directory / "password"))


def wait_until(predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.1):
    """Poll `predicate` until it returns a truthy value (returned) or `timeout` seconds pass (fails the test)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OSError:  # a node restarting: its RPC port is not open yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)


def head(node: DevnetNode) -> int:
    return int(rpc_call(node.rpc_url, "eth_blockNumber"), 16)


def header_of(node: DevnetNode, number: int) -> Header:
    """The header of block `number` as `node` serves it, rebuilt from JSON-RPC and checked against its hash."""
    block = rpc_call(node.rpc_url, "eth_getBlockByNumber", hex(number), False)
    raw = {key: bytes.fromhex(block[key][2:]) for key in ("parentHash", "miner", "stateRoot", "transactionsRoot",
                                                          "receiptsRoot", "logsBloom", "extraData")}
    header = Header(raw["parentHash"], int(block["number"], 16), int(block["timestamp"], 16), raw["miner"],
                    raw["stateRoot"], raw["transactionsRoot"], raw["receiptsRoot"], raw["logsBloom"],
                    int(block["gasLimit"], 16), int(block["gasUsed"], 16), raw["extraData"])
    assert header.hash.hex() == block["hash"][2:]
    return header


def check_sealed(header: Header, validators: set[bytes]) -> tuple[bytes, ...]:
    """The signers of a header's commit seals, once they prove it final for `validators`."""
    extra = header.bft
    assert set(extra.validators) == validators
    return verify_commit_seals(header.hash, extra.round, extra.commit_seals, tuple(sorted(validators)))


class Faucet:
    """Signs ruble transfers from the genesis faucet with consecutive nonces."""

    def __init__(self, private_key: bytes, nonce: int) -> None:
        self.private_key = private_key
        self.address = private_key_to_address(private_key)
        self.nonce = nonce

    def transfer(self, to: bytes, kopecks: int) -> bytes:
        data = TRANSFER + eth_abi.encode(["address", "uint256"], [to, kopecks])
        raw = sign_fee_market_transaction(self.private_key, chain_id=CHAIN_ID, nonce=self.nonce, to=ruble.ADDRESS,
                                          data=data, gas=200_000)
        self.nonce += 1
        return raw


def send(node: DevnetNode, raw: bytes) -> str:
    return rpc_call(node.rpc_url, "eth_sendRawTransaction", "0x" + raw.hex())


def receipt(node: DevnetNode, tx_hash: str):
    return rpc_call(node.rpc_url, "eth_getTransactionReceipt", tx_hash)


def log_text(node: DevnetNode) -> str:
    return node.log_path.read_text(errors="replace")


def free_base_port() -> int:
    """A base port whose RPC ports (base..base+5) and p2p ports (base+100..base+105) are free now.

    Drawn below the kernel's ephemeral range (32768 and up), so the nodes' own outgoing connections, which take
    ephemeral ports, cannot take a port of a node that restarts later."""
    for _ in range(100):
        base = random.randrange(20_000, 32_000 - 110, 10)
        try:
            for port in [*range(base, base + 6), *range(base + 100, base + 106)]:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range")

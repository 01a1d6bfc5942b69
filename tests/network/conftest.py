"""A 4-validator devnet of real node processes on 127.0.0.1, shared by the network tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from net_helpers import Faucet, free_base_port

from genesis.generate import new_network
from node.crypto import private_key_to_address
from node.devnet import Devnet, prepare_devnet, rpc_call
from node.keystore import load_keystore, read_password


@pytest.fixture(scope="session")
def devnet(tmp_path_factory) -> Devnet:
    """4 validators running (observer-1 and observer-2 prepared, not started), 200 ms blocks, empty ones each 1 s."""
    directory = Path(tmp_path_factory.mktemp("devnet"))
    new_network(4, directory, observers=2, block_period_ms=200, empty_block_period_s=1)
    net = prepare_devnet(directory, 4, 2, base_port=free_base_port(), extra_args=("--round-timeout-ms", "2000"))
    for node in net.validators:
        node.start()
    try:
        for node in net.validators:
            node.wait_ready()
        yield net
    finally:
        net.stop()


@pytest.fixture(scope="session")
def faucet(devnet) -> Faucet:
    key = load_keystore(devnet.directory / "keys" / "faucet.json", read_password(devnet.directory / "password"))
    nonce = int(rpc_call(devnet.validators[0].rpc_url, "eth_getTransactionCount",
                         "0x" + private_key_to_address(key).hex(), "pending"), 16)
    return Faucet(key, nonce)



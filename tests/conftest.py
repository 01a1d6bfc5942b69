"""Fixtures shared by the whole suite; the helpers behind them live in node_harness.py."""

from __future__ import annotations

import pytest

from genesis.generate import new_network
from node.service import init_datadir
from node_harness import Network, NodeProcess


@pytest.fixture
def solo_network(tmp_path) -> Network:
    directory = tmp_path / "net"
    _, keys = new_network(1, directory, block_period_ms=200, empty_block_period_s=3600)
    return Network(directory, (directory / "password").read_bytes().strip(), {k.name: k.keystore for k in keys})


@pytest.fixture
def solo_node(solo_network, tmp_path):
    datadir = tmp_path / "node"
    init_datadir(datadir, solo_network.directory / "genesis.json")
    process = NodeProcess(solo_network, datadir).start()
    yield process
    process.stop()

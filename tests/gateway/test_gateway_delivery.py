"""End to end: simulated meters on ptys, a real node, `energy-gateway run` as a process."""
from __future__ import annotations

from collections import Counter

import pytest

from conftest import NodeProcess, rpc
from gateway_helpers import HALF_HOUR, make_world, wait_until


@pytest.fixture
def world(solo_network, solo_node, tmp_path):
    world = make_world(solo_network, solo_node, tmp_path / "gw", meters=3)
    yield world
    world.stop_gateway()
    world.sim.stop()


def test_readings_reach_the_chain_once_and_final(world):
    world.start_gateway()
    world.advance(4)
    world.wait_delivered()
    posted = world.posted_readings()
    first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
    expected = [r for m in world.meters for r in world.expected_readings(m, first, last)]
    assert sorted(posted) == sorted(expected)
    finals = [e for e in world.log_entries() if e.get("msg") == "transaction final"]
    assert finals, world.log_tail()

"""kill -9 of the gateway process, again and again, while it signs and sends: nothing lost, nothing twice."""
from __future__ import annotations

from collections import Counter

import pytest

from gateway_helpers import HALF_HOUR, make_world, wait_until


@pytest.fixture
def world(solo_network, solo_node, tmp_path):
    world = make_world(solo_network, solo_node, tmp_path / "gw", meters=4)
    yield world
    world.stop_gateway()
    world.sim.stop()


def signed_count(world) -> int:
    return world.query("SELECT COUNT(*) FROM transactions")[0][0] if world.query(
        "SELECT COUNT(*) FROM transactions") else 0


@pytest.mark.slow
@pytest.mark.parametrize("kills", [8])
def test_kill_minus_nine_mid_submit_loses_and_duplicates_nothing(world, kills):
    for round_number in range(kills):
        world.start_gateway()
        before = signed_count(world)
        world.advance(2)
        # kill as soon as a new transaction is signed: it is being sent, or about to be, or awaiting a block
        wait_until(lambda: signed_count(world) > before, 20, f"nothing signed: {world.log_tail()}")
        if round_number % 2:
            world.advance(1, wait=False)  # and a boundary the gateway may or may not have polled yet
        world.kill_gateway()
    world.start_gateway()
    world.advance(1)
    world.wait_delivered(timeout=60)
    first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
    expected = [r for m in world.meters for r in world.expected_readings(m, first, last)]
    posted = world.posted_readings()
    duplicates = [key for key, n in Counter((m, s) for m, s, _, _ in posted).items() if n > 1]
    assert duplicates == []
    assert Counter(posted) == Counter(expected)

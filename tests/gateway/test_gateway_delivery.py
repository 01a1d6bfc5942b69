"""End to end: simulated meters on ptys, a real node, `energy-gateway run` as a process."""
from __future__ import annotations

from collections import Counter

import eth_abi
import pytest

from node_harness import NodeProcess, rpc
from contracts_py import readings
from contracts_py.readings import MeterEventKind, MeterEventReported, ReadingRecorded
from gateway_helpers import HALF_HOUR, make_world
from meter_io.reading import EventKind
from node.crypto import keccak256

RECORDED_TOPIC = "0x" + ReadingRecorded.__event_spec__.topic.hex()
EVENT_TOPIC = "0x" + MeterEventReported.__event_spec__.topic.hex()


@pytest.fixture
def world(solo_network, solo_node, tmp_path):
    world = make_world(solo_network, solo_node, tmp_path / "gw", meters=3)
    yield world
    world.stop_gateway()
    world.sim.stop()


def test_readings_and_a_tamper_event_reach_the_chain_once_and_final(world):
    world.start_gateway()
    world.advance(2)
    tampered = world.meters[1]
    world.sim.models[tampered.serial].raise_event(EventKind.COVER_OPEN)
    world.advance(2)  # the journal shows the opening at both polls: posted once
    world.wait_delivered()
    events = rpc(world.node.url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest",
                                                "topics": [EVENT_TOPIC]})["result"]
    assert [(int(e["topics"][1], 16), int(e["topics"][2], 16)) for e in events] == [
        (tampered.meter_id, MeterEventKind.COVER_OPEN)]
    posted = world.posted_readings()
    first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
    expected = [r for m in world.meters for r in world.expected_readings(m, first, last)]
    assert sorted(posted) == sorted(expected)
    finals = [e for e in world.log_entries() if e.get("msg") == "transaction final"]
    assert finals, world.log_tail()


@pytest.mark.slow
def test_a_day_without_nodes_is_delivered_exactly_once_when_they_return(world, solo_node):
    world.write_config(max_batch=40)  # the catch-up of 144 readings goes in several bounded transactions
    world.start_gateway()
    world.advance(1)
    world.wait_delivered()
    solo_node.stop()
    world.advance(48)  # a simulated day of polls while no node answers
    assert world.query("SELECT COUNT(*) FROM readings") == [(48 * len(world.meters),)]
    assert any(e.get("msg") == "no node reachable; queue kept" for e in world.log_entries())
    back = NodeProcess(solo_node.network, solo_node.datadir)
    back.port, back.url = solo_node.port, solo_node.url
    back.start()
    try:
        world.wait_delivered(timeout=60)
        posted = world.posted_readings()
        first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
        assert (last - first) // HALF_HOUR + 1 == 49
        expected = [r for m in world.meters for r in world.expected_readings(m, first, last)]
        assert Counter(posted) == Counter(expected)  # no duplicates, no gaps, the meters' own values
        logs = rpc(back.url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest",
                                             "topics": [RECORDED_TOPIC]})["result"]
        recorded = Counter((int(log["topics"][1], 16), int(log["topics"][2], 16)) for log in logs)
        assert recorded == Counter((m, s) for m, s, _, _ in expected)
        for meter in world.meters:  # the contract's own view: up to date, no gap, no conflicting value
            state = rpc(back.url, "eth_call", {"to": "0x" + readings.ADDRESS.hex(), "data": "0x" + (
                keccak256(b"meterState(uint64)")[:4] + eth_abi.encode(["uint64"], [meter.meter_id])).hex()},
                "latest")["result"]
            fields = eth_abi.decode(["address", "bool", "bool"] + ["uint64"] * 4 + ["uint256"] * 2 + ["uint64"] * 3,
                                    bytes.fromhex(state[2:]))
            last_start, conflicts, open_gaps = fields[6], fields[9], fields[11]
            assert (last_start, conflicts, open_gaps) == (last, 0, 0)
        sizes = [e["readings"] for e in world.log_entries() if e.get("msg") == "readings signed"]
        assert max(sizes) == 40 and len(sizes) >= 4
    finally:
        world.stop_gateway()
        back.stop()

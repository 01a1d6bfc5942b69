"""Bad input never stops the gateway: garbage on a meter's line, a silent meter, nodes that answer garbage,
errors or forged headers. Each gets a clear per-meter or per-node log entry, and the queue keeps every reading."""
from __future__ import annotations

from collections import Counter

import pytest

from contracts_py.readings import ReadingRecorded
from gateway_helpers import HALF_HOUR, FakeNode, make_world, wait_until
from node_harness import rpc

RECORDED_TOPIC = "0x" + ReadingRecorded.__event_spec__.topic.hex()


@pytest.fixture
def world(solo_network, solo_node, tmp_path):
    world = make_world(solo_network, solo_node, tmp_path / "gw", meters=3)
    yield world
    world.stop_gateway()
    world.sim.stop()


def test_garbage_and_silent_meters_are_logged_and_backfilled_later(world):
    noisy, silent, healthy = world.meters
    world.start_gateway()
    world.advance(1)
    world.sim.faults[noisy.serial].garbage_answers = 10_000
    world.sim.faults[silent.serial].silent = True
    world.advance(3)
    errors = {(e["meter_id"], e["error_type"]) for e in world.log_entries() if e.get("msg") == "meter not read"}
    assert (silent.meter_id, "MeterUnreachable") in errors
    assert any(meter_id == noisy.meter_id and kind in ("FrameError", "CrcError", "MeterUnreachable")
               for meter_id, kind in errors)
    assert world.last_intervals([healthy])[healthy.meter_id] == world.clock.now() - HALF_HOUR
    world.sim.faults[noisy.serial].garbage_answers = 0
    world.sim.faults[silent.serial].silent = False
    world.advance(1)  # both answer again: the three missed intervals come from their profile memory
    world.wait_delivered()
    first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
    expected = [r for m in world.meters for r in world.expected_readings(m, first, last)]
    assert Counter(world.posted_readings()) == Counter(expected)
    assert any(e.get("msg") == "meter answers again" for e in world.log_entries())


def test_bad_nodes_are_skipped_and_a_forged_header_is_never_taken_for_final(world):
    garbage, errors, forger = FakeNode("garbage"), FakeNode("errors"), FakeNode("forge", world.node.url)
    try:
        world.write_config(rpc_urls=[forger.url])  # only a lying node: nothing may be taken as final
        world.start_gateway()
        world.advance(1)
        wait_until(lambda: world.query("SELECT COUNT(*) FROM transactions WHERE state = 'mined'") == [(1,)], 20,
                   f"receipt not seen: {world.log_tail()}")
        wait_until(lambda: any(e.get("msg") == "node gave a bad answer" and "hash" in e.get("error", "")
                               for e in world.log_entries()), 20, world.log_tail())
        assert world.query("SELECT COUNT(*) FROM readings") == [(len(world.meters),)]
        world.stop_gateway()

        world.write_config(rpc_urls=[garbage.url, errors.url, forger.url, world.node.url])
        world.start_gateway()
        world.advance(2)
        world.wait_delivered()
        failed = {e["node"] for e in world.log_entries() if e.get("msg") in ("node failed", "node gave a bad answer")}
        assert {garbage.url, forger.url} <= failed
        assert any(e.get("msg") == "node rejected a call" and e["node"] == errors.url for e in world.log_entries())
        first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
        expected = [r for m in world.meters for r in world.expected_readings(m, first, last)]
        assert Counter(world.posted_readings()) == Counter(expected)
    finally:
        for node in (garbage, errors, forger):
            node.stop()


def test_a_meter_the_chain_does_not_know_reverts_alone_and_keeps_its_readings(world):
    from dataclasses import replace

    stranger = replace(world.meters[0], meter_id=999)  # configured, but never registered on the chain
    world.meters.append(stranger)
    world.write_config(retry_reverted_after_s=0.5)
    world.start_gateway()
    world.advance(2)
    known = world.meters[:3]
    wait_until(lambda: world.query("SELECT COUNT(*) FROM readings WHERE meter_id != 999") == [(0,)], 30,
               f"known meters not delivered: {world.log_tail()}")
    first, last = world.installed_at + HALF_HOUR, world.clock.now() - HALF_HOUR
    expected = [r for m in known for r in world.expected_readings(m, first, last)]
    logs = rpc(world.node.url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest",
                                               "topics": [RECORDED_TOPIC]})["result"]
    recorded = Counter((int(log["topics"][1], 16), int(log["topics"][2], 16)) for log in logs)
    assert recorded == Counter((m, s) for m, s, _, _ in expected)  # each once, after the batch that reverted
    assert world.query("SELECT COUNT(*) FROM readings WHERE meter_id = 999") == [(2,)]  # kept, retried
    assert any(e.get("msg") == "transaction reverted; its readings are kept and retried meter by meter"
               for e in world.log_entries())

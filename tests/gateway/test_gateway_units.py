"""The gateway's pure parts and its refusals, without a node: config, backfill arithmetic, header checks,
queue bookkeeping, and clear errors for a wrong password or a missing port."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from node_harness import ROOT
from meter_io.gateway.config import ConfigError, MeterConfig, load_config, parse_config, render_config
from meter_io.gateway.follower import header_from_json, raw_transaction_from_json
from meter_io.gateway.poller import MeterLink, readings_from_poll
from meter_io.gateway.queue import DurableQueue, QueuedEvent, QueueError, Reading
from meter_io.reading import IntervalRecord, MeterUnreachable
from node.keystore import write_keystore

T0 = 1_795_000_000 // 1800 * 1800


def test_backfill_rebuilds_registers_backwards_from_profile_energy():
    profile = [IntervalRecord(T0 + 1800, 100, 0, 0, 0), IntervalRecord(T0 + 3600, 50, 5, 0, 0)]
    readings = readings_from_poll(7, T0 - 1800, T0 + 3600, 1000, 20, profile)
    assert readings == [Reading(7, T0, 850, 15), Reading(7, T0 + 1800, 950, 15), Reading(7, T0 + 3600, 1000, 20)]


def test_backfill_stops_at_a_missing_profile_record_and_never_repeats_a_known_interval():
    profile = [IntervalRecord(T0 + 3600, 50, 0, 0, 0)]
    assert readings_from_poll(7, T0 - 1800, T0 + 3600, 1000, 0, profile) == [
        Reading(7, T0 + 1800, 950, 0), Reading(7, T0 + 3600, 1000, 0)]
    assert readings_from_poll(7, T0, T0, 1000, 0, profile) == []
    assert readings_from_poll(7, None, T0, 1000, 0, profile) == [Reading(7, T0, 1000, 0)]


def test_backfill_refuses_negative_registers():
    profile = [IntervalRecord(T0 + 1800, 5000, 0, 0, 0)]
    assert readings_from_poll(7, T0 - 1800, T0 + 1800, 1000, 0, profile) == [Reading(7, T0 + 1800, 1000, 0)]


def base_config(tmp_path, **gateway) -> dict:
    section = {"keystore": "key.json", "password_file": "password", "genesis": "genesis.json",
               "queue": "q.sqlite", "rpc": ["http://127.0.0.1:1"]}
    section.update(gateway)
    return {"gateway": section, "meters": [{"meter_id": 1, "protocol": "mercury230", "port": "/dev/x",
                                            "address": 3}]}


def test_config_resolves_paths_and_names_every_mistake(tmp_path):
    config = parse_config(base_config(tmp_path), tmp_path)
    assert config.keystore == tmp_path / "key.json" and config.meters[0].address == 3
    with pytest.raises(ConfigError, match="gateway.rpc"):
        parse_config(base_config(tmp_path, rpc=[]), tmp_path)
    bad_meter = base_config(tmp_path)
    bad_meter["meters"][0]["protocol"] = "m-bus"
    with pytest.raises(ConfigError, match=r"meters\[0\].protocol 'm-bus' is unknown"):
        parse_config(bad_meter, tmp_path)
    twice = base_config(tmp_path)
    twice["meters"] *= 2
    with pytest.raises(ConfigError, match="same meter_id"):
        parse_config(twice, tmp_path)
    with pytest.raises(ConfigError, match="max_batch"):
        parse_config(base_config(tmp_path, max_batch=5000), tmp_path)
    (tmp_path / "broken.toml").write_text("[gateway\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "broken.toml")


def test_rendered_config_reads_back(tmp_path):
    meter = MeterConfig(9, "iec62056_21", "/dev/pts/3", 0, "123", device_address="123", software_parity=True)
    (tmp_path / "g.toml").write_text(render_config(tmp_path / "k", tmp_path / "p", tmp_path / "g",
                                                   tmp_path / "q", ["http://a:1", "http://b:2"], [meter],
                                                   poll_period_s=60, clock_file=tmp_path / "c"))
    config = load_config(tmp_path / "g.toml")
    assert config.meters == (meter,) and config.rpc == ("http://a:1", "http://b:2")
    assert config.poll_period_s == 60 and config.clock_file == tmp_path / "c"


def test_a_config_naming_a_missing_port_gives_a_per_meter_error():
    link = MeterLink(MeterConfig(3, "mercury230", "/dev/does-not-exist", 1), timeout=0.1, attempts=1)
    with pytest.raises(MeterUnreachable, match="/dev/does-not-exist"):
        link.poll(T0, T0, None)


def test_queue_assigns_a_reading_to_one_transaction_and_gives_it_back_on_revert(tmp_path):
    queue = DurableQueue(tmp_path / "q.sqlite")
    readings = [Reading(1, T0, 10, 0), Reading(1, T0 + 1800, 20, 0)]
    assert queue.store_poll(1, readings, [QueuedEvent(1, 1, T0)]) == 1
    assert queue.store_poll(1, readings, [QueuedEvent(1, 1, T0)]) == 0  # the same poll again: nothing new
    assert queue.last_interval(1) == T0 + 1800
    with pytest.raises(QueueError):
        queue.store_signed(0, b"h" * 32, b"raw", readings)  # no nonce learned yet
    queue.set_next_nonce(5)
    queue.store_signed(5, b"h" * 32, b"raw", readings)
    assert queue.unassigned_readings(10, now=1e12) == [] and queue.next_nonce() == 6
    queue.finish(5, succeeded=False, hold_s=0)
    assert [(r, attempts) for r, attempts in queue.unassigned_readings(10, now=1e12)] == [(r, 1) for r in readings]
    queue.store_signed(6, b"i" * 32, b"raw2", readings)
    queue.finish(6, succeeded=True, hold_s=0)
    assert queue.counts()["readings_waiting"] == 0 and queue.counts()["readings_in_transactions"] == 0
    queue.close()


def test_a_tampered_header_does_not_hash_to_its_hash():
    from consensus.seals import BftExtraData
    from node.blocks import Header
    from rpc.formats import header_json

    extra = BftExtraData(bytes(32), (b"\x01" * 20,), None, 0, ()).encode()
    header = Header(b"\x00" * 32, 1, T0, b"\x01" * 20, b"\x02" * 32, b"\x03" * 32, b"\x04" * 32, bytes(256),
                    10**9, 0, extra)
    document = header_json(header, 500)
    assert header_from_json(document) == header
    document["stateRoot"] = "0x" + "05" * 32
    with pytest.raises(ValueError, match="hash"):
        header_from_json(document)


def test_transactions_re_encode_from_their_json():
    from node.transactions import decode_transaction, sign_fee_market_transaction
    from rpc.formats import transaction_json

    raw = sign_fee_market_transaction(b"\x07" * 32, chain_id=7700, nonce=3, to=b"\xee" * 20, data=b"\x01\x02")
    assert raw_transaction_from_json(transaction_json(decode_transaction(raw, 7700), None, None)) == raw


def test_wrong_keystore_password_is_a_clear_error(tmp_path):
    write_keystore(tmp_path / "key.json", b"\x11" * 32, b"right")
    (tmp_path / "password").write_text("wrong\n")
    (tmp_path / "genesis.json").write_text(json.dumps({"validators": ["0x" + "01" * 20], "chainId": 7700}))
    (tmp_path / "g.toml").write_text(render_config(tmp_path / "key.json", tmp_path / "password",
                                                   tmp_path / "genesis.json", tmp_path / "q.sqlite",
                                                   ["http://127.0.0.1:1"], []))
    result = subprocess.run([sys.executable, "-m", "meter_io.cli", "run", "--config", str(tmp_path / "g.toml")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot decrypt" in result.stderr and "key.json" in result.stderr


@pytest.mark.parametrize("protocol, backfills", [("mercury230", True), ("dlms_spodes", True),
                                                 ("modbus_sdm", False), ("iec62056_21", False)])
def test_every_protocol_polls_and_backfills_where_its_meter_keeps_a_profile(protocol, backfills):
    from meter_io.sim_model import SimClock
    from meter_io.simulator import start_simulated_meters

    clock = SimClock(T0)
    with start_simulated_meters(1, protocol, clock=clock, installed_days_ago=1) as sim:
        info = sim.meters[0]
        link = MeterLink(MeterConfig(1, protocol, info.port, info.address, info.serial,
                                     device_address=info.serial if protocol == "iec62056_21" else "",
                                     software_parity=protocol == "iec62056_21"), timeout=1.0, attempts=2)
        try:
            first = link.poll(T0, T0, None).readings
            clock.advance(3 * 1800)
            later = link.poll(T0 + 3 * 1800, T0 + 3 * 1800, first[-1].interval_start).readings
        finally:
            link.close()
    model = sim.models[info.serial]

    def expected(start: int) -> Reading:
        registers = model.registers(start + 1800)
        return Reading(1, start, registers.import_wh, registers.export_wh)

    assert first == [expected(T0 - 1800)]
    starts = [T0, T0 + 1800, T0 + 3600] if backfills else [T0 + 3600]
    assert [r.interval_start for r in later] == starts
    assert later[-1] == expected(T0 + 3600)
    if protocol == "mercury230":  # its profile is exact to the Wh here; others may round per interval
        assert later == [expected(start) for start in starts]


def test_a_meter_answering_with_another_serial_is_not_read():
    from meter_io.reading import MeterError
    from meter_io.simulator import start_simulated_meters

    with start_simulated_meters(1, "mercury230") as sim:
        info = sim.meters[0]
        link = MeterLink(MeterConfig(1, "mercury230", info.port, info.address, "99999999"), timeout=0.5,
                         attempts=1)
        with pytest.raises(MeterError, match=f"answers with serial {info.serial}, configured 99999999"):
            link.poll(T0, T0, None)
        assert link.driver is None

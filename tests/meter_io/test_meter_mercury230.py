"""Mercury 230 driver against the simulated meter over real pty pairs."""
import time

import pytest

from meter_io.line import LineSettings
from meter_io.mercury230 import Mercury230, Mercury230Config, pack_energy_word, unpack_energy_word
from meter_io.reading import (HALF_HOUR, CrcError, EventKind, FrameError, MeterProtocolError,
                              MeterUnreachable)
from meter_io.sim_model import SimClock
from meter_io.simulator import start_simulated_meters

START = 1_780_000_000  # 2026-05-28, a Thursday
TIMEOUT = 0.2


@pytest.fixture
def sim():
    simulator = start_simulated_meters(2, "mercury230", clock=SimClock(START))
    yield simulator
    simulator.stop()


def driver(meter, **overrides):
    config = Mercury230Config(address=meter.address, line=LineSettings(timeout=TIMEOUT), **overrides)
    return Mercury230(meter.port, config)


def test_energy_word_byte_order_is_the_mercury_quirk():
    assert pack_energy_word(0x11223344) == bytes([0x22, 0x11, 0x44, 0x33])
    assert unpack_energy_word(bytes([0x22, 0x11, 0x44, 0x33])) == 0x11223344


def test_snapshot_matches_the_meter_registers(sim):
    meter = sim.meters[0]
    d = driver(meter)
    snapshot = d.read_snapshot()
    d.close()
    expected = sim.models[meter.serial].registers()
    assert snapshot.serial == meter.serial
    assert snapshot.taken_at == START
    assert snapshot.import_wh == expected.import_wh > 0
    assert snapshot.export_wh == expected.export_wh > 0  # meter 1 is a prosumer
    assert snapshot.reactive_import_varh == expected.reactive_import_varh
    assert snapshot.zones_import_wh == expected.zones_import_wh
    assert sum(snapshot.zones_import_wh) == snapshot.import_wh
    assert snapshot.events == ()


def test_registers_advance_over_a_fast_forwarded_day(sim):
    consumer = sim.meters[1]
    d = driver(consumer)
    before = d.read_snapshot()
    sim.clock.advance(86400)
    after = d.read_snapshot()
    d.close()
    assert after.taken_at - before.taken_at == 86400
    assert 5_000 < after.import_wh - before.import_wh < 40_000  # a household day
    assert after.export_wh == before.export_wh == 0  # no PV on this one
    assert after.import_wh == sim.models[consumer.serial].registers().import_wh


def test_backfill_from_profile_memory_matches_register_growth(sim):
    meter = sim.meters[0]
    model = sim.models[meter.serial]
    since = START // HALF_HOUR * HALF_HOUR - 6 * 3600
    d = driver(meter)
    records = d.read_profile(since, START)
    d.close()
    assert [r.start for r in records] == list(range(since, START // HALF_HOUR * HALF_HOUR, HALF_HOUR))
    assert records == model.profile(since, START, capacity=4096)
    until = records[-1].start + HALF_HOUR
    assert sum(r.import_wh for r in records) == model.registers(until).import_wh - model.registers(since).import_wh
    assert sum(r.export_wh for r in records) == model.registers(until).export_wh - model.registers(since).export_wh


def test_backfill_skips_what_the_memory_no_longer_holds(sim):
    meter = sim.meters[0]
    d = driver(meter)
    records = d.read_profile(START - 40 * 86400, START - 29 * 86400)
    d.close()
    installed = sim.models[meter.serial].identity.installed_at
    assert records and records[0].start == installed


def test_one_corrupted_answer_is_retried(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 1
    d = driver(meter)
    assert d.read_serial() == meter.serial
    d.close()


def test_wrong_crc_every_time_gives_crc_error_after_bounded_retries(sim):
    meter = sim.meters[0]
    d = driver(meter)
    d.read_serial()
    sim.faults[meter.serial].corrupt_answers = 100
    started = time.monotonic()
    with pytest.raises(CrcError):
        d.read_serial()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    assert sim.faults[meter.serial].corrupt_answers == 97  # exactly three attempts
    d.close()


def test_noise_before_a_valid_answer_is_skipped(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].noise_before_answers = 100
    sim.faults[meter.serial].noise = bytes([meter.address, 0x00, 0xFF, 0x01])
    d = driver(meter)
    assert d.read_snapshot().serial == meter.serial
    d.close()


def test_garbage_instead_of_answers_gives_frame_error(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].garbage_answers = 100
    d = driver(meter)
    with pytest.raises(FrameError):
        d.read_serial()
    d.close()


def test_silent_meter_is_unreachable_and_the_next_meter_still_answers(sim):
    silent, healthy = sim.meters
    sim.faults[silent.serial].silent = True
    started = time.monotonic()
    d = driver(silent)
    with pytest.raises(MeterUnreachable, match=silent.port):
        d.read_snapshot()
    d.close()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    d = driver(healthy)
    assert d.read_serial() == healthy.serial
    d.close()


def test_wrong_password_is_a_protocol_error(sim):
    d = driver(sim.meters[0], password=b"\x02" * 6)
    with pytest.raises(MeterProtocolError, match="password"):
        d.read_serial()
    d.close()


def test_cover_opening_is_reported_with_its_time(sim):
    meter = sim.meters[0]
    sim.clock.advance(600)
    sim.models[meter.serial].raise_event(EventKind.COVER_OPEN)
    d = driver(meter)
    events = d.read_snapshot().events
    d.close()
    assert [(e.kind, e.at) for e in events] == [(EventKind.COVER_OPEN, START + 600)]


def test_impossible_meter_time_is_refused_not_guessed():
    from meter_io.mercury230 import local_bcd_to_unix

    assert local_bcd_to_unix(bytes([0x00, 0x00, 0x03, 0x01, 0x01, 0x26]), 3 * 3600) == 1_767_225_600
    with pytest.raises(ValueError):
        local_bcd_to_unix(bytes([0x00, 0x00, 0x25, 0x01, 0x01, 0x26]), 0)  # 25 o'clock
    with pytest.raises(ValueError):
        local_bcd_to_unix(bytes([0x0A, 0x00, 0x00, 0x01, 0x01, 0x26]), 0)  # not BCD


def test_a_channel_the_meter_closed_is_reopened_once(sim):
    import serial

    from meter_io.line import with_crc16

    meter = sim.meters[0]
    d = driver(meter)
    assert d.read_serial() == meter.serial
    with serial.Serial(meter.port, timeout=TIMEOUT) as other:  # another master closes the channel
        other.write(with_crc16(bytes([meter.address, 0x02])))
        assert other.read(4) == with_crc16(bytes([meter.address, 0x00]))
    assert d.read_serial() == meter.serial  # status 5 "channel not open", then open and ask again
    d.close()

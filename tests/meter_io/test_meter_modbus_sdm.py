"""Eastron SDM driver (pymodbus client) against the simulated SDM over real pty pairs."""
import struct
import time

import pytest

from meter_io.line import LineSettings
from meter_io.modbus_sdm import EastronSdm, SdmConfig, registers_to_float
from meter_io.reading import CrcError, FrameError, MeterUnreachable, NotSupported, kwh_float_to_wh
from meter_io.sim_model import SimClock
from meter_io.simulator import start_simulated_meters

START = 1_780_000_000
TIMEOUT = 0.2


@pytest.fixture
def sim():
    simulator = start_simulated_meters(2, "modbus_sdm", clock=SimClock(START))
    yield simulator
    simulator.stop()


def driver(meter):
    config = SdmConfig(unit_id=meter.address, line=LineSettings(timeout=TIMEOUT), clock=lambda: START)
    return EastronSdm(meter.port, config)


def test_float32_kwh_becomes_integer_wh_rounding_half_up():
    as_float32 = lambda x: struct.unpack(">f", struct.pack(">f", x))[0]
    assert kwh_float_to_wh(as_float32(1.234)) == 1234  # float32 is 1.2339999..., rounds up
    assert kwh_float_to_wh(0.0005) == 1  # exactly half a Wh (in binary slightly above) rounds up
    assert kwh_float_to_wh(0.25) == 250
    assert kwh_float_to_wh(as_float32(16777.0)) == 16_777_000
    with pytest.raises(ValueError):
        kwh_float_to_wh(float("nan"))
    with pytest.raises(ValueError):
        kwh_float_to_wh(-1.0)


def test_registers_decode_big_endian_float32():
    assert registers_to_float(0x3F80, 0x0000) == 1.0


def test_snapshot_matches_the_meter_registers(sim):
    meter = sim.meters[0]
    d = driver(meter)
    snapshot = d.read_snapshot()
    d.close()
    expected = sim.models[meter.serial].registers()
    assert snapshot.serial == meter.serial
    assert snapshot.taken_at == START
    assert (snapshot.import_wh, snapshot.export_wh, snapshot.reactive_import_varh,
            snapshot.reactive_export_varh) == (expected.import_wh, expected.export_wh,
                                               expected.reactive_import_varh, expected.reactive_export_varh)
    assert snapshot.import_wh > 0 and snapshot.export_wh > 0


def test_day_later_the_registers_have_advanced(sim):
    meter = sim.meters[1]
    d = driver(meter)
    before = d.read_snapshot()
    sim.clock.advance(86400)
    after = d.read_snapshot()
    d.close()
    assert after.import_wh - before.import_wh == (sim.models[meter.serial].registers().import_wh
                                                   - sim.models[meter.serial].registers(START).import_wh) > 0


def test_profile_is_not_supported(sim):
    d = driver(sim.meters[0])
    with pytest.raises(NotSupported):
        d.read_profile(START - 3600, START)
    d.close()


def test_one_corrupted_answer_is_retried(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 1
    d = driver(meter)
    assert d.read_serial() == meter.serial
    d.close()


def test_wrong_crc_every_time_gives_crc_error_after_three_attempts(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 100
    d = driver(meter)
    with pytest.raises(CrcError):
        d.read_serial()
    d.close()
    assert sim.faults[meter.serial].corrupt_answers == 97


def test_noise_before_a_valid_answer_is_skipped(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].noise_before_answers = 100
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


def test_silent_meter_is_unreachable_within_bounded_time(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].silent = True
    d = driver(meter)
    started = time.monotonic()
    with pytest.raises(MeterUnreachable, match=meter.port):
        d.read_snapshot()
    assert time.monotonic() - started < 3 * TIMEOUT + 1.0
    d.close()

"""IEC 62056-21 mode C driver against the simulated meter over real pty pairs (software 7E1)."""
import time

import pytest

from meter_io.iec62056_21 import (Framing, IecConfig, Iec62056Meter, add_parity, energy_to_wh,
                                  parse_data_block, strip_parity)
from meter_io.line import LineSettings
from meter_io.reading import CrcError, EventKind, FrameError, MeterEvent, MeterUnreachable, NotSupported
from meter_io.sim_model import SimClock
from meter_io.simulator import start_simulated_meters

START = 1_780_000_000
TIMEOUT = 0.2


@pytest.fixture
def sim():
    simulator = start_simulated_meters(2, "iec62056_21", clock=SimClock(START))
    yield simulator
    simulator.stop()


def driver(meter, address=None):
    config = IecConfig(address=meter.serial if address is None else address, framing=Framing.SOFT_7E1,
                       line=LineSettings(baudrate=300, timeout=TIMEOUT))
    return Iec62056Meter(meter.port, config)


def test_software_parity_is_even_and_checked():
    assert add_parity(b"\x03") == b"\x03" and add_parity(b"\x01") == b"\x81"
    assert strip_parity(add_parity(b"/?!\r\n")) == b"/?!\r\n"
    assert strip_parity(b"\x01") == b"\x00"  # odd parity: refused


def test_decimal_kwh_becomes_exact_integer_wh():
    assert energy_to_wh("001234.567", "kwh") == 1_234_567
    assert energy_to_wh("0.0005", "kwh") == 1  # half a Wh rounds up
    assert energy_to_wh("0.0004", "kwh") == 0
    assert energy_to_wh("17", "wh") == 17
    with pytest.raises(ValueError):
        energy_to_wh("12.5", "litres")
    with pytest.raises(ValueError):
        energy_to_wh("-1", "kwh")


def test_data_block_lines_are_parsed_and_junk_is_refused():
    assert parse_data_block("1.8.0(000001.000*kWh)\r\nC.1.0(42)\r\n!\r\n") == {
        "1.8.0": ("000001.000", "kwh"), "C.1.0": ("42", "")}
    with pytest.raises(ValueError):
        parse_data_block("hello\r\n")


def test_snapshot_matches_the_meter_registers(sim):
    meter = sim.meters[0]
    d = driver(meter)
    snapshot = d.read_snapshot()
    d.close()
    expected = sim.models[meter.serial].registers()
    assert snapshot.serial == meter.serial
    assert snapshot.taken_at == START
    assert snapshot.import_wh == expected.import_wh
    assert snapshot.export_wh == expected.export_wh > 0
    assert snapshot.reactive_import_varh == expected.reactive_import_varh
    assert snapshot.reactive_export_varh == expected.reactive_export_varh
    assert snapshot.zones_import_wh == expected.zones_import_wh
    assert snapshot.events == ()


def test_sign_on_without_address_reaches_the_only_meter(sim):
    d = driver(sim.meters[1], address="")
    assert d.read_serial() == sim.meters[1].serial
    d.close()


def test_firmware_failure_flag_becomes_an_event(sim):
    meter = sim.meters[0]
    sim.models[meter.serial].raise_event(EventKind.FIRMWARE_INTEGRITY)
    d = driver(meter)
    assert d.read_snapshot().events == (MeterEvent(EventKind.FIRMWARE_INTEGRITY, None),)
    d.close()


def test_profile_is_not_supported(sim):
    d = driver(sim.meters[0])
    with pytest.raises(NotSupported):
        d.read_profile(START - 3600, START)
    d.close()


def test_wrong_bcc_every_time_gives_crc_error_after_three_attempts(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 100
    d = driver(meter)
    with pytest.raises(CrcError):
        d.read_snapshot()
    d.close()
    assert sim.faults[meter.serial].corrupt_answers == 94  # three identifications, three data messages


def test_noise_instead_of_answers_gives_frame_error(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].garbage_answers = 100
    d = driver(meter)
    with pytest.raises(FrameError):
        d.read_snapshot()
    d.close()


def test_noise_before_answers_is_skipped(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].noise_before_answers = 100
    sim.faults[meter.serial].noise = b"\x02\x00garbage\x03\x7f"
    d = driver(meter)
    assert d.read_snapshot().serial == meter.serial
    d.close()


def test_one_corrupted_answer_is_retried(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 1
    d = driver(meter)
    assert d.read_serial() == meter.serial
    d.close()


def test_silent_meter_is_unreachable_within_bounded_time(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].silent = True
    d = driver(meter)
    started = time.monotonic()
    with pytest.raises(MeterUnreachable):
        d.read_snapshot()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    d.close()

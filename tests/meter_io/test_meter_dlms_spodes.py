"""DLMS/COSEM SPODES driver (dlms-cosem client over HDLC) against the simulated meter over real pty pairs."""
import time

import pytest

from meter_io.dlms_spodes import DlmsConfig, DlmsSpodesMeter, fcs_ok, register_to_int
from meter_io.line import LineSettings
from meter_io.reading import HALF_HOUR, CrcError, FrameError, MeterProtocolError, MeterUnreachable
from meter_io.sim_model import SimClock
from meter_io.simulator import start_simulated_meters

START = 1_780_000_000
TIMEOUT = 0.2


@pytest.fixture
def sim():
    simulator = start_simulated_meters(2, "dlms_spodes", clock=SimClock(START))
    yield simulator
    simulator.stop()


def driver(meter, **overrides):
    config = DlmsConfig(physical_address=meter.address,
                        line=LineSettings(timeout=TIMEOUT), **overrides)
    return DlmsSpodesMeter(meter.port, config)


def test_register_scaler_gives_exact_integer_wh():
    assert register_to_int(1234, 0, 30) == 1234
    assert register_to_int(1234, 3, 30) == 1_234_000  # kWh registers
    assert register_to_int(12345, -1, 32) == 1235  # 1234.5 varh rounds half up
    with pytest.raises(ValueError):
        register_to_int(1, 0, 27)  # W is not an energy unit


def test_fcs_check_of_a_known_ua_frame():
    ua = bytes.fromhex("7ea00841022373 9eda7e".replace(" ", ""))
    assert fcs_ok(ua)
    assert not fcs_ok(ua[:-3] + b"\x00" + ua[-2:])


def test_snapshot_matches_the_meter_registers(sim):
    meter = sim.meters[0]
    d = driver(meter)
    snapshot = d.read_snapshot()
    d.close()
    expected = sim.models[meter.serial].registers()
    assert snapshot.serial == meter.serial
    assert snapshot.taken_at == START
    assert (snapshot.import_wh, snapshot.export_wh, snapshot.reactive_import_varh,
            snapshot.reactive_export_varh, snapshot.zones_import_wh) == (
        expected.import_wh, expected.export_wh, expected.reactive_import_varh, expected.reactive_export_varh,
        expected.zones_import_wh)


def test_each_meter_answers_its_own_hdlc_address(sim):
    for meter in sim.meters:
        d = driver(meter)
        assert d.read_serial() == meter.serial
        d.close()


def test_registers_advance_with_the_clock(sim):
    meter = sim.meters[1]
    d = driver(meter)
    before = d.read_snapshot()
    sim.clock.advance(86400)
    after = d.read_snapshot()
    d.close()
    assert after.taken_at == START + 86400
    assert after.import_wh > before.import_wh


def test_backfill_from_the_load_profile_matches_register_growth(sim):
    meter = sim.meters[0]
    model = sim.models[meter.serial]
    sim.clock.advance(86400)
    until = sim.clock.now() // HALF_HOUR * HALF_HOUR
    since = until - 86400
    d = driver(meter)
    records = d.read_profile(since, until)  # 48 rows: the answer spans many HDLC segments
    d.close()
    assert [r.start for r in records] == list(range(since, until, HALF_HOUR))
    assert records == model.profile(since, until, capacity=4096)
    assert sum(r.import_wh for r in records) == model.registers(until).import_wh - model.registers(since).import_wh
    assert sum(r.export_wh for r in records) > 0


def test_backfill_of_an_empty_range_asks_nothing(sim):
    d = driver(sim.meters[0])
    assert d.read_profile(START, START) == []
    d.close()


def test_wrong_password_is_refused(sim):
    d = driver(sim.meters[0], password=b"00000000")
    with pytest.raises(MeterProtocolError):
        d.read_serial()
    d.close()


def test_one_corrupted_frame_is_retried(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 1
    d = driver(meter)
    assert d.read_serial() == meter.serial
    d.close()


def test_wrong_fcs_every_time_gives_crc_error(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 100
    d = driver(meter)
    with pytest.raises(CrcError):
        d.read_serial()
    d.close()
    assert sim.faults[meter.serial].corrupt_answers == 97


def test_noise_before_frames_is_skipped(sim):
    meter = sim.meters[0]
    sim.faults[meter.serial].noise_before_answers = 100
    sim.faults[meter.serial].noise = b"\x00\xff\x13\xa0\x01\x55"
    d = driver(meter)
    assert d.read_snapshot().serial == meter.serial
    d.close()


def test_garbage_instead_of_frames_gives_frame_error(sim):
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
    with pytest.raises(MeterUnreachable):
        d.read_serial()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5
    d.close()


def test_tamper_status_objects_become_events(sim):
    from meter_io.reading import EventKind, MeterEvent

    meter = sim.meters[0]
    d = driver(meter)
    assert d.read_snapshot().events == ()
    sim.models[meter.serial].raise_event(EventKind.MAGNETIC_FIELD)
    sim.models[meter.serial].raise_event(EventKind.COVER_OPEN)
    events = d.read_snapshot().events  # the model lacks 0.0.96.51.1.255: skipped, not an error
    d.close()
    assert events == (MeterEvent(EventKind.COVER_OPEN, None), MeterEvent(EventKind.MAGNETIC_FIELD, None))

"""CAN meter driver against simulated meters on a python-can virtual bus."""
import time

import can
import pytest

from meter_io.can_meter import RESPONSE_BASE, CanMeter, CanMeterConfig, crc8, request_frame
from meter_io.reading import HALF_HOUR, CrcError, EventKind, FrameError, MeterUnreachable
from meter_io.sim_model import SimClock
from meter_io.simulator import start_simulated_meters

START = 1_780_000_000
TIMEOUT = 0.2


@pytest.fixture
def sim():
    simulator = start_simulated_meters(2, "can", clock=SimClock(START))
    yield simulator
    simulator.stop()


@pytest.fixture
def bus(sim):
    gateway_bus = can.Bus(interface="virtual", channel=sim.meters[0].port)
    yield gateway_bus
    gateway_bus.shutdown()


def driver(bus, meter):
    return CanMeter(bus, CanMeterConfig(node_id=meter.address, timeout=TIMEOUT))


def test_crc8_matches_the_smbus_check_value():
    assert crc8(b"123456789") == 0xF4
    frame = request_frame(1, 0x20, 7, 9)
    assert len(frame) == 8 and crc8(frame[:7]) == frame[7]


def test_snapshot_matches_the_meter_registers(sim, bus):
    meter = sim.meters[0]
    snapshot = driver(bus, meter).read_snapshot()
    expected = sim.models[meter.serial].registers()
    assert snapshot.serial == meter.serial
    assert snapshot.taken_at == START
    assert (snapshot.import_wh, snapshot.export_wh, snapshot.reactive_import_varh,
            snapshot.reactive_export_varh, snapshot.zones_import_wh) == (
        expected.import_wh, expected.export_wh, expected.reactive_import_varh, expected.reactive_export_varh,
        expected.zones_import_wh)
    assert snapshot.export_wh > 0


def test_two_meters_share_one_bus(sim, bus):
    serials = [driver(bus, meter).read_serial() for meter in sim.meters]
    assert serials == [meter.serial for meter in sim.meters]


def test_events_are_reported(sim, bus):
    meter = sim.meters[1]
    sim.models[meter.serial].raise_event(EventKind.POWER_LOSS)
    sim.models[meter.serial].raise_event(EventKind.COVER_OPEN)
    kinds = {event.kind for event in driver(bus, meter).read_snapshot().events}
    assert kinds == {EventKind.POWER_LOSS, EventKind.COVER_OPEN}


def test_backfill_from_profile(sim, bus):
    meter = sim.meters[0]
    sim.clock.advance(86400)
    until = sim.clock.now() // HALF_HOUR * HALF_HOUR
    records = driver(bus, meter).read_profile(until - 3 * 3600, until + HALF_HOUR)
    assert records == sim.models[meter.serial].profile(until - 3 * 3600, until + HALF_HOUR, capacity=4096)
    assert len(records) == 6


def test_wrong_crc_every_time_gives_crc_error(sim, bus):
    meter = sim.meters[0]
    sim.faults[meter.serial].corrupt_answers = 100
    with pytest.raises(CrcError):
        driver(bus, meter).read_serial()
    assert sim.faults[meter.serial].corrupt_answers == 97


def test_noise_frames_before_the_answer_are_skipped(sim, bus):
    meter = sim.meters[0]
    sim.faults[meter.serial].noise_before_answers = 100
    assert driver(bus, meter).read_snapshot().serial == meter.serial


def test_malformed_answers_give_frame_error(sim, bus):
    meter = sim.meters[0]
    sim.faults[meter.serial].garbage_answers = 100
    with pytest.raises(FrameError):
        driver(bus, meter).read_serial()


def test_silent_meter_is_unreachable_within_bounded_time(sim, bus):
    meter = sim.meters[0]
    sim.faults[meter.serial].silent = True
    started = time.monotonic()
    with pytest.raises(MeterUnreachable):
        driver(bus, meter).read_serial()
    assert time.monotonic() - started < 3 * TIMEOUT + 0.5


def test_a_late_answer_is_not_taken_for_the_next_request(sim, bus):
    meter = sim.meters[0]
    stale = can.Message(arbitration_id=RESPONSE_BASE + meter.address, is_extended_id=False,
                        data=bytes([0x20, 0, 1, 0, 0, 0, 1]) + bytes([crc8(bytes([0x20, 0, 1, 0, 0, 0, 1]))]))
    other = can.Bus(interface="virtual", channel=meter.port)
    other.send(stale)  # answers serial = 1 to sequence 1, before the driver asks anything
    other.shutdown()
    assert driver(bus, meter).read_serial() == meter.serial

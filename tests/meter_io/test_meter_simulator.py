"""The meter simulator: its energy model, its lifecycle, and every protocol through `open_meter`."""
import os
import threading

import pytest

from meter_io.drivers import PROTOCOLS, open_meter
from meter_io.reading import HALF_HOUR
from meter_io.sim_model import (DAY, MeterIdentity, SimClock, SimulatedMeter, household_load_w, pv_output_w,
                                slot_energy)
from meter_io.simulator import start_simulated_meters

START = 1_780_000_000  # 2026-05-28 20:26:40 UTC
MSK = 3 * 3600


def local_slot(day_start_utc: int, hour: int) -> int:
    """Half-hour number of `hour`:00 Moscow time on the day starting (UTC) at `day_start_utc`."""
    return (day_start_utc + hour * 3600 - MSK) // HALF_HOUR


def test_household_load_has_morning_and_evening_peaks():
    night, morning, day, evening = (household_load_w(h * 60) for h in (3, 8, 12, 20))
    assert morning > day > night and evening > morning


def test_pv_exports_only_around_midday_and_only_for_prosumers():
    day = START // DAY * DAY
    prosumer = MeterIdentity("41000001", 1, day - DAY, prosumer=True)
    consumer = MeterIdentity("41000002", 2, day - DAY, prosumer=False)
    assert pv_output_w(3 * 60) == 0 and pv_output_w(13 * 60) == 3000
    assert slot_energy(prosumer, local_slot(day, 13)).export_wh > 0
    assert slot_energy(prosumer, local_slot(day, 2)).export_wh == 0
    assert all(slot_energy(consumer, s).export_wh == 0 for s in range(local_slot(day, 0), local_slot(day, 24)))


def test_registers_are_the_sum_of_half_hours_whatever_the_order_of_reads():
    clock = SimClock(START)
    identity = MeterIdentity("41000003", 3, START - 2 * DAY, prosumer=True)
    meter = SimulatedMeter(identity, clock)
    clock.advance(DAY)
    late = meter.registers()
    early = meter.registers(START)  # behind the cache: recomputed from installation
    fresh = SimulatedMeter(identity, SimClock(START)).registers()
    assert early == fresh
    boundary = START // HALF_HOUR * HALF_HOUR
    slots = range(boundary // HALF_HOUR, (START + DAY) // HALF_HOUR)
    whole = sum(slot_energy(identity, s).import_wh for s in slots)
    end = (START + DAY) // HALF_HOUR * HALF_HOUR
    assert meter.registers(end).import_wh - meter.registers(boundary).import_wh == whole
    assert late.import_wh == sum(late.zones_import_wh)


def test_unknown_protocol_and_bad_counts_are_refused():
    with pytest.raises(ValueError, match="unknown protocol"):
        start_simulated_meters(1, "zigbee")
    with pytest.raises(ValueError):
        start_simulated_meters(0, "mercury230")


def test_stop_ends_the_thread_and_closes_the_ports():
    before = {t.name for t in threading.enumerate()}
    sim = start_simulated_meters(2, "mercury230", clock=SimClock(START))
    ports = [meter.port for meter in sim]
    assert all(os.path.exists(port) for port in ports)
    sim.stop()
    sim.stop()  # idempotent
    assert {t.name for t in threading.enumerate()} <= before
    assert not any(os.path.exists(port) for port in ports)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocol_reads_every_meter_through_open_meter(protocol):
    clock = SimClock(START)
    with start_simulated_meters(3, protocol, clock=clock) as sim:
        clock.advance(DAY)
        for meter in sim:
            driver = open_meter(protocol, meter.port, meter.address, device_address=meter.serial, timeout=0.3,
                                software_parity=True, can_interface="virtual")
            try:
                snapshot = driver.read_snapshot()
            finally:
                driver.close()
            expected = sim.models[meter.serial].registers()
            assert snapshot.serial == meter.serial
            assert (snapshot.import_wh, snapshot.export_wh) == (expected.import_wh, expected.export_wh)
            assert (snapshot.export_wh > 0) == meter.prosumer


@pytest.mark.parametrize("protocol", ["mercury230", "iec62056_21", "dlms_spodes"])
def test_a_missing_port_makes_the_meter_unreachable(protocol, tmp_path):
    from meter_io.reading import MeterUnreachable

    with pytest.raises(MeterUnreachable, match="cannot open"):
        open_meter(protocol, str(tmp_path / "ttyUSB9"), 17, timeout=0.1)


def test_a_pty_that_does_not_take_7e1_is_refused_rather_than_misread():
    from meter_io.reading import MeterUnreachable

    with start_simulated_meters(1, "iec62056_21", clock=SimClock(START)) as sim:
        with pytest.raises(MeterUnreachable, match="SOFT_7E1"):
            open_meter("iec62056_21", sim.meters[0].port, 1, software_parity=False)


@pytest.mark.parametrize("protocol", ["mercury230", "modbus_sdm", "iec62056_21", "dlms_spodes"])
def test_meters_sharing_one_line_each_answer_their_own_address(protocol):
    with start_simulated_meters(3, protocol, clock=SimClock(START), shared_line=True) as sim:
        assert len({meter.port for meter in sim}) == 1
        for meter in sim:  # one driver open at a time, as a poller on a bus does
            driver = open_meter(protocol, meter.port, meter.address, device_address=meter.serial, timeout=0.3,
                                software_parity=True)
            try:
                assert driver.read_snapshot().serial == meter.serial
            finally:
                driver.close()

"""The energy a simulated meter has measured: a deterministic household load profile integrated over time.

Everything here is a pure function of the meter's identity and the time, so a test that fast-forwards the
clock by a day knows exactly what the registers must read. Power is constant within each half hour (the
profile's resolution); the registers advance linearly inside the current half hour.
"""
from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field

from meter_io.reading import HALF_HOUR, EventKind, IntervalRecord, MeterEvent

DAY = 86400
NIGHT_ZONE_HOURS = frozenset(range(0, 7)) | {23}
"""Local hours of the night zone T2 of the two-zone household tariff; the rest of the day is T1."""


class SimClock:
    """A clock tests can fast-forward; `now()` is unix seconds. Thread-safe."""

    def __init__(self, start: int) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            return self._now

    def advance(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds


class WallClock:
    """The host's clock, for running the simulator against a real gateway."""

    def now(self) -> int:
        return int(time.time())


@dataclass(frozen=True)
class MeterIdentity:
    """What makes one simulated meter differ from another."""

    serial: str
    """Factory number; also seeds the load profile."""
    address: int
    """Bus address (Mercury network address, Modbus unit id, CAN node id)."""
    installed_at: int
    """Unix seconds from which the registers count; aligned down to a half hour."""
    prosumer: bool = False
    """Whether a PV array exports energy around midday."""
    utc_offset: int = 3 * 3600
    """The meter clock's offset from UTC in seconds (Moscow time by default)."""


@dataclass(frozen=True)
class SlotEnergy:
    """Energy of one half hour, Wh / varh."""

    import_wh: int
    export_wh: int
    reactive_import_varh: int
    reactive_export_varh: int


def _jitter(serial: str, slot: int, salt: str, spread_percent: int) -> int:
    """A deterministic percentage in 100 +- spread for (meter, slot)."""
    digest = zlib.crc32(f"{serial}:{salt}:{slot}".encode())
    return 100 - spread_percent + digest % (2 * spread_percent + 1)


def household_load_w(local_minute_of_day: int) -> int:
    """Average household load in W: a night base, a morning peak 7-9 and an evening peak 18-22."""
    hour = local_minute_of_day // 60
    if 7 <= hour < 9:
        return 1400
    if 18 <= hour < 22:
        return 2200
    if 9 <= hour < 18:
        return 600
    if hour in (22, 6):
        return 500
    return 180


def pv_output_w(local_minute_of_day: int) -> int:
    """PV array output in W: zero at night, a triangle peaking at 3 kW at 13:00 local, from 7:00 to 19:00."""
    distance = abs(local_minute_of_day - 13 * 60)
    return max(0, 3000 * (360 - distance) // 360)


def slot_energy(meter: MeterIdentity, slot: int) -> SlotEnergy:
    """Energy of half hour number `slot` (unix seconds // 1800) for `meter`; net metering within the slot."""
    local_minute = ((slot * HALF_HOUR + meter.utc_offset) % DAY) // 60
    load = household_load_w(local_minute) * _jitter(meter.serial, slot, "load", 25) // 100
    pv = pv_output_w(local_minute) * _jitter(meter.serial, slot, "pv", 40) // 100 if meter.prosumer else 0
    net_wh = (load - pv) // 2  # W over half an hour = Wh / 2
    import_wh, export_wh = max(net_wh, 0), max(-net_wh, 0)
    return SlotEnergy(import_wh, export_wh, import_wh * 3 // 10, export_wh // 20)


def slot_zone(meter: MeterIdentity, slot: int) -> int:
    """Tariff zone index (0 = T1 day, 1 = T2 night) of a half hour by the meter's local time."""
    local_hour = ((slot * HALF_HOUR + meter.utc_offset) % DAY) // 3600
    return 1 if local_hour in NIGHT_ZONE_HOURS else 0


@dataclass(frozen=True)
class Registers:
    """Cumulative registers at an instant."""

    import_wh: int
    export_wh: int
    reactive_import_varh: int
    reactive_export_varh: int
    zones_import_wh: tuple[int, int]


@dataclass
class SimulatedMeter:
    """A virtual meter: its identity, its running totals and what faults and events it shows.

    Totals of whole half hours are cached incrementally so reading after a fast-forward of days stays cheap.
    Mutable on purpose (the simulator thread and the test share it); the lock guards the cache.
    """

    identity: MeterIdentity
    clock: SimClock | WallClock
    events: list[MeterEvent] = field(default_factory=list)
    """Flags the meter reports; tests append to raise tamper, power loss or firmware failure."""
    _cached_slot: int = field(init=False, repr=False, default=0)
    _cached: tuple[int, int, int, int, int, int] = field(init=False, repr=False, default=(0, 0, 0, 0, 0, 0))
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cached_slot = self.identity.installed_at // HALF_HOUR

    @property
    def serial(self) -> str:
        return self.identity.serial

    def raise_event(self, kind: EventKind) -> None:
        """Record `kind` at the current meter time."""
        self.events.append(MeterEvent(kind, self.clock.now()))

    def registers(self, at: int | None = None) -> Registers:
        """Cumulative registers at unix second `at` (default: now)."""
        at = self.clock.now() if at is None else at
        slot, into_slot = divmod(at, HALF_HOUR)
        with self._lock:
            if slot < self._cached_slot:
                totals, start = (0, 0, 0, 0, 0, 0), self.identity.installed_at // HALF_HOUR
            else:
                totals, start = self._cached, self._cached_slot
            for s in range(start, slot):
                totals = _add_slot(totals, slot_energy(self.identity, s), slot_zone(self.identity, s))
            if slot >= self._cached_slot:
                self._cached, self._cached_slot = totals, slot
        if slot >= self.identity.installed_at // HALF_HOUR:
            part = slot_energy(self.identity, slot)
            partial = SlotEnergy(*(value * into_slot // HALF_HOUR for value in
                                   (part.import_wh, part.export_wh, part.reactive_import_varh,
                                    part.reactive_export_varh)))
            totals = _add_slot(totals, partial, slot_zone(self.identity, slot))
        a_plus, a_minus, r_plus, r_minus, t1, t2 = totals
        return Registers(a_plus, a_minus, r_plus, r_minus, (t1, t2))

    def profile(self, since: int, until: int, capacity: int) -> list[IntervalRecord]:
        """Completed half hours in [since, until) still held in a profile memory of `capacity` records."""
        now_slot = self.clock.now() // HALF_HOUR
        first = max(since // HALF_HOUR + (since % HALF_HOUR > 0), now_slot - capacity,
                    self.identity.installed_at // HALF_HOUR)
        last = min((until - 1) // HALF_HOUR, now_slot - 1)
        records = []
        for slot in range(first, last + 1):
            energy = slot_energy(self.identity, slot)
            records.append(IntervalRecord(slot * HALF_HOUR, energy.import_wh, energy.export_wh,
                                          energy.reactive_import_varh, energy.reactive_export_varh))
        return records


def _add_slot(totals: tuple[int, int, int, int, int, int], energy: SlotEnergy,
              zone: int) -> tuple[int, int, int, int, int, int]:
    a_plus, a_minus, r_plus, r_minus, t1, t2 = totals
    return (a_plus + energy.import_wh, a_minus + energy.export_wh, r_plus + energy.reactive_import_varh,
            r_minus + energy.reactive_export_varh, t1 + (energy.import_wh if zone == 0 else 0),
            t2 + (energy.import_wh if zone == 1 else 0))

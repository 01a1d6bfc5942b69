"""Reading the meters at an interval boundary: registers for the interval that just ended, backfill from the
meter's profile memory for intervals missed before, and the meter's status flags as chain events.

A reading is the pair of cumulative registers (A+, A-) at the end of a half hour, labelled by the interval's
start, as the readings contract takes it. The gateway's clock (NTP on the Pi) decides the boundary; a poll later
than `on_time_s` after it is not used as that boundary's registers (they would carry energy of the next
interval); the next on-time poll backfills the missed intervals from the profile, where the meter keeps one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from contracts_py.readings import MeterEventKind
from meter_io.drivers import open_meter
from meter_io.gateway.config import MeterConfig
from meter_io.gateway.queue import QueuedEvent, Reading
from meter_io.reading import HALF_HOUR, EventKind, IntervalRecord, MeterDriver, MeterError, NotSupported

log = logging.getLogger("energy_gateway.poller")

EVENT_KINDS = {EventKind.COVER_OPEN: MeterEventKind.COVER_OPEN, EventKind.POWER_LOSS: MeterEventKind.POWER_LOSS,
               EventKind.FIRMWARE_INTEGRITY: MeterEventKind.FIRMWARE_INTEGRITY_FAILURE,
               EventKind.MAGNETIC_FIELD: MeterEventKind.MAGNETIC_FIELD}
"""Meter status flags that the readings contract records as alarms; unreachable meters and clock drift have no
contract event and go to the log."""

MAX_BACKFILL_INTERVALS = 62 * 48
"""Two months of half hours: the deepest backfill asked of a meter in one poll."""


def readings_from_poll(meter_id: int, last_interval: int | None, interval: int, import_wh: int, export_wh: int,
                       profile: list[IntervalRecord]) -> list[Reading]:
    """The readings a poll yields: the interval that just ended, preceded by the intervals after
    `last_interval` rebuilt backwards from the profile's per-interval energy (oldest first).

    Backfill stops at the first interval the profile lacks or that would make a register negative."""
    if last_interval is not None and interval <= last_interval:
        return []
    readings = [Reading(meter_id, interval, import_wh, export_wh)]
    energy = {record.start: record for record in profile}
    start, a_plus, a_minus = interval, import_wh, export_wh
    while last_interval is not None and start - HALF_HOUR > last_interval:
        record = energy.get(start)
        if record is None:
            break
        a_plus, a_minus = a_plus - record.import_wh, a_minus - record.export_wh
        if a_plus < 0 or a_minus < 0:
            break
        start -= HALF_HOUR
        readings.append(Reading(meter_id, start, a_plus, a_minus))
    readings.reverse()
    return readings


@dataclass
class MeterPoll:
    """What one poll of one meter gave."""

    readings: list[Reading] = field(default_factory=list)
    events: list[QueuedEvent] = field(default_factory=list)
    drift_s: int = 0


class MeterLink:
    """One configured meter: its driver, opened on demand and reopened after a failure."""

    def __init__(self, config: MeterConfig, timeout: float, attempts: int) -> None:
        self.config = config
        self.timeout = timeout
        self.attempts = attempts
        self.driver: MeterDriver | None = None
        self.failures = 0
        """Consecutive failed polls, for the log."""
        self._untimed_events: set[EventKind] = set()

    def _open(self) -> MeterDriver:
        if self.driver is None:
            c = self.config
            self.driver = open_meter(c.protocol, c.port, c.address, device_address=c.device_address,
                                     timeout=self.timeout, attempts=self.attempts,
                                     software_parity=c.software_parity, can_interface=c.can_interface)
            if c.serial:
                serial = self.driver.read_serial()
                if serial.lstrip("0") != c.serial.lstrip("0"):
                    self.close()
                    raise MeterError(f"{c.port}#{c.address}", f"answers with serial {serial}, configured "
                                     f"{c.serial}: wrong meter at this address, not read")
        return self.driver

    def close(self) -> None:
        if self.driver is not None:
            try:
                self.driver.close()
            except (OSError, MeterError):
                pass
            self.driver = None

    def poll(self, boundary: int, now: int, last_interval: int | None) -> MeterPoll:
        """Read the meter for the boundary `boundary`; MeterError (typed, naming the meter) on failure."""
        try:
            driver = self._open()
            snapshot = driver.read_snapshot()
            interval = boundary - HALF_HOUR
            profile: list[IntervalRecord] = []
            if last_interval is not None and interval - last_interval > HALF_HOUR:
                since = max(last_interval + 2 * HALF_HOUR, interval - MAX_BACKFILL_INTERVALS * HALF_HOUR)
                try:
                    profile = driver.read_profile(since, interval + HALF_HOUR)
                except NotSupported:
                    log.info("meter keeps no profile; missed intervals stay a gap",
                             extra={"fields": {"meter_id": self.config.meter_id,
                                               "missed": (interval - last_interval) // HALF_HOUR - 1}})
        except MeterError:
            self.close()
            raise
        except OSError as exc:  # a line that vanished under an open driver
            self.close()
            raise MeterError(f"{self.config.port}#{self.config.address}", f"line failed: {exc}") from exc
        result = MeterPoll(drift_s=snapshot.taken_at - now)
        result.readings = readings_from_poll(self.config.meter_id, last_interval, interval, snapshot.import_wh,
                                             snapshot.export_wh, profile)
        for event in snapshot.events:
            kind = EVENT_KINDS.get(event.kind)
            if kind is None:
                continue
            if event.at is None:  # a flag without a time: report when it first shows in this run
                if event.kind in self._untimed_events:
                    continue
                self._untimed_events.add(event.kind)
            result.events.append(QueuedEvent(self.config.meter_id, int(kind), event.at or now))
        return result

"""The reading interface every meter driver implements, and the errors it raises.

A gateway polls many meters on one line; one bad meter must never stop the others, so every failure is a
typed `MeterError` that names the meter, and transient line faults are retried a bounded number of times
(`with_retries`) before the driver gives up with `MeterUnreachable` (silence) or the last framing error.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Protocol, TypeVar

HALF_HOUR = 1800
"""Length of one metering interval in seconds (the market settles by half hours)."""


class EventKind(enum.Enum):
    """Status flags a meter reports that matter for billing and for trusting its readings."""

    COVER_OPEN = "cover_open"
    """Terminal or case cover opened (tamper)."""
    POWER_LOSS = "power_loss"
    """The meter lost supply voltage."""
    FIRMWARE_INTEGRITY = "firmware_integrity"
    """The meter's self test found its firmware checksum wrong."""
    MAGNETIC_FIELD = "magnetic_field"
    """A strong magnetic field was detected (tamper)."""


@dataclass(frozen=True)
class MeterEvent:
    """One status flag with the meter-clock time it was last raised (None when the protocol has no time)."""

    kind: EventKind
    """What happened."""
    at: int | None
    """Unix seconds by the meter's clock, or None."""


@dataclass(frozen=True)
class MeterSnapshot:
    """Cumulative registers of one meter at one instant, all in integer Wh / varh."""

    serial: str
    """Factory serial number as the meter reports it."""
    taken_at: int
    """Unix seconds by the meter's own clock (the host clock for meters that have none, see the driver)."""
    import_wh: int
    """A+: active energy imported from the grid since reset, sum of all tariff zones."""
    export_wh: int
    """A-: active energy exported (prosumers); 0 for meters that do not measure it."""
    reactive_import_varh: int
    """R+: reactive energy, inductive."""
    reactive_export_varh: int
    """R-: reactive energy, capacitive."""
    zones_import_wh: tuple[int, ...] = ()
    """A+ per tariff zone T1, T2, ... where the meter keeps zones; empty otherwise."""
    events: tuple[MeterEvent, ...] = ()
    """Status flags currently raised or recorded by the meter."""


@dataclass(frozen=True)
class IntervalRecord:
    """Energy of one half-hour interval from the meter's profile memory, used to backfill missed polls."""

    start: int
    """Unix seconds (meter clock) at which the interval starts; a multiple of `HALF_HOUR`."""
    import_wh: int
    """A+ in the interval."""
    export_wh: int
    """A- in the interval."""
    reactive_import_varh: int
    """R+ in the interval."""
    reactive_export_varh: int
    """R- in the interval."""


class MeterDriver(Protocol):
    """What the gateway needs from any meter, whatever the protocol."""

    def read_serial(self) -> str:
        """The meter's factory serial number."""

    def read_snapshot(self) -> MeterSnapshot:
        """All cumulative registers, the clock and the status flags."""

    def read_profile(self, since: int, until: int) -> list[IntervalRecord]:
        """Half-hour records with `since <= start < until`; `NotSupported` when the meter keeps none."""

    def close(self) -> None:
        """Release the line."""


class MeterError(Exception):
    """Any failure talking to one meter; the gateway logs it and goes on with the next meter."""

    def __init__(self, meter: str, message: str) -> None:
        super().__init__(f"meter {meter}: {message}")
        self.meter = meter
        """Port and address (or serial) of the meter, so the log says which one failed."""


class MeterTimeout(MeterError):
    """No complete answer before the deadline (one attempt)."""


class FrameError(MeterError):
    """Bytes arrived but did not form a valid frame (one attempt)."""


class CrcError(FrameError):
    """A frame arrived whose checksum (CRC16, BCC, HDLC FCS) is wrong."""


class MeterProtocolError(MeterError):
    """The meter answered with a valid frame that says no (error code, exception response, refused password)."""


class MeterUnreachable(MeterError):
    """Every attempt timed out: the meter is silent, unpowered or the line is cut."""


class NotSupported(MeterError):
    """The meter or protocol has no such data (e.g. no profile memory)."""


TRANSIENT_ERRORS = (MeterTimeout, FrameError)
"""Errors that a retry may cure: line noise, a collision, a meter that was busy."""

T = TypeVar("T")


def with_retries(meter: str, attempts: int, operation: Callable[[], T]) -> T:
    """Run `operation` up to `attempts` times while it fails transiently.

    After the last attempt: `MeterUnreachable` if every failure was a timeout, else the last framing error
    (so a meter that answers garbage is told apart from a silent one). Protocol errors are not retried.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    failures: list[MeterError] = []
    for _ in range(attempts):
        try:
            return operation()
        except TRANSIENT_ERRORS as error:
            failures.append(error)
    if all(isinstance(error, MeterTimeout) for error in failures):
        raise MeterUnreachable(meter, f"no answer in {attempts} attempts") from failures[-1]
    raise failures[-1]


def kwh_float_to_wh(kwh: float) -> int:
    """Integer Wh from a protocol's float kWh: exact binary value times 1000, rounded half up.

    The float is taken at its exact binary value (no decimal re-parsing), so the result is deterministic.
    A float32 register carries 24 bits of mantissa: above 16,777.216 kWh its step exceeds 1 Wh, which is
    the meter's own resolution limit, not a conversion loss.
    """
    if not math.isfinite(kwh) or kwh < 0:
        raise ValueError(f"energy register must be a finite non-negative number, got {kwh!r}")
    return math.floor(Fraction(kwh) * 1000 + Fraction(1, 2))

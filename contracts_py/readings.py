"""Meter readings: half-hourly cumulative registers A+ (import) and A- (export) per meter, and meter events.

State layout (one storage key per meter on the hot path): `MeterState` holds the meter's reading configuration
(bound gateway, plausible maximum power, remote or manual reading, hourly profile, UTC offset), its last known
interval and registers, a few open gaps, and the running totals of its current billing month (`MonthTotals`). A
reading transaction reads and writes that one key. When the first reading of a new local month arrives, the
closed month moves to its own archive key (`_month_key`), once per meter and month. The half-hourly values
themselves live in the transactions and in `ReadingRecorded` events (the indexer keeps them).

Registers are as the meter counts them (secondary side); billing applies the transformer ratios and losses.
Each accepted reading attributes the register increase since the previous known reading to its own interval:
to the month totals, to one of 48 local half-hour-of-day buckets (any zone schedule on half-hour boundaries is
summed from them at billing time), and, for meters profiled hourly, to one bucket per local hour of the month.

Order: a gateway sends each meter's intervals oldest first, so nearly every reading is newer than the last one.
A newer reading that skips intervals opens a gap: its whole increase is attributed to it, and the gap keeps both
known register pairs. A late reading that falls inside an open gap (backfill) is accepted if its registers fit
between the gap's registers (and are plausible on both sides): its part of the increase moves from the interval
that closed the gap to the late one, and the gap splits. At most `MAX_GAPS` gaps are kept (the oldest is
dropped). An interval older than the last one and outside every gap was recorded before; its value is no longer
held, so a second submission is rejected as already recorded (the indexer can compare it with the first).

Rejections: a single `postReading` that breaks a rule (decreasing, implausible power, from the future, not on
the half-hour grid, outside a gap's registers, already recorded) reverts with the reason. In a batch each such
reading is skipped with a `ReadingRejectedEvent` carrying the reason, and the good ones are kept; only a sender
that is not the meter's bound gateway (or lost the gateway role), an unknown meter or malformed arrays revert a
batch. The same value again is a no-op; a different value for a known interval is a conflict: not applied, but
counted in the meter's state and reported by a `ReadingConflict` event (the transaction succeeds).

A meter replacement is explicit: the old meter's final registers are recorded, then the baseline resets to the
new meter's registers. Every month counts its recorded intervals, so billing knows how many are missing.
Local time is UTC plus the meter's offset (data, e.g. 10800 for Europe/Moscow); a month runs from local
00:00 of its first day to local 00:00 of the next month's first day.
"""

from __future__ import annotations

from collections.abc import Callable
import struct
from dataclasses import dataclass, replace
from enum import IntEnum

from contracts_py import registry
from contracts_py.billing.periods import civil_from_days, days_from_civil
from contracts_py.participants import Role, has_role
from contracts_py.abi import Address, Bool, Indexed, String, Uint8, Uint64, Uint64Array, Uint256, Uint256Array
from contracts_py.runtime import Context, NativeContract, Revert, event, external, internal, require, view

ADDRESS = registry.READINGS_ADDRESS

INTERVAL_S = 1800
"""A metering interval: 30 minutes, aligned to the half hour."""
HALF_HOURS_PER_DAY = 48
FUTURE_ALLOWANCE_S = 300
"""How far an interval's end may be ahead of the block timestamp (clock skew between gateway and proposer)."""
MAX_GAPS = 8
"""Open gaps kept per meter for backfill; beyond this the oldest gap can no longer be filled."""
MAX_BATCH = 2_000
"""Intervals in one posting (six weeks of one meter): bounds a transaction's work."""
BUCKET_BYTES = 6
"""Width of one packed Wh bucket (up to 281 TWh)."""
MAX_UTC_OFFSET_S = 14 * 3600


class Rejection(IntEnum):
    """Why a reading was not recorded; the number appears in `ReadingRejected` events."""

    MISALIGNED = 1
    FROM_FUTURE = 2
    DECREASING = 3
    IMPLAUSIBLE = 4
    BEFORE_BASELINE = 5
    ALREADY_RECORDED = 6
    OUT_OF_GAP_RANGE = 7


class MeterEventKind(IntEnum):
    """Meter events a gateway reports; the odd ones raise an alarm, the next even one clears it."""

    COVER_OPEN = 1
    COVER_CLOSED = 2
    POWER_LOSS = 3
    POWER_RESTORED = 4
    FIRMWARE_INTEGRITY_FAILURE = 5
    FIRMWARE_RESTORED = 6
    MAGNETIC_FIELD = 7
    MAGNETIC_FIELD_GONE = 8


class ReadingRejected(Revert):
    """A reading that breaks a rule: reverts a single posting, is skipped (with an event) within a batch."""

    def __init__(self, code: Rejection, reason: str) -> None:
        super().__init__(reason)
        self.code = code


# --- local time, integers only --------------------------------------------------------------------------------

def month_of(timestamp: int, utc_offset_s: int) -> int:
    """The local billing month (YYYYMM) that a UTC instant falls in."""
    year, month, _ = civil_from_days((timestamp + utc_offset_s) // 86400)
    return year * 100 + month


def month_bounds(month: int, utc_offset_s: int) -> tuple[int, int]:
    """UTC seconds of local 00:00 on the month's first day and on the next month's first day (exclusive)."""
    year, mon = divmod(month, 100)
    if not 1 <= mon <= 12:
        raise Revert(f"month {month} is not YYYYMM")
    following = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return (days_from_civil(year, mon, 1) * 86400 - utc_offset_s,
            days_from_civil(*following, 1) * 86400 - utc_offset_s)


# --- records --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MonthTotals:
    """Consumption attributed to one local month so far; buckets are packed big-endian `BUCKET_BYTES` ints."""

    month: int
    """YYYYMM in local time."""
    start: int
    """UTC seconds of local 00:00 on the first day."""
    end: int
    """UTC seconds of local 00:00 on the next month's first day (exclusive)."""
    import_wh: int
    export_wh: int
    intervals: int
    """Intervals of this month with an accepted reading."""
    half_hour_import: bytes
    """48 buckets: Wh imported in each local half hour of the day, summed over the month."""
    half_hour_export: bytes
    hourly_import: bytes
    """One bucket per local hour of the month for meters profiled hourly, else empty."""
    hourly_export: bytes


@dataclass(frozen=True, slots=True)
class Gap:
    """Two known readings with missing intervals between them; the increase went to `after_start`."""

    before_start: int
    after_start: int
    before_import: int
    before_export: int
    after_import: int
    after_export: int


@dataclass(frozen=True, slots=True)
class MeterState:
    """Everything a reading needs about one meter, in one storage key."""

    gateway: bytes
    """The gateway bound to the meter; empty when none."""
    remote: bool
    """Read remotely by a gateway; otherwise the consumer types monthly values in."""
    hourly: bool
    """Keep per-hour totals of the month (accounts billed hourly); takes effect from the next month."""
    max_power_w: int
    utc_offset_s: int
    baseline_start: int
    """The interval whose end carries the registers of installation or replacement."""
    last_start: int
    """The newest interval with known end registers."""
    import_wh: int
    export_wh: int
    conflicts: int
    alarms: int
    """Bit k-1 set while alarm kind k (odd `MeterEventKind`) is raised."""
    gaps: tuple[Gap, ...]
    month: MonthTotals


@dataclass(frozen=True)
class MonthConsumption:
    """A meter's consumption in one local billing month, as billing reads it (`Readings.monthConsumption`).

    Energy is in Wh as the meter counts it (before transformer ratios and losses). The period is
    [period_start, period_end) in UTC seconds, i.e. local 00:00 of the 1st to local 00:00 of the next 1st."""

    meter_id: int
    month: int
    utc_offset_s: int
    period_start: int
    period_end: int
    import_wh: int
    export_wh: int
    half_hour_import_wh: tuple[int, ...]
    """48 values, index = local half hour of the day (0 = 00:00-00:30), summed over the month."""
    half_hour_export_wh: tuple[int, ...]
    hourly_import_wh: tuple[int, ...]
    """One value per local hour of the month (index 0 = 00:00-01:00 on the 1st); empty unless profiled hourly."""
    hourly_export_wh: tuple[int, ...]
    intervals_expected: int
    intervals_recorded: int

    @property
    def intervals_missing(self) -> int:
        return self.intervals_expected - self.intervals_recorded

    @property
    def complete(self) -> bool:
        return self.intervals_recorded == self.intervals_expected


# --- storage encoding: fixed-width fields, because this record is read and written by every reading ---------
# (The generic RLP record codec costs ~280 us per decode+encode of this record; struct packing costs a few us.)

_METER_HEAD = struct.Struct(">B20s??QIQQQQIIB")
_GAP = struct.Struct(">QQQQQQ")
_MONTH_HEAD = struct.Struct(">IQQQQIH")
STORAGE_VERSION = 1
MAX_REGISTER_WH = 2**64 - 1
"""Registers are stored in 8 bytes; a larger value is rejected as implausible."""


def encode_month(totals: MonthTotals) -> bytes:
    hours = len(totals.hourly_import) // BUCKET_BYTES
    return b"".join((_MONTH_HEAD.pack(totals.month, totals.start, totals.end, totals.import_wh, totals.export_wh,
                                      totals.intervals, hours),
                     totals.half_hour_import, totals.half_hour_export, totals.hourly_import, totals.hourly_export))


def decode_month(data: bytes, at: int = 0) -> MonthTotals:
    month, start, end, import_wh, export_wh, intervals, hours = _MONTH_HEAD.unpack_from(data, at)
    at += _MONTH_HEAD.size
    day = BUCKET_BYTES * HALF_HOURS_PER_DAY
    span = BUCKET_BYTES * hours
    return MonthTotals(month, start, end, import_wh, export_wh, intervals, data[at:at + day],
                       data[at + day:at + 2 * day], data[at + 2 * day:at + 2 * day + span],
                       data[at + 2 * day + span:at + 2 * day + 2 * span])


def encode_meter_state(meter: MeterState) -> bytes:
    head = _METER_HEAD.pack(STORAGE_VERSION, meter.gateway or bytes(20), meter.remote, meter.hourly,
                            meter.max_power_w, meter.utc_offset_s, meter.baseline_start, meter.last_start,
                            meter.import_wh, meter.export_wh, meter.conflicts, meter.alarms, len(meter.gaps))
    gaps = b"".join(_GAP.pack(g.before_start, g.after_start, g.before_import, g.before_export, g.after_import,
                              g.after_export) for g in meter.gaps)
    return head + gaps + encode_month(meter.month)


def decode_meter_state(data: bytes) -> MeterState:
    (version, gateway, remote, hourly, max_power_w, utc_offset_s, baseline_start, last_start, import_wh, export_wh,
     conflicts, alarms, gap_count) = _METER_HEAD.unpack_from(data)
    if version != STORAGE_VERSION:
        raise Revert(f"meter record version {version} is not {STORAGE_VERSION}")
    at = _METER_HEAD.size
    gaps = tuple(Gap(*_GAP.unpack_from(data, at + i * _GAP.size)) for i in range(gap_count))
    month = decode_month(data, at + gap_count * _GAP.size)
    return MeterState(b"" if gateway == bytes(20) else gateway, remote, hourly, max_power_w, utc_offset_s,
                      baseline_start, last_start, import_wh, export_wh, conflicts, alarms, gaps, month)


def zone_totals(half_hour_wh: tuple[int, ...], zone_of_half_hour: tuple[int, ...]) -> tuple[int, ...]:
    """Sum 48 half-hour-of-day buckets into zones: `zone_of_half_hour[h]` is the zone index of half hour h."""
    if len(zone_of_half_hour) != HALF_HOURS_PER_DAY:
        raise Revert(f"a zone schedule names {HALF_HOURS_PER_DAY} half hours, got {len(zone_of_half_hour)}")
    totals = [0] * (max(zone_of_half_hour) + 1)
    for wh, zone in zip(half_hour_wh, zone_of_half_hour):
        totals[zone] += wh
    return tuple(totals)


def _unpack(buckets: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(buckets[i:i + BUCKET_BYTES], "big") for i in range(0, len(buckets), BUCKET_BYTES))


def _bump(buckets: bytes, index: int, delta: int) -> bytes:
    at = index * BUCKET_BYTES
    value = int.from_bytes(buckets[at:at + BUCKET_BYTES], "big") + delta
    return buckets[:at] + value.to_bytes(BUCKET_BYTES, "big") + buckets[at + BUCKET_BYTES:]


def empty_month(month: int, utc_offset_s: int, hourly: bool) -> MonthTotals:
    start, end = month_bounds(month, utc_offset_s)
    hours = bytes(BUCKET_BYTES * ((end - start) // 3600)) if hourly else b""
    zeros = bytes(BUCKET_BYTES * HALF_HOURS_PER_DAY)
    return MonthTotals(month, start, end, 0, 0, 0, zeros, zeros, hours, hours)


def _attribute(totals: MonthTotals, start: int, offset: int, d_import: int, d_export: int,
               intervals: int) -> MonthTotals:
    """Add (or with negative deltas, take back) an increase attributed to the interval at `start`."""
    half_hour = (start + offset) % 86400 // INTERVAL_S
    hourly_import, hourly_export = totals.hourly_import, totals.hourly_export
    if hourly_import:
        hour = (start - totals.start) // 3600
        hourly_import = _bump(hourly_import, hour, d_import)
        hourly_export = _bump(hourly_export, hour, d_export)
    return MonthTotals(  # built field by field: `replace` costs more than the rest of a reading's rules
        totals.month, totals.start, totals.end, totals.import_wh + d_import, totals.export_wh + d_export,
        totals.intervals + intervals,
        _bump(totals.half_hour_import, half_hour, d_import) if d_import else totals.half_hour_import,
        _bump(totals.half_hour_export, half_hour, d_export) if d_export else totals.half_hour_export,
        hourly_import, hourly_export)


# --- the rules, pure functions over a meter's state -----------------------------------------------------------

class Outcome(IntEnum):
    """What became of a reading that broke no rule."""

    RECORDED = 0
    DUPLICATE = 1
    """The same value for a known interval again: nothing changes."""
    CONFLICT = 2
    """A different value for a known interval: rejected, counted in `MeterState.conflicts`."""


MonthLoader = Callable[[int], "MonthTotals | None"]


def _rise(prev_start: int, prev_import: int, prev_export: int, start: int, import_wh: int, export_wh: int,
          max_power_w: int) -> tuple[int, int]:
    """The register increase from one reading to a later one, checked for decrease and plausible power."""
    if import_wh < prev_import or export_wh < prev_export:
        raise ReadingRejected(Rejection.DECREASING, (
            f"registers decrease: interval {start} has A+ {import_wh} A- {export_wh} Wh, "
            f"interval {prev_start} had A+ {prev_import} A- {prev_export} Wh"))
    d_import, d_export = import_wh - prev_import, export_wh - prev_export
    allowed = max_power_w * (start - prev_start)
    if max(d_import, d_export) * 3600 > allowed:
        raise ReadingRejected(Rejection.IMPLAUSIBLE, (
            f"implausible: {max(d_import, d_export)} Wh in {start - prev_start} s exceeds the meter's maximum "
            f"power of {max_power_w} W"))
    return d_import, d_export


def _compare(meter: MeterState, start: int, import_wh: int, export_wh: int, known_import: int,
             known_export: int) -> tuple[MeterState, Outcome, int, int]:
    if (import_wh, export_wh) == (known_import, known_export):
        return meter, Outcome.DUPLICATE, 0, 0
    return replace(meter, conflicts=meter.conflicts + 1), Outcome.CONFLICT, known_import, known_export


def _month_for(meter: MeterState, start: int, archived: dict[int, MonthTotals], load: MonthLoader) -> MonthTotals:
    if meter.month.start <= start < meter.month.end:
        return meter.month
    month = month_of(start, meter.utc_offset_s)
    if month not in archived:
        archived[month] = load(month) or empty_month(month, meter.utc_offset_s, meter.hourly)
    return archived[month]


def _store_month(meter: MeterState, totals: MonthTotals, archived: dict[int, MonthTotals]) -> MeterState:
    if totals.month == meter.month.month:
        return replace(meter, month=totals)
    archived[totals.month] = totals
    return meter


def _record_newer(meter: MeterState, start: int, import_wh: int, export_wh: int,
                  archived: dict[int, MonthTotals]) -> tuple[MeterState, Outcome, int, int]:
    d_import, d_export = _rise(meter.last_start, meter.import_wh, meter.export_wh, start, import_wh, export_wh,
                               meter.max_power_w)
    gaps = meter.gaps
    if start - meter.last_start > INTERVAL_S:
        gap = Gap(meter.last_start, start, meter.import_wh, meter.export_wh, import_wh, export_wh)
        gaps = (gaps + (gap,))[-MAX_GAPS:]
    month = meter.month
    if start >= month.end:
        archived[month.month] = month
        month = empty_month(month_of(start, meter.utc_offset_s), meter.utc_offset_s, meter.hourly)
    month = _attribute(month, start, meter.utc_offset_s, d_import, d_export, 1)
    return (MeterState(meter.gateway, meter.remote, meter.hourly, meter.max_power_w, meter.utc_offset_s,
                       meter.baseline_start, start, import_wh, export_wh, meter.conflicts, meter.alarms, gaps, month),
            Outcome.RECORDED, d_import, d_export)


def _fill_gap(meter: MeterState, index: int, start: int, import_wh: int, export_wh: int,
              archived: dict[int, MonthTotals], load: MonthLoader) -> tuple[MeterState, Outcome, int, int]:
    """Backfill inside a gap: take the late interval's share of the increase from the interval that closed it."""
    gap = meter.gaps[index]
    if not (gap.before_import <= import_wh <= gap.after_import and gap.before_export <= export_wh <= gap.after_export):
        raise ReadingRejected(Rejection.OUT_OF_GAP_RANGE, (
            f"late interval {start} (A+ {import_wh}, A- {export_wh} Wh) does not fit between the known registers "
            f"of intervals {gap.before_start} and {gap.after_start}"))
    d_import, d_export = _rise(gap.before_start, gap.before_import, gap.before_export, start, import_wh, export_wh,
                               meter.max_power_w)
    _rise(start, import_wh, export_wh, gap.after_start, gap.after_import, gap.after_export, meter.max_power_w)
    offset = meter.utc_offset_s
    late = _attribute(_month_for(meter, start, archived, load), start, offset, d_import, d_export, 1)
    meter = _store_month(meter, late, archived)
    closing = _month_for(meter, gap.after_start, archived, load)
    meter = _store_month(meter, _attribute(closing, gap.after_start, offset, -d_import, -d_export, 0), archived)
    pieces = tuple(piece for piece in (
        Gap(gap.before_start, start, gap.before_import, gap.before_export, import_wh, export_wh),
        Gap(start, gap.after_start, import_wh, export_wh, gap.after_import, gap.after_export),
    ) if piece.after_start - piece.before_start > INTERVAL_S)
    gaps = (meter.gaps[:index] + pieces + meter.gaps[index + 1:])[-MAX_GAPS:]
    return replace(meter, gaps=gaps), Outcome.RECORDED, d_import, d_export


def record_reading(meter: MeterState, start: int, import_wh: int, export_wh: int, now: int,
                   archived: dict[int, MonthTotals], load: MonthLoader) -> tuple[MeterState, Outcome, int, int]:
    """Apply one interval reading to a meter's state.

    Returns the new state, the outcome and the increase recorded (for a conflict: the registers already known).
    Raises `ReadingRejected` for a reading that breaks a rule. Archived months touched are left in `archived`."""
    if import_wh > MAX_REGISTER_WH or export_wh > MAX_REGISTER_WH:
        raise ReadingRejected(Rejection.IMPLAUSIBLE, f"register value above {MAX_REGISTER_WH} Wh")
    if start % INTERVAL_S:
        raise ReadingRejected(Rejection.MISALIGNED, f"interval start {start} is not aligned to 30 minutes")
    if start + INTERVAL_S > now + FUTURE_ALLOWANCE_S:
        raise ReadingRejected(Rejection.FROM_FUTURE, (
            f"interval {start} ends at {start + INTERVAL_S}, in the future of block time {now}"))
    if start > meter.last_start:
        return _record_newer(meter, start, import_wh, export_wh, archived)
    if start == meter.last_start:
        return _compare(meter, start, import_wh, export_wh, meter.import_wh, meter.export_wh)
    if start < meter.baseline_start:
        raise ReadingRejected(Rejection.BEFORE_BASELINE, (
            f"interval {start} is before the meter's baseline interval {meter.baseline_start}"))
    for index, gap in enumerate(meter.gaps):
        if gap.before_start < start < gap.after_start:
            return _fill_gap(meter, index, start, import_wh, export_wh, archived, load)
        if start == gap.before_start:
            return _compare(meter, start, import_wh, export_wh, gap.before_import, gap.before_export)
        if start == gap.after_start:
            return _compare(meter, start, import_wh, export_wh, gap.after_import, gap.after_export)
    raise ReadingRejected(Rejection.ALREADY_RECORDED, (
        f"interval {start} was recorded before and is older than the last reading ({meter.last_start})"))


def new_meter_state(gateway: bytes, remote: bool, hourly: bool, max_power_w: int, utc_offset_s: int,
                    baseline_start: int, import_wh: int, export_wh: int) -> MeterState:
    """A meter's state at installation: its registers are known at the end of `baseline_start`."""
    month = empty_month(month_of(baseline_start, utc_offset_s), utc_offset_s, hourly)
    return MeterState(gateway, remote, hourly, max_power_w, utc_offset_s, baseline_start, baseline_start,
                      import_wh, export_wh, 0, 0, (), month)


# --- events ---------------------------------------------------------------------------------------------------

@event
class ReadingRecorded:
    meter_id: Indexed(Uint64)
    interval_start: Indexed(Uint64)
    import_wh: Uint256
    export_wh: Uint256
    delta_import_wh: Uint256
    delta_export_wh: Uint256
    manual: Bool


@event
class ReadingConflict:
    meter_id: Indexed(Uint64)
    interval_start: Indexed(Uint64)
    import_wh: Uint256
    export_wh: Uint256
    recorded_import_wh: Uint256
    recorded_export_wh: Uint256


@event
class ReadingRejectedEvent:
    meter_id: Indexed(Uint64)
    interval_start: Indexed(Uint64)
    code: Uint8
    reason: String


@event
class MonthArchived:
    """A month's totals as stored in its archive key: at the first reading of the next month, or after backfill."""

    meter_id: Indexed(Uint64)
    month: Indexed(Uint64)
    import_wh: Uint256
    export_wh: Uint256
    intervals: Uint64


@event
class MeterEventReported:
    meter_id: Indexed(Uint64)
    kind: Indexed(Uint8)
    at: Uint64
    alarms: Uint64


@event
class MeterReadingConfigured:
    meter_id: Indexed(Uint64)
    gateway: Address
    remote: Bool
    hourly: Bool
    max_power_w: Uint64
    utc_offset_s: Uint64


@event
class MeterBaselineReset:
    meter_id: Indexed(Uint64)
    interval_start: Indexed(Uint64)
    import_wh: Uint256
    export_wh: Uint256


def _meter_key(meter_id: int) -> bytes:
    return b"m" + meter_id.to_bytes(8, "big")


def _month_key(meter_id: int, month: int) -> bytes:
    return b"mm" + meter_id.to_bytes(8, "big") + month.to_bytes(4, "big")


def _write_meter(ctx: Context, meter_id: int, meter: MeterState) -> None:
    ctx.storage.set(_meter_key(meter_id), encode_meter_state(meter))


def _read_month(ctx: Context, meter_id: int, month: int) -> MonthTotals | None:
    data = ctx.storage.get(_month_key(meter_id, month))
    return None if data is None else decode_month(data)


class Readings(NativeContract):
    NAME = "Readings"
    EVENTS = (ReadingRecorded, ReadingConflict, ReadingRejectedEvent, MonthArchived, MeterEventReported,
              MeterReadingConfigured, MeterBaselineReset)

    # --- storage --------------------------------------------------------------------------------------------

    @staticmethod
    def _load(ctx: Context, meter_id: int) -> MeterState:
        data = ctx.storage.get(_meter_key(meter_id))
        if data is None:
            raise Revert(f"unknown meter {meter_id}")
        return decode_meter_state(data)

    @staticmethod
    def _save(ctx: Context, meter_id: int, meter: MeterState, archived: dict[int, MonthTotals]) -> None:
        storage = ctx.storage
        for month, totals in archived.items():
            storage.set(_month_key(meter_id, month), encode_month(totals))
            ctx.emit(MonthArchived(meter_id=meter_id, month=month, import_wh=totals.import_wh,
                                 export_wh=totals.export_wh, intervals=totals.intervals))
        storage.set(_meter_key(meter_id), encode_meter_state(meter))

    @staticmethod
    def _loader(ctx: Context, meter_id: int) -> MonthLoader:
        return lambda month: _read_month(ctx, meter_id, month)

    def _apply(self, ctx: Context, meter_id: int, meter: MeterState, start: int, import_wh: int, export_wh: int,
               archived: dict[int, MonthTotals], manual: bool = False) -> tuple[MeterState, Outcome]:
        meter, outcome, first, second = record_reading(meter, start, import_wh, export_wh, ctx.block.timestamp,
                                                       archived, self._loader(ctx, meter_id))
        if outcome is Outcome.RECORDED:
            ctx.emit(ReadingRecorded(meter_id=meter_id, interval_start=start, import_wh=import_wh,
                                     export_wh=export_wh, delta_import_wh=first, delta_export_wh=second,
                                     manual=manual))
        elif outcome is Outcome.CONFLICT:
            ctx.emit(ReadingConflict(meter_id=meter_id, interval_start=start, import_wh=import_wh,
                                     export_wh=export_wh, recorded_import_wh=first, recorded_export_wh=second))
        return meter, outcome

    def _post_batch(self, ctx: Context, meter_id: int, meter: MeterState, starts: tuple, imports: tuple,
                    exports: tuple, counts: list[int]) -> None:
        """Apply a meter's intervals in order; a reading that breaks a rule is skipped with an event."""
        archived: dict[int, MonthTotals] = {}
        for start, import_wh, export_wh in zip(starts, imports, exports):
            try:
                meter, outcome = self._apply(ctx, meter_id, meter, start, import_wh, export_wh, archived)
                counts[outcome] += 1
            except ReadingRejected as rejected:
                counts[3] += 1
                ctx.emit(ReadingRejectedEvent(meter_id=meter_id, interval_start=start, code=int(rejected.code),
                                              reason=rejected.reason))
        self._save(ctx, meter_id, meter, archived)

    @staticmethod
    def _require_gateway(ctx: Context, meter_id: int, meter: MeterState) -> None:
        """The sender is the meter's bound gateway and still holds the gateway role (revocation stops it)."""
        if not meter.remote or meter.gateway != ctx.sender:
            raise Revert(f"0x{ctx.sender.hex()} is not the gateway bound to meter {meter_id}")
        if not has_role(ctx, ctx.sender, Role.GATEWAY):
            raise Revert(f"gateway 0x{ctx.sender.hex()} no longer holds the gateway role")

    # --- postings -------------------------------------------------------------------------------------------

    @external
    def postReading(self, ctx: Context, meterId: Uint64, intervalStart: Uint64, importWh: Uint256,
                    exportWh: Uint256) -> Uint8:
        """One interval from the bound gateway; a reading that breaks a rule reverts with the reason.

        Returns the `Outcome`: 0 recorded, 1 duplicate (no-op), 2 conflict (recorded as such)."""
        meter = self._load(ctx, meterId)
        self._require_gateway(ctx, meterId, meter)
        archived: dict[int, MonthTotals] = {}
        meter, outcome = self._apply(ctx, meterId, meter, intervalStart, importWh, exportWh, archived)
        if outcome is not Outcome.DUPLICATE:
            self._save(ctx, meterId, meter, archived)
        return int(outcome)

    @external
    def postReadings(self, ctx: Context, meterId: Uint64, intervalStarts: Uint64Array, importWh: Uint256Array,
                     exportWh: Uint256Array) -> tuple[Uint64, Uint64, Uint64, Uint64]:
        """Catch-up: many intervals of one meter, oldest first. Returns (recorded, duplicates, conflicts,
        rejected); rejected readings are skipped with a `ReadingRejectedEvent` and change nothing."""
        _require_batch(intervalStarts, importWh, exportWh)
        meter = self._load(ctx, meterId)
        self._require_gateway(ctx, meterId, meter)
        counts = [0, 0, 0, 0]
        self._post_batch(ctx, meterId, meter, intervalStarts, importWh, exportWh, counts)
        return tuple(counts)

    @external
    def postMeterReadings(self, ctx: Context, meterIds: Uint64Array, intervalStarts: Uint64Array,
                          importWh: Uint256Array, exportWh: Uint256Array) -> tuple[Uint64, Uint64, Uint64, Uint64]:
        """A gateway's batch for many meters: entry i is one interval of meter `meterIds[i]`, each meter's
        entries oldest first. Every meter must be bound to the sender; counts as in `postReadings`."""
        _require_batch(intervalStarts, importWh, exportWh)
        require(len(meterIds) == len(intervalStarts), "meterIds and intervalStarts differ in length")
        grouped: dict[int, list[int]] = {}
        for index, meter_id in enumerate(meterIds):
            grouped.setdefault(meter_id, []).append(index)
        counts = [0, 0, 0, 0]
        for meter_id, rows in grouped.items():
            meter = self._load(ctx, meter_id)
            self._require_gateway(ctx, meter_id, meter)
            self._post_batch(ctx, meter_id, meter, tuple(intervalStarts[i] for i in rows),
                             tuple(importWh[i] for i in rows), tuple(exportWh[i] for i in rows), counts)
        return tuple(counts)

    @external
    def postManualReading(self, ctx: Context, meterId: Uint64, importWh: Uint256, exportWh: Uint256) -> Uint8:
        """The consumer of the meter's account types in the registers of a meter without remote reading.

        The value is taken as of the end of the last whole half hour before the block; returns the `Outcome`."""
        meter = self._load(ctx, meterId)
        require(not meter.remote, f"meter {meterId} is read remotely; manual readings are not accepted")
        consumer = ctx.call(registry.ADDRESS, "meterConsumer", meterId)
        require(consumer == ctx.sender, f"0x{ctx.sender.hex()} is not the consumer of meter {meterId}'s account")
        start = ctx.block.timestamp // INTERVAL_S * INTERVAL_S - INTERVAL_S
        archived: dict[int, MonthTotals] = {}
        meter, outcome = self._apply(ctx, meterId, meter, start, importWh, exportWh, archived, manual=True)
        if outcome is not Outcome.DUPLICATE:
            self._save(ctx, meterId, meter, archived)
        return int(outcome)

    @external
    def postMeterEvent(self, ctx: Context, meterId: Uint64, kind: Uint8, at: Uint64) -> None:
        """A meter event from the bound gateway (`MeterEventKind`, `at` by the meter's clock)."""
        meter = self._load(ctx, meterId)
        self._require_gateway(ctx, meterId, meter)
        if kind not in MeterEventKind._value2member_map_:
            raise Revert(f"unknown meter event kind {kind}")
        bit = 1 << ((kind - 1) // 2)
        alarms = meter.alarms | bit if kind % 2 else meter.alarms & ~bit
        _write_meter(ctx, meterId, replace(meter, alarms=alarms))
        ctx.emit(MeterEventReported(meter_id=meterId, kind=kind, at=at, alarms=alarms))

    # --- called by the registry -----------------------------------------------------------------------------

    @staticmethod
    def _require_registry(ctx: Context) -> None:
        require(ctx.sender == registry.ADDRESS, "only the registry configures meters")

    @internal
    def setupMeter(self, ctx: Context, meter_id: int, remote: bool, hourly: bool, max_power_w: int,
                   utc_offset_s: int, import_wh: int, export_wh: int, installed_at: int = 0) -> None:
        """A newly registered meter: its registers at installation are known at the end of the half hour
        starting `installed_at`, by default the last whole half hour."""
        self._require_registry(ctx)
        _require_config(max_power_w, utc_offset_s)
        require(ctx.storage.get(_meter_key(meter_id)) is None, f"meter {meter_id} already has readings state")
        last_whole = ctx.block.timestamp // INTERVAL_S * INTERVAL_S - INTERVAL_S
        baseline = installed_at or last_whole
        require(baseline % INTERVAL_S == 0, f"installation interval {baseline} is not on the half-hour grid")
        require(baseline <= last_whole, f"installation interval {baseline} is in the future")
        meter = new_meter_state(b"", remote, hourly, max_power_w, utc_offset_s, baseline, import_wh, export_wh)
        ctx.storage.set(_meter_key(meter_id), encode_meter_state(meter))
        self._emit_config(ctx, meter_id, meter)
        ctx.emit(MeterBaselineReset(meter_id=meter_id, interval_start=baseline, import_wh=import_wh,
                                    export_wh=export_wh))

    @internal
    def configureMeter(self, ctx: Context, meter_id: int, remote: bool, hourly: bool, max_power_w: int,
                       utc_offset_s: int) -> None:
        """New limits; `hourly` and the UTC offset shape month records, so they apply from the next month."""
        self._require_registry(ctx)
        _require_config(max_power_w, utc_offset_s)
        meter = replace(self._load(ctx, meter_id), remote=remote, hourly=hourly, max_power_w=max_power_w,
                        utc_offset_s=utc_offset_s)
        ctx.storage.set(_meter_key(meter_id), encode_meter_state(meter))
        self._emit_config(ctx, meter_id, meter)

    @internal
    def bindGateway(self, ctx: Context, meter_id: int, gateway: bytes) -> None:
        """Bind (or with empty bytes, unbind) the gateway whose postings the meter accepts."""
        self._require_registry(ctx)
        meter = replace(self._load(ctx, meter_id), gateway=gateway)
        ctx.storage.set(_meter_key(meter_id), encode_meter_state(meter))
        self._emit_config(ctx, meter_id, meter)

    @internal
    def replaceMeter(self, ctx: Context, meter_id: int, interval_start: int, old_import_wh: int,
                     old_export_wh: int, new_import_wh: int, new_export_wh: int) -> None:
        """Record the old meter's final registers at the end of `interval_start`, then restart from the new
        meter's registers there. Gaps before the replacement can no longer be filled."""
        self._require_registry(ctx)
        meter = self._load(ctx, meter_id)
        require(interval_start >= meter.last_start,
                f"a replacement at interval {interval_start} must not precede the last reading ({meter.last_start})")
        archived: dict[int, MonthTotals] = {}
        meter, outcome = self._apply(ctx, meter_id, meter, interval_start, old_import_wh, old_export_wh, archived)
        require(outcome is not Outcome.CONFLICT,
                f"the old meter's final registers differ from those recorded for interval {interval_start}")
        meter = replace(meter, baseline_start=interval_start, import_wh=new_import_wh, export_wh=new_export_wh,
                        gaps=())
        self._save(ctx, meter_id, meter, archived)
        ctx.emit(MeterBaselineReset(meter_id=meter_id, interval_start=interval_start, import_wh=new_import_wh,
                                    export_wh=new_export_wh))

    @staticmethod
    def _emit_config(ctx: Context, meter_id: int, meter: MeterState) -> None:
        ctx.emit(MeterReadingConfigured(meter_id=meter_id, gateway=meter.gateway or bytes(20), remote=meter.remote,
                                        hourly=meter.hourly, max_power_w=meter.max_power_w,
                                        utc_offset_s=meter.utc_offset_s))

    # --- for billing and for RPC ----------------------------------------------------------------------------

    @internal
    def monthConsumption(self, ctx: Context, meter_id: int, month: int) -> MonthConsumption:
        """A meter's `MonthConsumption` for local month YYYYMM: the billing interface.

        Reverts for an unknown meter. A month without any reading has zero energy and every interval missing."""
        meter = self._load(ctx, meter_id)
        if month == meter.month.month:
            totals = meter.month
        else:
            totals = (_read_month(ctx, meter_id, month)
                      or empty_month(month, meter.utc_offset_s, meter.hourly))
        return MonthConsumption(
            meter_id=meter_id, month=month, utc_offset_s=meter.utc_offset_s, period_start=totals.start,
            period_end=totals.end, import_wh=totals.import_wh, export_wh=totals.export_wh,
            half_hour_import_wh=_unpack(totals.half_hour_import), half_hour_export_wh=_unpack(totals.half_hour_export),
            hourly_import_wh=_unpack(totals.hourly_import), hourly_export_wh=_unpack(totals.hourly_export),
            intervals_expected=(totals.end - totals.start) // INTERVAL_S, intervals_recorded=totals.intervals)

    @view
    def meterMonth(self, ctx: Context, meterId: Uint64, month: Uint64) -> tuple[
            Uint256, Uint256, Uint64, Uint64, Uint64, Uint64, Uint256Array, Uint256Array, Uint256Array, Uint256Array]:
        """(importWh, exportWh, intervalsExpected, intervalsRecorded, periodStart, periodEnd, halfHourImportWh[48],
        halfHourExportWh[48], hourlyImportWh[], hourlyExportWh[]) as in `MonthConsumption`."""
        c = self.monthConsumption(ctx, meterId, month)
        return (c.import_wh, c.export_wh, c.intervals_expected, c.intervals_recorded, c.period_start, c.period_end,
                c.half_hour_import_wh, c.half_hour_export_wh, c.hourly_import_wh, c.hourly_export_wh)

    @view
    def zoneConsumption(self, ctx: Context, meterId: Uint64, month: Uint64,
                        zoneOfHalfHour: Uint64Array) -> tuple[Uint256Array, Uint256Array]:
        """Import and export Wh per zone, for a schedule naming the zone of each of the 48 local half hours."""
        c = self.monthConsumption(ctx, meterId, month)
        return zone_totals(c.half_hour_import_wh, zoneOfHalfHour), zone_totals(c.half_hour_export_wh, zoneOfHalfHour)

    @view
    def meterState(self, ctx: Context, meterId: Uint64) -> tuple[
            Address, Bool, Bool, Uint64, Uint64, Uint64, Uint64, Uint256, Uint256, Uint64, Uint64, Uint64]:
        """(gateway, remote, hourly, maxPowerW, utcOffsetS, baselineStart, lastIntervalStart, importWh, exportWh,
        conflicts, alarms, openGaps)."""
        m = self._load(ctx, meterId)
        return (m.gateway or bytes(20), m.remote, m.hourly, m.max_power_w, m.utc_offset_s, m.baseline_start,
                m.last_start, m.import_wh, m.export_wh, m.conflicts, m.alarms, len(m.gaps))


def _require_batch(starts: tuple, imports: tuple, exports: tuple) -> None:
    require(len(starts) == len(imports) == len(exports),
            f"arrays differ in length: {len(starts)} starts, {len(imports)} import, {len(exports)} export values")
    require(0 < len(starts) <= MAX_BATCH, f"a posting carries 1 to {MAX_BATCH} intervals, got {len(starts)}")


def _require_config(max_power_w: int, utc_offset_s: int) -> None:
    require(max_power_w > 0, "a meter's maximum plausible power must be positive")
    require(0 <= utc_offset_s <= MAX_UTC_OFFSET_S, f"UTC offset {utc_offset_s} s is out of range")

"""Actual and reserved capacity of a legal entity for a calendar month.

Retail market rules (Government decree 442, and 861 for the reserve): the actual capacity of a month is the average,
over the month's working days, of the consumer's hourly consumption in the system operator's planned peak hour of
each working day; the reserved capacity is the connection's maximum capacity minus that actual capacity. The peak
hours are published data: the system operator's table of the month, imported here into the participant's off-chain
database (one row per working day), like the weather series. Consumption comes from the read model (half-hourly
increases of the account's meters, times their CT x VT ratios, with their losses) and goes through the billing
rules that hourly capacity billing uses (`hourly_volumes`, `peak_capacity`), so the figure and the invoice agree.

One hour's Wh is that hour's average power in W, so the average of the peak hours' Wh is the actual capacity in W,
rounded once, half up, to the whole W (`round_half_up`)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass

from contracts_py.billing.hourly import HOURS_PER_DAY, HourlyPrices, hourly_volumes, peak_capacity
from contracts_py.billing.losses import LossAdjustment, adjust
from contracts_py.billing.periods import add_months, days_in_period, period_start
from indexer.store import Readers

SCHEMA = "CREATE TABLE IF NOT EXISTS peak_hours (day INTEGER PRIMARY KEY, hour INTEGER NOT NULL)"
"""day: local date as yyyymmdd; hour: the local hour [hour, hour+1) of the system operator's peak."""
ROW = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*[,;]\s*(\d{1,2})\s*")


class PeakHoursError(ValueError):
    """A peak-hours CSV row that is not `date,hour`, or a month without published peak hours."""


@dataclass(frozen=True)
class PeakDay:
    """One working day of the table behind the figure."""

    day: dt.date
    hour: int
    """Local peak hour [hour, hour + 1)."""
    wh: int
    """Consumption in that hour: its average power in W."""
    intervals: int
    """Half-hourly readings found in that hour over all meters (2 per meter when complete)."""


@dataclass(frozen=True)
class MonthCapacity:
    period: int
    max_capacity_w: int
    """Sum of the maximum capacities of the account's meters (registry)."""
    actual_w: int
    days: tuple[PeakDay, ...]
    meters: int

    @property
    def reserved_w(self) -> int:
        """Maximum minus actual capacity; zero when the actual capacity exceeds the maximum."""
        return max(0, self.max_capacity_w - self.actual_w)

    @property
    def total_wh(self) -> int:
        return sum(d.wh for d in self.days)

    @property
    def complete(self) -> bool:
        return all(d.intervals == 2 * self.meters for d in self.days)


def parse_csv(text: str) -> list[tuple[int, int]]:
    """Rows `2026-10-01,18` (a working day's peak hour, Moscow time) as (yyyymmdd, hour); a header is allowed."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or (number == 1 and not line.strip()[0].isdigit()):
            continue
        match = ROW.fullmatch(line)
        if match is None:
            raise PeakHoursError(f"line {number}: expected date,hour, got {line[:60]!r}")
        try:
            day = dt.date.fromisoformat(match.group(1))
        except ValueError:
            raise PeakHoursError(f"line {number}: {match.group(1)!r} is not a date") from None
        hour = int(match.group(2))
        if not 0 <= hour < HOURS_PER_DAY:
            raise PeakHoursError(f"line {number}: hour {hour} is not 0 to 23")
        rows.append((day.year * 10_000 + day.month * 100 + day.day, hour))
    if not rows:
        raise PeakHoursError("no peak hours in the file")
    return rows


def save(db: sqlite3.Connection, rows: list[tuple[int, int]]) -> None:
    with db:
        db.execute(SCHEMA)
        db.executemany("INSERT OR REPLACE INTO peak_hours VALUES (?, ?)", rows)


def month_peak_hours(db: sqlite3.Connection, period: int) -> list[tuple[int, int]]:
    """(day of month, hour) of the period's working days, ascending."""
    db.execute(SCHEMA)
    rows = db.execute("SELECT day, hour FROM peak_hours WHERE day / 100 = ? ORDER BY day", (period,)).fetchall()
    return [(day % 100, hour) for day, hour in rows]


def month_capacity(readers: Readers, account_number: int, period: int, peak_hours: list[tuple[int, int]]
                   ) -> MonthCapacity:
    """The account's actual and reserved capacity in `period` (yyyymm) for the month's published peak hours."""
    if not peak_hours:
        raise PeakHoursError(f"no peak hours published for {period // 100}-{period % 100:02d}")
    meters = readers.query("SELECT * FROM meters WHERE account_number = ? ORDER BY meter_id", [account_number])
    offsets = {m["utc_offset_s"] for m in meters}
    if len(offsets) > 1:
        raise PeakHoursError(f"the meters of account {account_number} keep different local times")
    offset = offsets.pop() if offsets else 0
    hours = days_in_period(period) * HOURS_PER_DAY
    indices = tuple((day - 1) * HOURS_PER_DAY + hour for day, hour in peak_hours)
    total, counts = [0] * hours, [0] * hours
    start, end = period_start(period, offset), period_start(add_months(period, 1), offset)
    for meter in meters:
        rows = readers.query("SELECT interval_start, delta_import_wh FROM readings WHERE meter_id = ? AND "
                             "interval_start >= ? AND interval_start < ?", [meter["meter_id"], start, end])
        ratio = (meter["ct_ratio"] or 1) * (meter["vt_ratio"] or 1)
        metered = hourly_volumes(((r["interval_start"], r["delta_import_wh"] * ratio) for r in rows), period, offset)
        for index, wh in enumerate(adjust(metered, LossAdjustment(meter["loss_ppm"] or 0, 0, False))):
            total[index] += wh
        for r in rows:
            counts[(r["interval_start"] - start) // 3_600] += 1
    peaks = HourlyPrices(period, (), indices, 0, 0, 0, 0)  # only the peak hours matter for the average
    actual_w, _kopecks = peak_capacity(total, peaks)
    year, month = divmod(period, 100)
    days = tuple(PeakDay(dt.date(year, month, day), hour, total[index], counts[index])
                 for (day, hour), index in zip(peak_hours, indices))
    return MonthCapacity(period, sum(m["max_power_w"] or 0 for m in meters), actual_w, days, len(meters))

"""Calendar arithmetic in integers: civil dates, billing periods, local time from a UTC offset given as data.

Dates are `yyyymmdd` integers and billing periods `yyyymm` integers. Local time is UTC plus a fixed offset
(Europe/Moscow is +3 h with no DST since 2014), never the machine's time zone database. Every dated parameter
carries an `effective_from` date; `in_force` picks the version that applies to a billing period."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from contracts_py.billing.errors import BillingError, NotInForce

SECONDS_PER_DAY = 86_400
HALF_HOUR = 1_800
HALF_HOURS_PER_DAY = 48
MOSCOW_UTC_OFFSET = 3 * 3_600
"""Europe/Moscow (and Tatarstan): UTC+3 all year. Reference value for genesis and tests."""


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a count of days since 1970-01-01."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def check_period(period: int) -> tuple[int, int]:
    """(year, month) of a `yyyymm` period, or BillingError."""
    year, month = divmod(period, 100)
    if not 1 <= month <= 12 or not 1970 <= year <= 9999:
        raise BillingError(f"billing period {period} is not a yyyymm month")
    return year, month


def next_period(period: int) -> int:
    year, month = check_period(period)
    return (year + 1) * 100 + 1 if month == 12 else period + 1


def add_months(period: int, months: int) -> int:
    """The period `months` after (or before, if negative) `period`."""
    year, month = check_period(period)
    index = year * 12 + month - 1 + months
    return (index // 12) * 100 + index % 12 + 1


def days_in_period(period: int) -> int:
    year, month = check_period(period)
    next_year, next_month = divmod(next_period(period), 100)
    return days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1)


def period_start(period: int, utc_offset: int) -> int:
    """UTC timestamp of local midnight starting the period."""
    year, month = check_period(period)
    return days_from_civil(year, month, 1) * SECONDS_PER_DAY - utc_offset


def period_of(timestamp: int, utc_offset: int) -> int:
    """The `yyyymm` local billing period that a UTC timestamp falls in."""
    year, month, _ = civil_from_days((timestamp + utc_offset) // SECONDS_PER_DAY)
    return year * 100 + month


def local_date(timestamp: int, utc_offset: int) -> int:
    """The local `yyyymmdd` date of a UTC timestamp."""
    year, month, day = civil_from_days((timestamp + utc_offset) // SECONDS_PER_DAY)
    return year * 10_000 + month * 100 + day


def half_hour_of_day(timestamp: int, utc_offset: int) -> int:
    """Index 0..47 of the local half-hour that starts at or contains `timestamp`."""
    return (timestamp + utc_offset) // HALF_HOUR % HALF_HOURS_PER_DAY


def check_utc_offset(utc_offset: int) -> None:
    """Offsets are whole half-hours east of UTC (Russia: +2 h to +12 h), so half-hours map onto local ones."""
    if utc_offset % HALF_HOUR or not 0 <= utc_offset <= 14 * 3_600:
        raise BillingError(f"UTC offset {utc_offset} s is not a whole number of half-hours between 0 and +14 h")


def check_date(date: int) -> None:
    year, rest = divmod(date, 10_000)
    month, day = divmod(rest, 100)
    if not 1 <= month <= 12 or not 1970 <= year <= 9999 or not 1 <= day <= days_in_period(year * 100 + month):
        raise BillingError(f"date {date} is not a valid yyyymmdd date")


class Dated(Protocol):
    effective_from: int


DatedT = TypeVar("DatedT", bound=Dated)


def in_force(versions: Iterable[DatedT], period: int) -> DatedT:
    """The version with the latest `effective_from` on or before the first day of `period`."""
    first_day = period * 100 + 1
    chosen = None
    for version in versions:
        if version.effective_from <= first_day and (chosen is None or version.effective_from > chosen.effective_from):
            chosen = version
    if chosen is None:
        raise NotInForce(f"no version is in force for period {period}")
    return chosen

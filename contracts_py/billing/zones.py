"""Zones of the day: which tariff zone each local half-hour belongs to.

A zone schedule is data: spans of local minutes `[start, end)` with their zone, a span with start > end wrapping
past midnight. A valid schedule covers every minute of the day exactly once on the half-hour grid, so each
half-hourly interval falls in exactly one zone. Consumption is kept as a day profile: the month's Wh summed per
local half-hour of the day (48 buckets), from which any schedule's zone volumes follow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from contracts_py.billing.errors import ScheduleError
from contracts_py.billing.periods import HALF_HOURS_PER_DAY, check_utc_offset

MINUTES_PER_DAY = 1_440
GRID_MINUTES = 30


class Zone(IntEnum):
    """Tariff zones; the numbers are stored on-chain and never change meaning."""

    ALL_DAY = 0
    DAY = 1
    NIGHT = 2
    PEAK = 3
    HALF_PEAK = 4


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """Local minutes [start_minute, end_minute) of one zone; start > end wraps past midnight."""

    start_minute: int
    end_minute: int
    zone: int


SINGLE_RATE_ZONES = (ZoneSpan(0, MINUTES_PER_DAY, Zone.ALL_DAY),)
"""Reference schedules (FST order 1473-e), for genesis and tests; contracts take schedules from transactions."""
TWO_ZONES = (ZoneSpan(7 * 60, 23 * 60, Zone.DAY), ZoneSpan(23 * 60, 7 * 60, Zone.NIGHT))
THREE_ZONES = (
    ZoneSpan(7 * 60, 10 * 60, Zone.PEAK),
    ZoneSpan(10 * 60, 17 * 60, Zone.HALF_PEAK),
    ZoneSpan(17 * 60, 21 * 60, Zone.PEAK),
    ZoneSpan(21 * 60, 23 * 60, Zone.HALF_PEAK),
    ZoneSpan(23 * 60, 7 * 60, Zone.NIGHT),
)


def _segments(span: ZoneSpan) -> list[tuple[int, int]]:
    if span.start_minute < span.end_minute:
        return [(span.start_minute, span.end_minute)]
    return [(span.start_minute, MINUTES_PER_DAY), (0, span.end_minute)]


def zone_table(spans: Sequence[ZoneSpan]) -> tuple[int, ...]:
    """The zone of each of the 48 local half-hours, or ScheduleError saying where the schedule is wrong."""
    if not spans:
        raise ScheduleError("a zone schedule needs at least one span")
    segments = []
    for span in spans:
        if span.zone not in Zone._value2member_map_:
            raise ScheduleError(f"unknown zone {span.zone}")
        for minute in (span.start_minute, span.end_minute):
            if not 0 <= minute <= MINUTES_PER_DAY or minute % GRID_MINUTES:
                raise ScheduleError(f"zone boundary {minute} is not a half-hour between 0 and 1440 minutes")
        if span.start_minute == span.end_minute or (span.start_minute, span.end_minute) == (MINUTES_PER_DAY, 0):
            raise ScheduleError(f"empty zone span {span.start_minute}-{span.end_minute}")
        segments.extend((start, end, span.zone) for start, end in _segments(span) if start < end)
    segments.sort()
    covered_to = 0
    for start, end, _ in segments:
        if start > covered_to:
            raise ScheduleError(f"minutes {covered_to}-{start} belong to no zone")
        if start < covered_to:
            raise ScheduleError(f"zones overlap at minutes {start}-{min(end, covered_to)}")
        covered_to = end
    if covered_to != MINUTES_PER_DAY:
        raise ScheduleError(f"minutes {covered_to}-{MINUTES_PER_DAY} belong to no zone")
    table = [0] * HALF_HOURS_PER_DAY
    for start, end, zone in segments:
        for half_hour in range(start // GRID_MINUTES, end // GRID_MINUTES):
            table[half_hour] = zone
    return tuple(table)


def zones_of(spans: Sequence[ZoneSpan]) -> tuple[int, ...]:
    """The distinct zones of a schedule, in ascending order."""
    return tuple(sorted({span.zone for span in spans}))


def day_profile(intervals: Iterable[tuple[int, int]], utc_offset: int) -> tuple[int, ...]:
    """The Wh of half-hourly intervals `(utc start, Wh)` summed per local half-hour of the day."""
    check_utc_offset(utc_offset)
    buckets = [0] * HALF_HOURS_PER_DAY
    for start, energy in intervals:
        buckets[(start + utc_offset) // 1_800 % HALF_HOURS_PER_DAY] += energy
    return tuple(buckets)


def zone_volumes(profile: Sequence[int], table: Sequence[int]) -> dict[int, int]:
    """Wh per zone of a day profile under a zone table; every zone of the table appears, even at 0 Wh."""
    volumes = dict.fromkeys(sorted(set(table)), 0)
    for half_hour, energy in enumerate(profile):
        volumes[table[half_hour]] += energy
    return volumes
